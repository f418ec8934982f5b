// The one table's layout: every attribute and index name this product stores or queries. Nothing
// outside lib/table knows these names; serverless.yml `resources` declares the same ones (the
// package test compares them).

// Every event is written three times, and no more: its item, and one keys-only entry in each of the
// two indexes that order events by time (docs/cost.md). An entry holds only the keys; a page reads
// the entries, then the items they name (BatchGetItem), so an event's payload is stored once. The
// live tail reads one entry per message, not per event (`tail`: a tail item lists the keys of the
// events its message stored).
export const INDEX = {
  /** Events of one topic by event time (keys only): partition `topic`, sort `tsk`. */
  topicTime: { name: 'topicEvents', partitionKey: 'topic', sortKey: 'tsk' },
  /** Events of all topics by event time (keys only), spread over RECENT_SHARDS partitions: `rsh`, sort `rsk`. */
  recent: { name: 'allEvents', partitionKey: 'rsh', sortKey: 'rsk' },
  /** Tail items in the order their messages' events were stored (keys only): `ash`, sort `ask`. */
  arrival: { name: 'tailItems', partitionKey: 'ash', sortKey: 'ask' },
  /** Topic counters by name (keys only): one partition `tix`, sort `tname`. */
  topicNames: { name: 'topicNames', partitionKey: 'tix', sortKey: 'tname' },
  /** Topic counters by volume: partition `vsh` (VOLUME_SHARDS of them), sort `received` (a number). */
  topicVolume: { name: 'topicVolume', partitionKey: 'vsh', sortKey: 'received' },
} as const;

export type IndexDefinition = (typeof INDEX)[keyof typeof INDEX];

/** The table's partition key, on every item. */
export const PK = 'pk';
/** DynamoDB's TTL attribute (epoch seconds), on expiring events, message records and minute counters. */
export const EXPIRES = 'expires_at';
/** Counter items: a number bumped by every change (fold.ts relies on it). */
export const VERSION = 'v';
/** Counter items: one attribute per record id in the guard, `g:<id>`, so no map has to exist first. */
export const GUARD_PREFIX = 'g:';
/** Message records: present (true) once the record is folded into every counter. */
export const FOLDED = 'folded';
/**
 * Event items: everything of the event but its keys, as brotli-compressed JSON (`{t, s, a, p}`:
 * timestamp, source, stored at, payload). Reads decompress it in the function; search, source and
 * expiry filters were applied there already (item-level filters cannot read a keys-only entry).
 */
export const BODY = 'b';
/** Event items: which delivery wrote the item (`<batch>:<index>`); the processor reads it by itself. */
export const DELIVERY = 'dv';
/** The same, as versions before the compressed body named it (read by `npm run migrate`). */
export const LEGACY_DELIVERY = 'delivery';
/** Tail items: the keys of the events their message stored, in order, as brotli-compressed JSON. */
export const TAIL_KEYS = 'k';

/** Partitions of the `recent` index; spreading events over several keeps any one from getting hot. */
export const RECENT_SHARDS = 8;
/** Partitions of the tail index: every message that stores events writes one tail item to one. */
export const ARRIVAL_SHARDS = 4;
/** Partitions of the `topicVolume` index: every fold rewrites its entries, so they are spread too. */
export const VOLUME_SHARDS = 8;

/** DynamoDB's limits that requests must stay within (the emulator does not check them all). */
export const LIMITS = {
  batchGetKeys: 100,
  batchWriteItems: 25,
  expressionBytes: 4096,
  itemBytes: 400 * 1024,
} as const;
