// The local SQS -> Lambda event source, with the semantics of Lambda's event source mapping and
// `ReportBatchItemFailures`: receive a batch (batch size, batching window), invoke the function
// through serverless-offline's Lambda endpoint, delete only the records not reported as failed, and
// leave failures to the visibility timeout and the queue's redrive policy (DLQ after maxReceiveCount).
// serverless-offline-sqs deletes failed records too, which loses data; hence this file.
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { retryStrategy } from '../lib/app/aws.ts';

export interface EventSourceOptions {
  sqsEndpoint: string;
  lambdaEndpoint: string;
  region: string;
  queueName: string;
  functionName: string;
  batchSize: number;
  /** Seconds to wait for a fuller batch (Lambda's MaximumBatchingWindowInSeconds). */
  batchingWindowSeconds: number;
  /** Concurrent pollers, each with at most one invocation in flight. */
  concurrency: number;
  /**
   * Bounds an invocation by the work its messages carry, not only by their number: messages are added
   * to a batch while their weight (`weigh`, e.g. events per message) stays within this; a batch always
   * has at least one message. Messages received beyond it wait, still invisible, for the poller's
   * next batch. Lambda has no such bound (its batch is `batchSize` messages, up to 6 MB).
   */
  maxBatchWeight?: number;
  weigh?: (body: string) => number;
  /**
   * A message held back longer than this (ms) is handed back to the queue instead of waiting on: held
   * messages stay invisible only for the queue's visibility timeout. Default 20 s; the stack passes a
   * third of the queue's visibility timeout.
   */
  maxHoldMs?: number;
  onBatch?: (summary: BatchSummary) => void;
}

export interface BatchSummary {
  records: number;
  failed: number;
  /** How long the invocation took, from the invoke request to its answer (absent when nothing was invoked). */
  invocationMs?: number;
  error?: string;
}

export interface EventSource {
  stop(): Promise<void>;
  /**
   * Stops at once: no invocation starts after it (one already running finishes); messages being
   * received are handed back to the queue, where they wait until resume().
   */
  pause(): void;
  resume(): void;
  readonly paused: boolean;
  stats(): { invocations: number; records: number; failed: number; errors: number };
}

/** The receive attributes Lambda copies into each record. */
export const toRecord = (message: Message, queueArn: string, region: string): SQSRecord => {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
};

/**
 * Short long-polls rather than Lambda's 20 s: stopping then only waits for the current poll to end,
 * instead of aborting a receive whose messages would stay invisible for the whole visibility timeout.
 */
const POLL_WAIT_SECONDS = 2;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** SQS's batch calls take at most 10 entries. */
const inTens = <T>(items: T[]): T[][] => Array.from({ length: Math.ceil(items.length / 10) }, (_, i) => items.slice(i * 10, i * 10 + 10));

