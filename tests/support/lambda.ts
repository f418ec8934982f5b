// Calling the real handlers the way API Gateway and the SQS event source do.
import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { toRecord } from '../../local/event-source.ts';
import { retryStrategy } from '../../lib/app/aws.ts';
import { checkAnswer } from './contract.ts';
import { settle } from './strict.ts';

export const context = (functionName = 'test'): Context =>
  ({
    awsRequestId: randomUUID(),
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'test',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }) as Context;

export const httpEvent = (
  method: string,
  path: string,
  options: {
    body?: string;
    /** A binary body, handed over base64-encoded as API Gateway does (isBase64Encoded). */
    bytes?: Buffer;
    query?: Record<string, string>;
    pathParameters?: Record<string, string>;
    headers?: Record<string, string>;
  } = {},
): APIGatewayProxyEventV2 => ({
  version: '2.0',
  routeKey: `${method} ${path}`,
  rawPath: path,
  rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
  headers: { 'content-type': 'application/json', ...options.headers },
  ...(options.query ? { queryStringParameters: options.query } : {}),
  ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
  requestContext: {
    accountId: '000000000000',
    apiId: 'local',
    domainName: 'localhost',
    domainPrefix: 'localhost',
    http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
    requestId: randomUUID(),
    routeKey: `${method} ${path}`,
    stage: '$default',
    time: new Date().toISOString(),
    timeEpoch: Date.now(),
  },
  ...(options.body === undefined ? {} : { body: options.body }),
  ...(options.bytes === undefined ? {} : { body: options.bytes.toString('base64') }),
  isBase64Encoded: options.bytes !== undefined,
});

export interface HttpAnswer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

interface HandlerResult {
  statusCode: number;
  headers?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
}

/**
 * The answer as a client reads it (base64 and gzip undone), after holding it to the OpenAPI document:
 * an answer the document does not describe fails the test (tests/support/contract.ts).
 */
const heldToContract = (event: APIGatewayProxyEventV2, result: HandlerResult): RawAnswer => {
  const headers = result.headers ?? {};
  const body = Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8');
  const encoding = Object.entries(headers).find(([name]) => name.toLowerCase() === 'content-encoding')?.[1];
  checkAnswer({ method: event.requestContext.http.method, path: event.rawPath }, { status: result.statusCode, headers, body: encoding === 'gzip' ? gunzipSync(body) : body });
  return { status: result.statusCode, headers, body };
};

export const callHttp = async (
  handler: (event: any, context: Context) => Promise<any>, // eslint-disable-line @typescript-eslint/no-explicit-any
  event: APIGatewayProxyEventV2,
): Promise<HttpAnswer> => {
  const answer = heldToContract(event, (await handler(event, context())) as HandlerResult);
  return { status: answer.status, body: JSON.parse(answer.body.toString('utf8')) };
};

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Calls a handler and keeps its answer as bytes (protobuf answers, 204s, text). */
export const callRaw = async (
  handler: (event: any, context: Context) => Promise<any>, // eslint-disable-line @typescript-eslint/no-explicit-any
  event: APIGatewayProxyEventV2,
): Promise<RawAnswer> => {
  return heldToContract(event, (await handler(event, context())) as HandlerResult);
};

// Retries like the functions' batch clients (throttles patiently: strict mode throttles), as Lambda's event source would.
export const sqs = new SQSClient({ useQueueUrlAsEndpoint: false, retryStrategy: retryStrategy('batch') });

export const queueUrlOf = async (name: string): Promise<string> =>
  (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;

export const queueCount = async (name: string): Promise<number> => {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: await queueUrlOf(name),
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
};

export const purge = async (name: string): Promise<void> => {
  await sqs.send(new PurgeQueueCommand({ QueueUrl: await queueUrlOf(name) }));
};

const visibleCount = async (QueueUrl: string): Promise<number> =>
  Number((await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }))).Attributes?.ApproximateNumberOfMessages ?? 0);

/**
 * Receives everything visible in the queue (up to `max` messages). A short poll may come back empty
 * while messages wait (AWS samples a subset of its servers; strict mode does the same), so an empty
 * answer ends the loop only once the queue says nothing is visible.
 */
