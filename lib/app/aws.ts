// One SDK client per service per process, reused across invocations (connection reuse is most of the
// latency budget). Endpoints come from the standard variables (AWS_ENDPOINT_URL,
// AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_DYNAMODB), so this file does not know where it runs.
import http from 'node:http';
import https from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { PatientRetryStrategy, type RetryLimits } from './retry.ts';

/**
 * Two ways to wait for DynamoDB and SQS. A request (HTTP function) gives up after 4 s and is tried twice
 * at most: 8 s in all, inside its 10-second timeout, so a client gets a 503 it can retry rather than a
 * gateway timeout. A batch (the processor) waits longer, 10 s a try and 4 tries, because a failed
 * message only comes back after the visibility timeout, and a loaded table (the embedded one under a
 * backlog) answers slowly rather than not at all; its own deadline (lib/api/process.ts) keeps the
 * invocation inside its timeout.
 */
export type ClientProfile = 'request' | 'batch';

// A loaded local table also accepts connections late: 1 s failed hundreds of messages in the benchmark.
// Throttles are retried more often than other failures, within a time budget (retry.ts): a request
// keeps 2 s of its 10 for the answer, a batch stays well inside the processor's deadline.
const PROFILES: Record<ClientProfile, RetryLimits & { requestTimeout: number; connectionTimeout: number }> = {
  request: { maxAttempts: 2, maxThrottledAttempts: 6, budgetMs: 6_000, requestTimeout: 4_000, connectionTimeout: 1_000 },
  batch: { maxAttempts: 4, maxThrottledAttempts: 10, budgetMs: 20_000, requestTimeout: 10_000, connectionTimeout: 5_000 },
};

/** The retry strategy of a profile's clients (one per client: it keeps the retry quota). */
export const retryStrategy = (profile: ClientProfile): PatientRetryStrategy => new PatientRetryStrategy(PROFILES[profile]);

/** Keep-alive agents with room for the processor's concurrency; the benchmark measures with these too. */
export const requestHandlerSettings = (profile: ClientProfile = 'request') => ({
  connectionTimeout: PROFILES[profile].connectionTimeout,
  requestTimeout: PROFILES[profile].requestTimeout,
  httpAgent: new http.Agent({ keepAlive: true, maxSockets: 128 }),
  httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 128 }),
});

/**
 * Without the SDK's logger middleware. This product logs no SDK call, yet with its default (no-op)
 * logger the middleware still ran the sensitive-data filter over every request and response it would
 * have logged: 0.5 ms of CPU per /events page (BENCHMARKS.md, "/events pages"). A logger given to
 * these clients would therefore log nothing: to log SDK calls, add the middleware back.
 */
const withoutCallLogging = <T extends { middlewareStack: { remove(name: string): boolean } }>(client: T): T => {
  client.middlewareStack.remove('loggerMiddleware');
  return client;
};

const dynamo = new Map<ClientProfile, DynamoDBDocumentClient>();
const sqs = new Map<ClientProfile, SQSClient>();

export const dynamoClient = (profile: ClientProfile = 'request'): DynamoDBDocumentClient => {
  let client = dynamo.get(profile);
  if (!client) {
    client = DynamoDBDocumentClient.from(withoutCallLogging(new DynamoDBClient({ retryStrategy: retryStrategy(profile), requestHandler: requestHandlerSettings(profile) })), {
      marshallOptions: { removeUndefinedValues: true },
    });
    dynamo.set(profile, client);
  }
  return client;
};

// Queue URLs from emulators name hosts like sqs.us-east-1.localhost that may not resolve; always send
// to the configured (or regional) endpoint, which on AWS is the same host.
export const sqsClient = (profile: ClientProfile = 'request'): SQSClient => {
  let client = sqs.get(profile);
  if (!client) {
    client = withoutCallLogging(new SQSClient({ retryStrategy: retryStrategy(profile), requestHandler: requestHandlerSettings(profile), useQueueUrlAsEndpoint: false }));
    sqs.set(profile, client);
  }
  return client;
};

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
