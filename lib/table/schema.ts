// The one table's layout: every attribute and index name this product stores or queries. Nothing
// outside lib/table knows these names; serverless.yml `resources` declares the same ones (the
// package test compares them).

export const INDEX = {
  /** Events of one topic by event time: partition `topic`, sort `tsk`. */
  topicTime: { name: 'byTopicTime', partitionKey: 'topic', sortKey: 'tsk' },
  /** Events of all topics by event time, spread over RECENT_SHARDS partitions: `rsh`, sort `rsk`. */
  recent: { name: 'recent', partitionKey: 'rsh', sortKey: 'rsk' },
  /** Events of all topics in the order they were stored (the live tail): `ash`, sort `ask`. */
  arrival: { name: 'arrival', partitionKey: 'ash', sortKey: 'ask' },
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

/** Partitions of the `recent` index; spreading events over several keeps any one from getting hot. */
export const RECENT_SHARDS = 8;
/** Partitions of the `arrival` index: every stored event writes to one. */
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
