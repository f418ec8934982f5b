// Wiring: the configured store and clients, created once per process.
import { dynamoClient, sqsClient } from './aws.ts';
import { config, type Config } from './config.ts';
import { DynamoEventStore } from '../table/dynamo-store.ts';
import type { EventStore } from '../core/ports.ts';
import type { SQSClient } from '@aws-sdk/client-sqs';

export interface Services {
  config: Config;
  store: EventStore;
  sqs: SQSClient;
}

let services: Services | undefined;

export const getServices = (): Services => {
  if (!services) {
    const cfg = config();
    services = { config: cfg, store: new DynamoEventStore(dynamoClient(), cfg.TABLE_NAME), sqs: sqsClient() };
  }
  return services;
};
