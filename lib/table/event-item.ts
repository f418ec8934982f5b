// The event item: how an event is stored, and read back.
import type { LogEvent } from '../core/event.ts';
import type { StoredEvent } from '../core/ports.ts';
import { arrivalShardKey, arrivalSortKey, eventPk, recentShardKey, recentSortKey, timeSortKey } from './keys.ts';
import { EXPIRES } from './schema.ts';

export interface EventItem {
  pk: string;
  topic: string;
  tsk: string;
  event_id: string;
  timestamp: string;
  source: string;
  /** The payload as JSON text: DynamoDB maps would change numbers (precision, -0) and reject some keys. */
  payload: string;
  delivery: string;
  stored_at: string;
  /** Partition and sort key of the `recent` index (all topics by time). */
  rsh: string;
  rsk: string;
  /** Partition and sort key of the `arrival` index (all topics by when they were stored). */
  ash: string;
  ask: string;
  /** Epoch seconds after which DynamoDB's TTL deletes the item (only with retention configured). */
  [EXPIRES]?: number;
}

export const toEventItem = (event: LogEvent, delivery: string, storedAt: string, expiresAt?: number): EventItem => ({
  pk: eventPk(event),
  topic: event.topic,
  tsk: timeSortKey(event),
  rsh: recentShardKey(event),
  rsk: recentSortKey(event),
  ash: arrivalShardKey(event),
  ask: arrivalSortKey(event, storedAt),
  ...(expiresAt === undefined ? {} : { [EXPIRES]: expiresAt }),
  event_id: event.event_id,
  timestamp: event.timestamp,
  source: event.source,
  payload: JSON.stringify(event.payload),
  delivery,
  stored_at: storedAt,
});

export const fromEventItem = (item: Record<string, unknown>): StoredEvent => ({
  topic: String(item.topic),
  event_id: String(item.event_id),
  timestamp: String(item.timestamp),
  source: String(item.source),
  payload: JSON.parse(String(item.payload)) as Record<string, unknown>,
  delivery: String(item.delivery),
  stored_at: String(item.stored_at),
});

/**
 * Expired items stay readable until DynamoDB's TTL gets round to deleting them (and forever on
 * dynalite, which has no TTL), so every read leaves them out itself.
 */
export const notExpiredFilter = (now: Date) => ({
  expression: '(attribute_not_exists(#expires) OR #expires > :now)',
  names: { '#expires': EXPIRES },
  values: { ':now': Math.floor(now.getTime() / 1000) },
});

export const isExpired = (item: Record<string, unknown>, now: Date): boolean =>
  typeof item[EXPIRES] === 'number' && (item[EXPIRES] as number) <= Math.floor(now.getTime() / 1000);
