// Event queries: parameters from the API, validated here, and pages with an opaque cursor.
import { z } from 'zod';
import { BadQueryError, NotFoundError } from '../core/errors.ts';
import { normalizeTimestamp } from '../core/time.ts';
import type { Services } from '../app/services.ts';
import type { EventFilter, StoredEvent } from '../core/ports.ts';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

const paramsSchema = z.object({
  topic: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT),
  order: z.enum(['asc', 'desc']).optional(),
  source: z.string().min(1).optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  cursor: z.string().optional(),
});

export interface PublicEvent {
  topic: string;
  event_id: string;
  timestamp: string;
  source: string;
  payload: Record<string, unknown>;
  stored_at: string;
}

export interface EventsPage {
  events: PublicEvent[];
  next_cursor: string | null;
}

/**
 * The API's cursor: the table's opaque page token, bound to the query it belongs to (topic, order),
 * so a cursor of one query cannot silently page through another.
 */
interface Cursor {
  topic: string | null;
  order: string;
  page: string;
}

const encodeCursor = (cursor: Cursor): string => Buffer.from(JSON.stringify(cursor)).toString('base64url');

const cursorError = (): BadQueryError =>
  new BadQueryError('cursor: not one this API returned for this query (same topic and order); start again without it');

const decodeCursor = (raw: string, topic: string | null, order: string): string => {
  let cursor: Partial<Cursor> | undefined;
  try {
    cursor = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<Cursor>;
  } catch {
    throw cursorError();
  }
  if (!cursor || cursor.topic !== topic || cursor.order !== order || typeof cursor.page !== 'string') throw cursorError();
  return cursor.page;
};

const sortableBound = (value: string | undefined, name: string): string | undefined => {
  if (value === undefined) return undefined;
  const normalized = normalizeTimestamp(value);
  if (typeof normalized === 'string') throw new BadQueryError(`${name}: ${normalized}`);
  return normalized.sortable;
};

export const toPublic = (event: StoredEvent): PublicEvent => ({
  topic: event.topic,
  event_id: event.event_id,
  timestamp: event.timestamp,
  source: event.source,
  payload: event.payload,
  stored_at: event.stored_at,
});

/**
 * With a topic: that topic's events by event time, oldest first unless order=desc. Without: all topics
 * merged, newest first unless order=asc. Filters (source, from, to) combine with both.
 */
export const queryEvents = async (
  services: Services,
  rawParams: Record<string, string | undefined>,
  now = new Date(),
): Promise<EventsPage> => {
  const parsed = paramsSchema.safeParse(rawParams);
  if (!parsed.success) {
    throw new BadQueryError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  }
  const params = parsed.data;
  const filter: EventFilter = {
    ...(params.source === undefined ? {} : { source: params.source }),
    ...(params.from === undefined ? {} : { fromSortable: sortableBound(params.from, 'from') }),
    ...(params.to === undefined ? {} : { toSortable: sortableBound(params.to, 'to') }),
  };
  if (filter.fromSortable && filter.toSortable && filter.fromSortable > filter.toSortable) {
    throw new BadQueryError('from: must not be after to');
  }
  if (params.topic !== undefined) {
    const order = params.order ?? 'asc';
    // A filter applies after DynamoDB's Limit, so keep reading until the page is full; each query
    // asks for no more than is still missing, so its last key is exactly where the next page starts.
    const events: StoredEvent[] = [];
    let key = params.cursor ? decodeCursor(params.cursor, params.topic, order) : undefined;
    do {
      const page = await services.store.queryTopic(
        { topic: params.topic, limit: params.limit - events.length, descending: order === 'desc', ...filter, ...(key ? { cursor: key } : {}) },
        now,
      );
      events.push(...page.events);
      key = page.next;
    } while (key && events.length < params.limit);
    return {
      events: events.map(toPublic),
      next_cursor: key ? encodeCursor({ topic: params.topic, order, page: key }) : null,
    };
  }

  const order = params.order ?? 'desc';
  const position = params.cursor ? decodeCursor(params.cursor, null, order) : undefined;
  const page = await services.store.queryRecent({ limit: params.limit, descending: order === 'desc', ...filter, ...(position ? { cursor: position } : {}) }, now);
  return {
    events: page.events.map(toPublic),
    next_cursor: page.next ? encodeCursor({ topic: null, order, page: page.next }) : null,
  };
};

export const getEvent = async (services: Services, topic: string, eventId: string, now = new Date()): Promise<PublicEvent> => {
  const event = await services.store.getEvent(topic, eventId, now);
  if (!event) throw new NotFoundError(`no event ${eventId} in topic ${topic}`);
  return toPublic(event);
};
