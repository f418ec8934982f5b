// The SQS message format: one message carries many events and one batch id. Packing many events per
// message is what makes publish cheap (few SendMessageBatch calls) and lets the processor make one
// counter write per message instead of one per event.
import { monotonicFactory } from 'ulid';
import { z } from 'zod';
import type { LogEvent } from '../core/event.ts';
import { toQueueJson } from '../core/json.ts';

export const MESSAGE_VERSION = 1;

/** Classic SQS limit; works on every SQS flavour (AWS, LocalStack, fauxqs) and keeps invocations small. */
export const MAX_MESSAGE_BYTES = 256 * 1024;
/** SendMessageBatch limits: 10 entries and 1 MiB in total. */
export const MAX_BATCH_ENTRIES = 10;
export const MAX_BATCH_BYTES = 1024 * 1024;

export interface QueueMessage {
  v: typeof MESSAGE_VERSION;
  /** ULID: unique and time-ordered; its time bounds how long the message can come back. */
  batch: string;
  /** The counter shard this message's totals go to; fixed at publish so redeliveries hit the same guard. */
  shard: number;
  events: LogEvent[];
}

export interface PackedMessage {
  batch: string;
  body: string;
  bytes: number;
  eventCount: number;
}

const nextBatchId = monotonicFactory();

const utf8Bytes = (value: string): number => Buffer.byteLength(value, 'utf8');

/** Packs events, in order, into as few messages as the message size limit allows. */
export const packMessages = (
  events: LogEvent[],
  options: { shards: number; maxMessageBytes?: number; random?: () => number },
): PackedMessage[] => {
  const maxBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
  const random = options.random ?? Math.random;
  const messages: PackedMessage[] = [];
  let parts: string[] = [];
  let partBytes = 0;

  const flush = (): void => {
    if (parts.length === 0) return;
    const batch = nextBatchId();
    const shard = Math.floor(random() * options.shards);
    const body = `{"v":${MESSAGE_VERSION},"batch":"${batch}","shard":${shard},"events":[${parts.join(',')}]}`;
    messages.push({ batch, body, bytes: utf8Bytes(body), eventCount: parts.length });
    parts = [];
    partBytes = 0;
  };
  // Envelope: version, 26-char ULID, shard number, brackets.
  const envelopeBytes = utf8Bytes(`{"v":${MESSAGE_VERSION},"batch":"${'0'.repeat(26)}","shard":${options.shards},"events":[]}`);

  for (const event of events) {
    const json = toQueueJson(event);
    const bytes = utf8Bytes(json) + 1; // comma
    if (envelopeBytes + bytes > maxBytes) throw new Error(`an event of ${bytes} bytes cannot fit one message`);
    if (envelopeBytes + partBytes + bytes > maxBytes) flush();
    parts.push(json);
    partBytes += bytes;
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

const ULID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;

// The publisher validated every event; this only guards against foreign or corrupted messages, which
// then fail and end in the DLQ instead of being half-applied.
const messageSchema = z.object({
  v: z.literal(MESSAGE_VERSION),
  batch: z.string().regex(ULID_PATTERN),
  shard: z.number().int().min(0),
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
