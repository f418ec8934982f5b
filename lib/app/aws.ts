// One SDK client per service per process, reused across invocations (connection reuse is most of the
// latency budget). Endpoints come from the standard variables (AWS_ENDPOINT_URL,
// AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_DYNAMODB), so this file does not know where it runs.
import http from 'node:http';
import https from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';

/** Keep-alive agents with room for the processor's concurrency; the benchmark measures with these too. */
export const requestHandlerSettings = () => ({
  connectionTimeout: 3_000,
  requestTimeout: 10_000,
  httpAgent: new http.Agent({ keepAlive: true, maxSockets: 128 }),
  httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 128 }),
});

const requestHandler = requestHandlerSettings();

let dynamo: DynamoDBDocumentClient | undefined;
let sqs: SQSClient | undefined;

export const dynamoClient = (): DynamoDBDocumentClient =>
  (dynamo ??= DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 5, requestHandler }), {
    marshallOptions: { removeUndefinedValues: true },
  }));

// Queue URLs from emulators name hosts like sqs.us-east-1.localhost that may not resolve; always send
// to the configured (or regional) endpoint, which on AWS is the same host.
export const sqsClient = (): SQSClient => (sqs ??= new SQSClient({ maxAttempts: 5, requestHandler, useQueueUrlAsEndpoint: false }));