export const startEventSource = async (options: EventSourceOptions): Promise<EventSource> => {
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  // Throttled receives and deletes are retried patiently (as Lambda's pollers do): a delete given up on
  // brings its messages back only after the visibility timeout.
  const sqs = new SQSClient({ endpoint: options.sqsEndpoint, region: options.region, credentials, useQueueUrlAsEndpoint: false, retryStrategy: retryStrategy('batch') });
  const lambda = new LambdaClient({
    endpoint: options.lambdaEndpoint,
    region: options.region,
    credentials,
    maxAttempts: 1,
    requestHandler: { requestTimeout: 15 * 60_000 },
  });
  const QueueUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: options.queueName }))).QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!
    .QueueArn!;
  const counters = { invocations: 0, records: 0, failed: 0, errors: 0 };
  let stopping = false;
  let paused = false;

  // Weighed once per message (weighing may mean decoding a 256 KB body).
  const weights = new WeakMap<Message, number>();
  const receivedAt = new WeakMap<Message, number>();
  const maxHoldMs = options.maxHoldMs ?? 20_000;
  const weigh = (message: Message): number => {
    let weight = weights.get(message);
    if (weight === undefined) weights.set(message, (weight = options.weigh ? options.weigh(message.Body ?? '') : 1));
    return weight;
  };
  const maxWeight = options.maxBatchWeight ?? Number.POSITIVE_INFINITY;

  /** Receives a batch, starting with the messages held back from the previous one; returns it and what it holds back now. */
  const receiveBatch = async (held: Message[]): Promise<{ batch: Message[]; held: Message[] }> => {
    const stale = held.filter((message) => performance.now() - (receivedAt.get(message) ?? 0) > maxHoldMs);
    if (stale.length > 0) await releaseQuietly(stale, 'held too long');
    const messages: Message[] = held.filter((message) => !stale.includes(message));
    let weight = messages.reduce((sum, message) => sum + weigh(message), 0);
    const deadline = Date.now() + options.batchingWindowSeconds * 1000;
    while (!stopping && !paused && messages.length < options.batchSize && weight < maxWeight) {
      if (messages.length > 0 && Date.now() >= deadline) break;
      const waitSeconds = messages.length === 0 ? POLL_WAIT_SECONDS : Math.ceil((deadline - Date.now()) / 1000);
      const response = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: Math.min(10, options.batchSize - messages.length),
          WaitTimeSeconds: Math.min(POLL_WAIT_SECONDS, waitSeconds),
          MessageSystemAttributeNames: ['All'],
        }),
      );
      const received = response.Messages ?? [];
      for (const message of received) receivedAt.set(message, performance.now());
      messages.push(...received);
      for (const message of received) weight += weigh(message);
      if (received.length === 0 && messages.length > 0) break;
    }
    // The longest prefix within the bound, and at least one message.
    let taken = 0;
    let takenWeight = 0;
    for (const message of messages) {
      const next = weigh(message);
      if (taken > 0 && (takenWeight + next > maxWeight || taken >= options.batchSize)) break;
      taken += 1;
      takenWeight += next;
    }
    return { batch: messages.slice(0, taken), held: messages.slice(taken) };
  };

  const handle = async (messages: Message[]): Promise<void> => {
    const event: SQSEvent = { Records: messages.map((message) => toRecord(message, queueArn, options.region)) };
    let failedIds: Set<string>;
    let error: string | undefined;
    const invoked = performance.now();
    let invocationMs: number | undefined;
    try {
      const response = await lambda.send(
        new InvokeCommand({ FunctionName: options.functionName, Payload: Buffer.from(JSON.stringify(event)) }),
      );
      invocationMs = performance.now() - invoked;
      const text = Buffer.from(response.Payload ?? new Uint8Array()).toString('utf8');
      if (response.FunctionError) throw new Error(`function error: ${text.slice(0, 500)}`);
      const result = (text ? JSON.parse(text) : null) as (SQSBatchResponse & { retryNow?: string[] }) | null;
      // Like Lambda: an answer that is not a valid batch response counts as a failure of the whole batch.
      if (result && !Array.isArray(result.batchItemFailures)) throw new Error(`invalid batch response: ${text.slice(0, 200)}`);
      failedIds = new Set((result?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
      const known = new Set(messages.map((message) => message.MessageId));
      if ([...failedIds].some((id) => !known.has(id))) throw new Error('batchItemFailures names an unknown message id');
      // Failed only because the invocation ran short of time (functions/process.ts): locally there is no
      // reason to wait for the visibility timeout as Lambda does; they are retried in a second.
      const retryNow = new Set((result?.retryNow ?? []).filter((id) => failedIds.has(id)));
      if (retryNow.size > 0) await release(messages.filter((message) => retryNow.has(message.MessageId!)));
    } catch (invokeError) {
      invocationMs ??= performance.now() - invoked;
      failedIds = new Set(messages.map((message) => message.MessageId!));
      error = (invokeError as Error).message;
      counters.errors += 1;
    }
    const done = messages.filter((message) => !failedIds.has(message.MessageId!));
    // SQS takes at most 10 entries per DeleteMessageBatch; a batch may hold more messages than that.
    for (const group of inTens(done)) {
      const response = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl,
          Entries: group.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
        }),
      );
      // A record we failed to delete is redelivered later; the processor is idempotent, so that is safe.
      if (response.Failed?.length) error = `${error ?? ''} delete failed for ${response.Failed.length} record(s)`.trim();
    }
    counters.invocations += 1;
    counters.records += messages.length;
    counters.failed += failedIds.size;
    options.onBatch?.({ records: messages.length, failed: failedIds.size, invocationMs, ...(error ? { error } : {}) });
  };

  /**
   * Hands received messages back to the queue at once (paused while they were being received). One
   * second, not zero: the embedded SQS loses track of a message made visible with 0 (README).
   */
  const release = async (messages: Message[]): Promise<void> => {
    for (const group of inTens(messages)) {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl,
          Entries: group.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: 1 })),
        }),
      );
    }
  };

  /** Hands messages back; a failure leaves them to their visibility timeout, and is reported. */
  const releaseQuietly = async (messages: Message[], why: string): Promise<void> => {
    try {
      await release(messages);
    } catch (error) {
      options.onBatch?.({ records: 0, failed: 0, error: `could not hand back ${messages.length} message(s) ${why} (they return after the visibility timeout): ${(error as Error).message}` });
    }
  };

  const poll = async (): Promise<void> => {
    let backoff = 100;
    let held: Message[] = [];
    while (!stopping) {
      if (paused) {
        if (held.length > 0) {
          await releaseQuietly(held, 'held at the pause');
          held = [];
        }
        await sleep(100);
        continue;
      }
      try {
        const received = await receiveBatch(held);
        held = received.held;
        const messages = received.batch;
        // Paused while receiving: nothing more is invoked after a pause; the messages wait in the queue.
        if (messages.length > 0 && paused) await release(messages);
        else if (messages.length > 0) await handle(messages);
        backoff = 100;
      } catch (error) {
        if (stopping) break;
        counters.errors += 1;
        options.onBatch?.({ records: 0, failed: 0, error: `poll failed: ${(error as Error).message}` });
        await sleep(backoff);
        backoff = Math.min(5_000, backoff * 2);
      }
    }
    // Stopping with messages held back: hand them to the queue rather than leave them invisible.
    if (held.length > 0) await releaseQuietly(held, 'held at the stop');
  };

  const pollers = Array.from({ length: options.concurrency }, () => poll());
  return {
    stats: () => ({ ...counters }),
    pause: () => {
      paused = true;
    },
    resume: () => {
      paused = false;
    },
    get paused() {
      return paused;
    },
    async stop() {
      stopping = true;
      // Each poller ends after its current receive (at most POLL_WAIT_SECONDS) and, if it holds
      // messages, after their invocation and deletes: a clean stop leaves nothing in flight.
      await Promise.allSettled(pollers);
      sqs.destroy();
      lambda.destroy();
    },
  };
};
