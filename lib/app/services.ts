// Wiring: the configured stores and clients, created once per process.
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { CounterStore, EventStore } from '../core/ports.ts';
import { DynamoCounterStore } from '../table/counters-repo.ts';
import { DynamoEventStore } from '../table/events-repo.ts';
import { dynamoClient, sqsClient, type ClientProfile } from './aws.ts';
import { config, type Config } from './config.ts';

export interface Services {
  config: Config;
  store: EventStore;
  counters: CounterStore;
  sqs: SQSClient;
}

const services = new Map<ClientProfile, Services>();

/** The HTTP functions use the `request` profile (fail fast, 503); the processor `batch` (see aws.ts). */
export const getServices = (profile: ClientProfile = 'request'): Services => {
  let built = services.get(profile);
  if (!built) {
    const cfg = config();
    const dynamo = dynamoClient(profile);
    built = {
      config: cfg,
      store: new DynamoEventStore(dynamo, cfg.TABLE_NAME),
      counters: new DynamoCounterStore(dynamo, cfg.TABLE_NAME),
      sqs: sqsClient(profile),
    };
    services.set(profile, built);
  }
  return built;
};
