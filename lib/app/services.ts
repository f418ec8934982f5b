// Wiring: the configured stores and clients, created once per process.
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { CounterStore, EventStore } from '../core/ports.ts';
import { DynamoCounterStore } from '../table/counters-repo.ts';
import { DynamoEventStore } from '../table/events-repo.ts';
import { dynamoClient, sqsClient } from './aws.ts';
import { config, type Config } from './config.ts';

export interface Services {
  config: Config;
  store: EventStore;
  counters: CounterStore;
  sqs: SQSClient;
}

let services: Services | undefined;

export const getServices = (): Services => {
  if (!services) {
    const cfg = config();
    const dynamo = dynamoClient();
    services = {
      config: cfg,
      store: new DynamoEventStore(dynamo, cfg.TABLE_NAME),
      counters: new DynamoCounterStore(dynamo, cfg.TABLE_NAME),
      sqs: sqsClient(),
    };
  }
  return services;
};
