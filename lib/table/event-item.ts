// The event item: how an event is stored, and read back. Its keys stay readable attributes (the dedup
// key, and the keys of the two time indexes); everything else travels in one brotli-compressed body,
// which is what keeps an event with a 1 KB payload inside one write unit (docs/cost.md).
import type { LogEvent } from '../core/event.ts';
import type { StoredEvent } from '../core/ports.ts';
import { compress as compressBytes, decompress as decompressBytes } from './compression.ts';
import { eventPk, recentShardKey, recentSortKey, timeKey, timeSortKey } from './keys.ts';
import { BODY, DELIVERY, EXPIRES, LEGACY_DELIVERY, PK } from './schema.ts';

export interface EventItem {
  pk: string;
  topic: string;
  /** Sort key of the topic's time index. */
  tsk: string;
  /** Partition and sort key of the all-topics time index. */
  rsh: string;
  rsk: string;
  [DELIVERY]: string;
  [BODY]: Uint8Array;
  /** Epoch seconds after which DynamoDB's TTL deletes the item (only with retention configured). */
  [EXPIRES]?: number;
}

/**
 * Brotli at quality 5: on realistic 1 KB log payloads it keeps 38% of the bytes (deflate 41%, zstd
 * 43%) in about 45 µs (`npm run bench:compression`); qualities 9-11 save a few per cent more at 10 to
 * 50 times the CPU.
 */
const compress = (text: string): Buffer => compressBytes(Buffer.from(text, 'utf8'));

const decompress = (bytes: Uint8Array): string => decompressBytes(bytes).toString('utf8');

/** The body's JSON: `t` timestamp, `s` source, `a` stored at, `p` the payload (its JSON text as accepted). */
interface Body {
  t: string;
  s: string;
  a: string;
  p: Record<string, unknown>;
}

export const toEventItem = (event: LogEvent, delivery: string, storedAt: string, expiresAt?: number): EventItem => ({
  pk: eventPk(event),
  topic: event.topic,
  tsk: timeSortKey(event),
  rsh: recentShardKey(event),
  rsk: recentSortKey(event),
  [DELIVERY]: delivery,
  [BODY]: compress(`{"t":${JSON.stringify(event.timestamp)},"s":${JSON.stringify(event.source)},"a":${JSON.stringify(storedAt)},"p":${JSON.stringify(event.payload)}}`),
  ...(expiresAt === undefined ? {} : { [EXPIRES]: expiresAt }),
});

/**
 * An event item as versions before compressed bodies wrote it (`payload` as JSON text, `timestamp`,
 * `source`, `stored_at` and `event_id` as attributes, and `ash`/`ask` for a per-event tail index),
 * rewritten as this version writes it: the same keys, the same event, a body. `npm run migrate`.
 */
export const fromLegacyEventItem = (item: Record<string, unknown>): EventItem => ({
  pk: String(item[PK]),
  topic: String(item.topic),
  // The sort keys start with the 30-character sortable time, written shorter now (keys.ts, timeKey).
  tsk: `${timeKey(String(item.tsk).slice(0, 30))}${String(item.tsk).slice(30)}`,
  rsh: String(item.rsh),
  rsk: `${timeKey(String(item.rsk).slice(0, 30))}${String(item.rsk).slice(30)}`,
  [DELIVERY]: String(item[LEGACY_DELIVERY]),
  [BODY]: compress(`{"t":${JSON.stringify(String(item.timestamp))},"s":${JSON.stringify(String(item.source))},"a":${JSON.stringify(String(item.stored_at))},"p":${String(item.payload)}}`),
  ...(typeof item[EXPIRES] === 'number' ? { [EXPIRES]: item[EXPIRES] as number } : {}),
});

export const isLegacyEventItem = (item: Record<string, unknown>): boolean => !String(item[PK]).startsWith('#') && !(item[BODY] instanceof Uint8Array) && 'payload' in item;

/** The event_id of a dedup key: everything after the first `#` (topics cannot hold one). */
const eventIdOf = (pk: string): string => pk.slice(pk.indexOf('#') + 1);

/** Decoded once per item read (a page filters by source, then hands the same item out). */
const decoded = new WeakMap<object, StoredEvent>();

export const fromEventItem = (item: Record<string, unknown>): StoredEvent => {
  let event = decoded.get(item);
  if (!event) decoded.set(item, (event = decode(item)));
  return event;
};

const decode = (item: Record<string, unknown>): StoredEvent => {
  const pk = String(item[PK]);
  const body = item[BODY];
  if (body instanceof Uint8Array) {
    const { t, s, a, p } = JSON.parse(decompress(body)) as Body;
    return { topic: String(item.topic), event_id: eventIdOf(pk), timestamp: t, source: s, payload: p, delivery: String(item[DELIVERY]), stored_at: a };
  }
  // An item written before bodies were compressed (`npm run migrate` rewrites them; see docs).
  return {
    topic: String(item.topic),
    event_id: String(item.event_id),
    timestamp: String(item.timestamp),
    source: String(item.source),
    payload: JSON.parse(String(item.payload)) as Record<string, unknown>,
    delivery: String(item[LEGACY_DELIVERY]),
    stored_at: String(item.stored_at),
  };
};

/**
 * Expired items stay readable until DynamoDB's TTL gets round to deleting them (and forever on
 * dynalite, which has no TTL), so every read leaves them out itself.
 */
export const isExpired = (item: Record<string, unknown>, now: Date): boolean =>
  typeof item[EXPIRES] === 'number' && (item[EXPIRES] as number) <= Math.floor(now.getTime() / 1000);
