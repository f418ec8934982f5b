// The storage port. lib/dynamo-store.ts implements it on DynamoDB; the domain (processor, queries,
// stats) depends only on this interface.
import type { LogEvent } from './event.ts';

export interface StoredEvent extends LogEvent {
  /** Which delivery wrote the item: `<batch id>:<index in message>`. */
  delivery: string;
  stored_at: string;
}

/** Totals of one message, applied to one counter shard in one guarded write. */
export interface MessageCounts {
  unique: number;
  duplicate: number;
  byTopic: Record<string, { unique: number; duplicate: number }>;
}

export interface CounterTotals {
  received: number;
  unique: number;
  duplicate: number;
  byTopic: Record<string, { unique: number; duplicate: number }>;
  /** When the aggregator first recorded anything (ISO), if ever. */
  firstActivityAt?: string;
}

export interface EventFilter {
  /** Inclusive bounds on the sortable timestamp. */
  fromSortable?: string;
  toSortable?: string;
  source?: string;
}

export interface TopicQuery extends EventFilter {
  topic: string;
  limit: number;
  descending: boolean;
  cursor?: Record<string, unknown>;
}

/** Events of all topics, newest or oldest first, merged from the partitions of the `recent` index. */
export interface RecentQuery extends EventFilter {
  limit: number;
  descending: boolean;
  /** Per partition: where to continue (a key), null when it is exhausted, absent to start at its beginning. */
  cursor?: Record<string, Record<string, unknown> | null>;
}

export interface RecentPage {
  events: StoredEvent[];
  cursor?: Record<string, Record<string, unknown> | null>;
}

export interface EventPage {
  events: StoredEvent[];
  cursor?: Record<string, unknown>;
}

export type ApplyResult = 'applied' | 'already-applied';

export interface EventStore {
  /** Conditional put: false when an item with the same key already exists. */
  putIfAbsent(event: LogEvent, delivery: string, storedAt: string, expiresAt?: number): Promise<boolean>;
  /** One event by its key, unless it has expired. */
  getEvent(topic: string, eventId: string, now: Date): Promise<StoredEvent | undefined>;
  /** Strongly consistent read of the deliveries that wrote the given event keys. */
  getDeliveries(keys: string[]): Promise<Map<string, string>>;
  /** Adds a message's totals to a shard unless that batch id was already applied there. */
  applyCounts(shard: number, batch: string, counts: MessageCounts, now: Date): Promise<ApplyResult>;
  addReceived(count: number, shard: number, now: Date): Promise<void>;
  /** The batch ids whose totals a counter shard has applied. */
  appliedBatches(shard: number): Promise<string[]>;
  /** Removes batch ids from a shard's applied set (only ids that can no longer be redelivered). */
  forgetBatches(shard: number, batches: string[]): Promise<void>;
  readCounters(shards: number): Promise<CounterTotals>;
  queryTopic(query: TopicQuery, now: Date): Promise<EventPage>;
  queryRecent(query: RecentQuery, now: Date): Promise<RecentPage>;
  /** The earliest and latest event time of a topic (two single-item index reads). */
  topicTimeRange(topic: string, now: Date): Promise<{ first?: string; last?: string }>;
  /** Deletes up to `max` events of a topic; `more` when some remain. */
  deleteTopicEvents(topic: string, max: number): Promise<{ deleted: number; more: boolean }>;
  ping(): Promise<void>;
}
