// One SDK client per service per process, reused across invocations (connection reuse is most of the
// latency budget). Endpoints come from the standard variables (AWS_ENDPOINT_URL,
// AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_DYNAMODB), so this file does not know where it runs.
import http from 'node:http';
import https from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * Keep-alive agents with room for the processor's concurrency; the benchmark measures with these too.
 * A request gives up after 4 s and is tried twice at most: 8 s in all, inside the HTTP functions'
 * 10-second timeout, so a client gets a 503 it can retry rather than a gateway timeout.
 */
export const MAX_ATTEMPTS = 2;
export const requestHandlerSettings = () => ({
  connectionTimeout: 1_000,
  requestTimeout: 4_000,
  httpAgent: new http.Agent({ keepAlive: true, maxSockets: 128 }),
  httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 128 }),
});

const requestHandler = requestHandlerSettings();

let dynamo: DynamoDBDocumentClient | undefined;
let sqs: SQSClient | undefined;

export const dynamoClient = (): DynamoDBDocumentClient =>
  (dynamo ??= DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: MAX_ATTEMPTS, requestHandler }), {
    marshallOptions: { removeUndefinedValues: true },
  }));

// Queue URLs from emulators name hosts like sqs.us-east-1.localhost that may not resolve; always send
// to the configured (or regional) endpoint, which on AWS is the same host.
export const sqsClient = (): SQSClient => (sqs ??= new SQSClient({ maxAttempts: MAX_ATTEMPTS, requestHandler, useQueueUrlAsEndpoint: false }));

const UNAVAILABLE = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'InternalServerError',
  'ServiceUnavailable',
  'ResourceNotFoundException',
  'TimeoutError',
  'RequestTimeout',
  'NetworkingError',
]);

/**
 * True when a call to DynamoDB or SQS failed because the service is throttling, down, slow or
 * unreachable (not because of what we asked): worth a retry later.
 */
export const isDependencyFailure = (error: unknown): boolean => {
  const candidate = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; cause?: unknown } | undefined;
  if (!candidate || typeof candidate !== 'object') return false;
  if (UNAVAILABLE.has(candidate.name ?? '')) return true;
  if ((candidate.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND'].includes(candidate.code ?? '')) return true;
  return candidate.cause !== undefined && candidate.cause !== error && isDependencyFailure(candidate.cause);
};
