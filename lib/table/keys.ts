// Item keys. Event items are keyed by the dedup key `topic#event_id` (core/identity.ts). Every other
// item's key starts with `#`, which no topic can, so it can never equal an event key.
import { stableHash, type CounterTarget } from '../core/counting.ts';
import type { LogEvent } from '../core/event.ts';
import { dedupKey } from '../core/identity.ts';
import { ARRIVAL_SHARDS, RECENT_SHARDS, VOLUME_SHARDS } from './schema.ts';

export const eventPk = (event: Pick<LogEvent, 'topic' | 'event_id'>): string => dedupKey(event);

export const recordPk = (id: string): string => `#record#${id}`;

export const counterPk = (target: CounterTarget): string => {
  switch (target.kind) {
    case 'total':
      return `#total#${target.shard}`;
    case 'topic':
      return `#topic#${target.topic}`;
    case 'minute':
      return `#minute#${target.minute}`;
  }
};

/** Items of the first version's counters (before message records); read once to migrate them. */
export const legacyCounterPk = (shard: number): string => `#counter#${shard}`;
export const legacyReceivedPk = (shard: number): string => `#received#${shard}`;
export const LEGACY_MAX_SHARDS = 64;

/**
 * An instant as the time indexes sort it: the sortable UTC time (`2026-12-02T15:01:24.123456789Z`)
 * without its separators (`20261202150124123456789`), still fixed-width, so string order is time order,
 * and 7 bytes shorter in each of the four places an event stores it (docs/cost.md).
 */
export const timeKey = (sortable: string): string => sortable.replace(/[-:T.Z]/g, '');

/** Sort key of the by-topic index: fixed-width UTC time, then event_id, so the order is total and stable. */
export const timeSortKey = (event: Pick<LogEvent, 'timestamp_sortable' | 'event_id'>): string => `${timeKey(event.timestamp_sortable)}#${event.event_id}`;

export const recentShardKey = (event: Pick<LogEvent, 'topic' | 'event_id'>): string => `r#${stableHash(dedupKey(event)) % RECENT_SHARDS}`;

export const recentShardKeys = (): string[] => Array.from({ length: RECENT_SHARDS }, (_, shard) => `r#${shard}`);

/** Sort key of the `recent` index: time, then topic, then event_id (a total order across topics). */
export const recentSortKey = (event: Pick<LogEvent, 'timestamp_sortable' | 'topic' | 'event_id'>): string =>
  `${timeKey(event.timestamp_sortable)}#${event.topic}#${event.event_id}`;

/** The single partition of the `topicNames` index. */
export const TOPIC_NAMES_PARTITION = 't';

export const volumeShardKey = (topic: string): string => `v#${stableHash(topic) % VOLUME_SHARDS}`;

export const volumeShardKeys = (): string[] => Array.from({ length: VOLUME_SHARDS }, (_, shard) => `v#${shard}`);

/** A message's tail item (the keys of the events it stored, for the live tail). */
export const tailPk = (batch: string): string => `#tail#${batch}`;

export const arrivalShardKey = (batch: string): string => `a#${stableHash(batch) % ARRIVAL_SHARDS}`;

export const arrivalShardKeys = (): string[] => Array.from({ length: ARRIVAL_SHARDS }, (_, shard) => `a#${shard}`);

/** Sort key of the tail index: when the message's events were stored, then its batch id (a total order). */
export const arrivalSortKey = (batch: string, storedAt: string): string => `${storedAt}#${batch}`;