export const receiveAll = async (name: string, max = 1000): Promise<Message[]> => {
  const QueueUrl = await queueUrlOf(name);
  const messages: Message[] = [];
  while (messages.length < max) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        MaxNumberOfMessages: Math.min(10, max - messages.length),
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0 && (await visibleCount(QueueUrl)) === 0) break;
    messages.push(...Messages);
  }
  return messages;
};

/**
 * What the visibility timeout running out does: the messages become receivable again. One second,
 * not zero: fauxqs 2.4.1 with persistence loses track of a message whose visibility is set to 0.
 */
export const expireVisibility = async (name: string, messages: Message[]): Promise<void> => {
  if (messages.length === 0) return;
  await sqs.send(
    new ChangeMessageVisibilityBatchCommand({
      QueueUrl: await queueUrlOf(name),
      Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: 1 })),
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, 1_100));
};

export const sqsEvent = (messages: Message[]): SQSEvent => ({
  Records: messages.map((message) => toRecord(message, 'arn:aws:sqs:us-east-1:000000000000:test', 'us-east-1')),
});

export const deleteMessages = async (name: string, messages: Message[]): Promise<void> => {
  const QueueUrl = await queueUrlOf(name);
  for (let start = 0; start < messages.length; start += 10) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl,
        Entries: messages.slice(start, start + 10).map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
      }),
    );
  }
};

type ProcessHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * Invokes the processor and returns the ids of the records that failed. When every record fails the
 * handler throws (Powertools' FullBatchFailureError), which Lambda treats as a failure of all records.
 */
export const invokeProcess = async (processHandler: ProcessHandler, messages: Message[]): Promise<string[]> => {
  try {
    const response = await processHandler(sqsEvent(messages), context('process'));
    return response.batchItemFailures.map((failure) => failure.itemIdentifier);
  } catch {
    return messages.map((message) => message.MessageId!);
  }
};

/**
 * Plays the event source: hands the queue's messages to the process handler in batches of 10 and
 * deletes those not reported as failed. Returns the batch responses.
 */
export const deliverQueue = async (processHandler: ProcessHandler, queueName: string): Promise<void> => {
  for (;;) {
    const messages = await receiveAll(queueName, 10);
    // Strict mode: a deleted message may come back and index changes trail the table; once both have
    // happened, look at the queue again (the event source on Lambda would receive those copies too).
    if (messages.length === 0 && !(await settle())) return;
    if (messages.length === 0) continue;
    const failed = new Set(await invokeProcess(processHandler, messages));
    await deleteMessages(queueName, messages.filter((message) => !failed.has(message.MessageId!)));
    if (failed.size > 0) throw new Error(`${failed.size} record(s) failed processing; see the log lines above`);
  }
};

/**
 * Plays the event source as Lambda's does: hands the queue's messages to the process handler in
 * batches of 10, deletes those not reported as failed, and gives failed ones back to the queue to be
 * received again (at once, instead of after the visibility timeout). Fails if a message would have
 * gone to the dead-letter queue (`maxReceives`, the queue's maxReceiveCount); returns how many
 * deliveries failed and were retried.
 */
export const drainQueue = async (processHandler: ProcessHandler, queueName: string, maxReceives = 5): Promise<number> => {
  let retried = 0;
  for (;;) {
    const messages = await receiveAll(queueName, 10);
    if (messages.length === 0 && !(await settle())) return retried;
    if (messages.length === 0) continue;
    const failed = new Set(await invokeProcess(processHandler, messages));
    await deleteMessages(queueName, messages.filter((message) => !failed.has(message.MessageId!)));
    const again = messages.filter((message) => failed.has(message.MessageId!));
    for (const message of again) {
      if (Number(message.Attributes?.ApproximateReceiveCount ?? 1) >= maxReceives) {
        throw new Error(`message ${message.MessageId} failed ${maxReceives} times: it would be dead-lettered`);
      }
    }
    retried += again.length;
    await expireVisibility(queueName, again);
  }
};

export const uniqueTopic = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;

export const makeEvent = (topic: string, id: string, extra: Partial<Record<string, unknown>> = {}) => ({
  topic,
  event_id: id,
  timestamp: '2026-11-22T10:00:00.000Z',
  source: 'jest',
  payload: { id, nested: { list: [1, 2, 3], ok: true } },
  ...extra,
});
