// The SQS message format: one message carries many events and one batch id. Packing many events per
// message is what makes publish cheap (few SendMessageBatch calls) and lets the processor write one
// message record per message instead of counting per event.
import { z } from 'zod';
import type { LogEvent } from '../core/event.ts';
import type { DeliveredMessage } from '../core/processor.ts';
import type { AcceptedEvent } from '../core/publish-request.ts';
import { nextBatchId, ULID_PATTERN } from './batch-id.ts';

export const MESSAGE_VERSION = 1;

/** Classic SQS limit; works on every SQS flavour (AWS, LocalStack, fauxqs) and keeps invocations small. */
export const MAX_MESSAGE_BYTES = 256 * 1024;
/** SendMessageBatch limits: 10 entries and 1 MiB in total. */
export const MAX_BATCH_ENTRIES = 10;
export const MAX_BATCH_BYTES = 1024 * 1024;

/**
 * Distinct topics in one message at most. A message's record keeps per-topic counts and its fold
 * updates one counter per topic, so this bounds the record's size and the fold's work.
 */
export const MAX_TOPICS_PER_MESSAGE = 100;

export interface QueueMessage extends DeliveredMessage {
  v: typeof MESSAGE_VERSION;
  /** ULID: unique and time-ordered; its time bounds how long the message can come back. */
  batch: string;
  events: LogEvent[];
}

export interface PackedMessage {
  batch: string;
  body: string;
  bytes: number;
  eventCount: number;
}

const envelope = (batch: string, parts: string[]): string => `{"v":${MESSAGE_VERSION},"batch":"${batch}","events":[${parts.join(',')}]}`;
/** Envelope: version, 26-character ULID, brackets. */
const ENVELOPE_BYTES = Buffer.byteLength(envelope('0'.repeat(26), []));

/** Packs events, in order, into as few messages as the size and topic limits allow. */
export const packMessages = (
  events: AcceptedEvent[],
  options: { maxMessageBytes?: number; maxTopics?: number } = {},
): PackedMessage[] => {
  const maxBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
  const maxTopics = options.maxTopics ?? MAX_TOPICS_PER_MESSAGE;
  const messages: PackedMessage[] = [];
  let parts: string[] = [];
  let partBytes = 0;
  let topics = new Set<string>();

  const flush = (): void => {
    if (parts.length === 0) return;
    const batch = nextBatchId();
    const body = envelope(batch, parts);
    messages.push({ batch, body, bytes: ENVELOPE_BYTES + partBytes - 1, eventCount: parts.length });
    parts = [];
    partBytes = 0;
    topics = new Set();
  };

  for (const { event, json, bytes: eventBytes } of events) {
    const bytes = eventBytes + 1; // comma
    // Validation caps an event far below this; reaching it is a bug, not bad input.
    if (ENVELOPE_BYTES + bytes > maxBytes) throw new RangeError(`an event of ${bytes} bytes cannot fit one message`);
    const newTopic = !topics.has(event.topic);
    if (ENVELOPE_BYTES + partBytes + bytes > maxBytes || (newTopic && topics.size >= maxTopics)) flush();
    parts.push(json);
    partBytes += bytes;
    topics.add(event.topic);
  }
  flush();
  return messages;
};

/** Groups messages into SendMessageBatch calls that respect the entry count and total size limits. */
export const groupIntoBatches = (messages: PackedMessage[]): PackedMessage[][] => {
  const batches: PackedMessage[][] = [];
  let current: PackedMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    if (current.length === MAX_BATCH_ENTRIES || bytes + message.bytes > MAX_BATCH_BYTES) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += message.bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
};

// The publisher validated every event; this only guards against foreign or corrupted messages, which
// then fail and end in the DLQ instead of being half-applied.
const messageSchema = z.object({
  v: z.literal(MESSAGE_VERSION),
  batch: z.string().regex(ULID_PATTERN),
  // Messages of the first version name a counter shard; it is no longer used.
  shard: z.number().int().min(0).optional(),
  events: z
    .array(
      z.looseObject({
        topic: z.string().min(1),
        event_id: z.string().min(1),
        timestamp: z.string(),
        timestamp_sortable: z.string(),
        source: z.string(),
        // Checked, not rebuilt: rebuilding assigns keys, and assigning `__proto__` would drop it.
        payload: z.custom<Record<string, unknown>>((value) => value !== null && typeof value === 'object' && !Array.isArray(value)),
      }),
    )
    .min(1),
});

export const parseMessage = (body: string): QueueMessage => messageSchema.parse(JSON.parse(body)) as QueueMessage;

/** The batch id of a message body, if it has one (for tools that move messages without processing them). */
export const batchIdOf = (body: string): string | undefined => {
  try {
    const batch = (JSON.parse(body) as { batch?: unknown }).batch;
    return typeof batch === 'string' && ULID_PATTERN.test(batch) ? batch : undefined;
  } catch {
    return undefined;
  }
};

/**
 * How many events a message body carries (1 for a body that is not one of ours: it is still one
 * message's worth of work). The local event source bounds its batches with it.
 */
export const eventCountOf = (body: string): number => {
  try {
    const events = (JSON.parse(body) as { events?: unknown }).events;
    return Array.isArray(events) && events.length > 0 ? events.length : 1;
  } catch {
    return 1;
  }
};

/** A message body to send again unchanged (redrive): same batch id, so the same record. */
export const resendable = (body: string): PackedMessage => ({ batch: batchIdOf(body) ?? '', body, bytes: Buffer.byteLength(body), eventCount: 0 });
