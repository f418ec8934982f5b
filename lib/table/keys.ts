// Item keys. Event keys are `topic#event_id`: topics cannot contain `#` (see event.ts), so the first `#`
// splits the key unambiguously and two different (topic, event_id) pairs never share a key. Every
// other item's key starts with `#`, which no topic can, so it can never equal an event key.
import type { LogEvent } from '../core/event.ts';

export const eventKey = (event: Pick<LogEvent, 'topic' | 'event_id'>): string => `${event.topic}#${event.event_id}`;

export const counterShardKey = (shard: number): string => `#counter#${shard}`;

export const receivedShardKey = (shard: number): string => `#received#${shard}`;

/** Sort key of the by-topic index: fixed-width UTC time, then event_id, so the order is total and stable. */
export const timeSortKey = (event: Pick<LogEvent, 'timestamp_sortable' | 'event_id'>): string =>
  `${event.timestamp_sortable}#${event.event_id}`;

/** Identifies the delivery that wrote an event item: the message's batch id and the event's index in it. */
export const deliveryId = (batch: string, index: number): string => `${batch}:${index}`;

/** Partitions of the `recent` index; spreading events over several keeps any one from getting hot. */
export const RECENT_SHARDS = 8;

/** FNV-1a: a small, stable string hash, so an event always lands in the same `recent` partition. */
const fnv1a = (value: string): number => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < value.length; i += 1) {
    hash ^= value.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
};

export const recentShardKey = (event: Pick<LogEvent, 'topic' | 'event_id'>): string => `r#${fnv1a(eventKey(event)) % RECENT_SHARDS}`;

export const recentShardKeys = (): string[] => Array.from({ length: RECENT_SHARDS }, (_, shard) => `r#${shard}`);

/** Sort key of the `recent` index: time, then topic, then event_id (a total order across topics). */
export const recentSortKey = (event: Pick<LogEvent, 'timestamp_sortable' | 'topic' | 'event_id'>): string =>
  `${event.timestamp_sortable}#${event.topic}#${event.event_id}`;
