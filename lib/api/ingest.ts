// Publishing: validated events are packed into as few SQS messages as possible and sent in batches;
// requests that arrive while a send is in flight share messages (coalesce.ts).
// Nothing is counted here: `received` is counted from each message's record when it is processed,
// so an event is counted once whatever happens to this function after SQS accepted it.
import pLimit from 'p-limit';
import { BacklogError, BadQueryError, DependencyError } from '../core/errors.ts';
import { isTopicName, LIMITS } from '../core/event.ts';
import type { MappedBatch } from '../ingest/batch.ts';
import type { AcceptedEvent } from '../core/publish-request.ts';
import { SendCoalescer, type RequestOutcome, type SendResult } from '../queue/coalesce.ts';
import { groupIntoBatches, MAX_MESSAGE_BYTES, packMessages, type PackedMessage } from '../queue/message.ts';
import { receiptOf } from '../queue/receipt.ts';
import { PartialSendError, queueDepth, queueUrl, sendBatch } from '../queue/sqs.ts';
import type { Services } from '../app/services.ts';
import type { PublishAnswer } from './wire.ts';

const SEND_CONCURRENCY = 8;

/** A request of at least this many bytes of events fills a message of its own: it is sent at once, alone. */
const COALESCE_BELOW_BYTES = MAX_MESSAGE_BYTES / 2;

/** What the client is told: the 202's body (wire.ts). */
export type PublishResult = PublishAnswer;

let lastLook: { queue: string; at: number; waiting: number } | undefined;

/**
 * Backpressure: refuses to add to a queue that already holds MAX_BACKLOG_MESSAGES waiting messages, so
 * a stalled processor shows up at the publishers (429, retry later) instead of as messages that sit
 * in the queue until its retention expires them.
 */
const checkBacklog = async (services: Pick<Services, 'sqs' | 'config'>, now = Date.now()): Promise<void> => {
  const { config } = services;
  if (config.MAX_BACKLOG_MESSAGES === 0) return;
  if (!lastLook || lastLook.queue !== config.QUEUE_NAME || now - lastLook.at >= config.BACKLOG_CHECK_SECONDS * 1000) {
    const depth = await queueDepth(services.sqs, config.QUEUE_NAME);
    lastLook = { queue: config.QUEUE_NAME, at: now, waiting: depth.visible + depth.delayed };
  }
  if (lastLook.waiting >= config.MAX_BACKLOG_MESSAGES) {
    throw new BacklogError(
      `the queue holds ${lastLook.waiting} messages waiting to be processed (limit ${config.MAX_BACKLOG_MESSAGES}); nothing was accepted, retry later`,
      Math.max(1, Math.ceil(config.BACKLOG_CHECK_SECONDS)),
    );
  }
};

const sendMessages = async (services: Pick<Services, 'sqs' | 'config'>, messages: PackedMessage[]): Promise<SendResult> => {
  const { sqs, config } = services;
  const url = await queueUrl(sqs, config.QUEUE_NAME);
  const limit = pLimit(SEND_CONCURRENCY);
  const results = await Promise.allSettled(groupIntoBatches(messages).map((batch) => limit(() => sendBatch(sqs, url, batch))));
  const sent: PackedMessage[] = [];
  const failures: unknown[] = [];
  for (const result of results) {
    if (result.status === 'fulfilled') sent.push(...result.value);
    else {
      failures.push(result.reason);
      if (result.reason instanceof PartialSendError) sent.push(...result.reason.accepted);
    }
  }
  return { sent, failures };
};

const sendAlone = async (services: Pick<Services, 'sqs' | 'config'>, events: AcceptedEvent[]): Promise<RequestOutcome> => {
  const messages = packMessages(events);
  const { sent, failures } = await sendMessages(services, messages);
  return {
    accepted: sent.reduce((sum, message) => sum + message.eventCount, 0),
    batches: messages.map((message) => message.batch),
    ...(failures.length > 0 ? { failure: failures[0] } : {}),
  };
};

/** One coalescer per client and queue: concurrent requests in this process share its messages. */
const coalescers = new WeakMap<object, Map<string, SendCoalescer>>();
const coalescerFor = (services: Pick<Services, 'sqs' | 'config'>): SendCoalescer => {
  let byQueue = coalescers.get(services.sqs);
  if (!byQueue) coalescers.set(services.sqs, (byQueue = new Map()));
  let coalescer = byQueue.get(services.config.QUEUE_NAME);
  if (!coalescer) byQueue.set(services.config.QUEUE_NAME, (coalescer = new SendCoalescer((messages) => sendMessages(services, messages))));
  return coalescer;
};

export const publishEvents = async (services: Pick<Services, 'sqs' | 'config'>, events: AcceptedEvent[]): Promise<PublishResult> => {
  await checkBacklog(services);
  const bytes = events.reduce((sum, event) => sum + event.bytes, 0);
  const outcome = bytes >= COALESCE_BELOW_BYTES ? await sendAlone(services, events) : await coalescerFor(services).submit(events);
  if (outcome.failure !== undefined) {
    throw new DependencyError(
      `the queue accepted ${outcome.accepted} of ${events.length} events; retry the request (events already accepted count as duplicates)`,
      { cause: outcome.failure },
    );
  }
  return { accepted: outcome.accepted, messages: outcome.batches.length, receipt: receiptOf(outcome.batches) };
};

/**
 * The shipper protocols' use case: what an adapter (lib/ingest) mapped from a request goes through the
 * same publish as `POST /publish`. Records it refused are the adapter's answer to give; when none
 * were accepted nothing is sent.
 */
export const ingestBatch = async (services: Pick<Services, 'sqs' | 'config'>, batch: MappedBatch): Promise<Omit<PublishResult, 'receipt'>> =>
  batch.events.length === 0 ? { accepted: 0, messages: 0 } : publishEvents(services, batch.events);

/** A topic named by the client (`?topic=` on /v1/logs): used as given, so it must already be one. */
export const topicParameter = (value: string | undefined): string | undefined => {
  if (value === undefined) return undefined;
  if (!isTopicName(value)) {
    throw new BadQueryError(`topic: ${JSON.stringify(value.slice(0, 140))} is not a topic name (1-${LIMITS.topicMaxLength} of A-Z a-z 0-9 . _ -)`);
  }
  return value;
};
