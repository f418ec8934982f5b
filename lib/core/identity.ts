// Identities of events and deliveries. The dedup key is `topic#event_id`: topics cannot contain `#`
// (event.ts), so the first `#` splits the key unambiguously and two different (topic, event_id) pairs
// never share a key.
import type { LogEvent } from './event.ts';

export const dedupKey = (event: Pick<LogEvent, 'topic' | 'event_id'>): string => `${event.topic}#${event.event_id}`;

/** Identifies the delivery that wrote an event item: the message's batch id and the event's index in it. */
export const deliveryId = (batch: string, index: number): string => `${batch}:${index}`;
