// Event queries: parameters from the API, validated here, and pages with an opaque cursor.
import { z } from 'zod';
import { BadQueryError, NotFoundError } from '../core/errors.ts';
import { normalizeTimestamp } from '../core/time.ts';
import type { Services } from '../app/services.ts';
import type { EventFilter, StoredEvent } from '../core/ports.ts';
import { SEVERITIES } from '../core/log-line.ts';
import { allOf, containsText, fieldEquals, severityAtLeast, type EventMatcher } from '../core/search.ts';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

/** Long-polling of the tail stays inside API Gateway's 30-second limit. */
export const MAX_WAIT_SECONDS = 20;

const paramsSchema = z.object({
  topic: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT),
  order: z.enum(['asc', 'desc']).optional(),
  source: z.string().min(1).optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  cursor: z.string().optional(),
  q: z.string().min(1, 'must not be empty').max(256).optional(),
  severity: z.enum(SEVERITIES).optional(),
});

const tailSchema = z.object({
  topic: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT),
  source: z.string().min(1).optional(),
  cursor: z.string().optional(),
  q: z.string().min(1, 'must not be empty').max(256).optional(),
  severity: z.enum(SEVERITIES).optional(),
  wait: z.coerce.number().int().min(0).max(MAX_WAIT_SECONDS).default(0),
});

/** Items one page may read, and how long it may take, before it answers with what it found. */
export const PAGE_BUDGET = { maxExamined: 5_000, milliseconds: 1_000 };
/**
 * The tail shows events stored at least this long ago: an event is stamped just before its write, and
 * a write (and, on AWS, an index update) may land a moment after its stamp. Following later would
 * risk stepping past an event that is about to appear.
 */
export const TAIL_LAG_MS = 2_000;

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
  /** Items read from the table for this page, matching or not. */
  examined: number;
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

const badParams = (error: z.ZodError): BadQueryError =>
  new BadQueryError(error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));

/** `payload.<dot.path>=<value>` parameters, all of which must hold, `q`, and `severity` (this level or worse). */
const contentMatcher = (
  rawParams: Record<string, string | undefined>,
  params: { q?: string | undefined; severity?: (typeof SEVERITIES)[number] | undefined },
): EventMatcher | undefined => {
  const matchers: EventMatcher[] = params.q === undefined ? [] : [containsText(params.q)];
  if (params.severity !== undefined) matchers.push(severityAtLeast(params.severity));
  for (const [name, value] of Object.entries(rawParams)) {
    if (!name.startsWith('payload.') || value === undefined) continue;
    const path = name.slice('payload.'.length).split('.');
    if (path.some((segment) => segment === '')) throw new BadQueryError(`${name}: the field path has an empty segment; use payload.a.b=value`);
    matchers.push(fieldEquals(path, value));
  }
  return matchers.length > 0 ? allOf(matchers) : undefined;
};

const budget = (started: number, limits: typeof PAGE_BUDGET) => ({ maxExamined: limits.maxExamined, deadline: started + limits.milliseconds });

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
 * merged, newest first unless order=asc. Filters (source, from, to, q, severity, payload.<path>) combine with
 * both. A page reads a bounded amount (PAGE_BUDGET): with a content filter it may hold fewer than
 * `limit` events and still have a `next_cursor`.
 */
export const queryEvents = async (
  services: Pick<Services, 'store'>,
  rawParams: Record<string, string | undefined>,
  now = new Date(),
  limits = PAGE_BUDGET,
): Promise<EventsPage> => {
  const started = Date.now();
  const parsed = paramsSchema.safeParse(rawParams);
  if (!parsed.success) throw badParams(parsed.error);
  const params = parsed.data;
  const match = contentMatcher(rawParams, params);
  const filter: EventFilter = {
    ...(match ? { match } : {}),
    ...(params.source === undefined ? {} : { source: params.source }),
    ...(params.from === undefined ? {} : { fromSortable: sortableBound(params.from, 'from') }),
    ...(params.to === undefined ? {} : { toSortable: sortableBound(params.to, 'to') }),
  };
  if (filter.fromSortable && filter.toSortable && filter.fromSortable > filter.toSortable) {
    throw new BadQueryError('from: must not be after to');
  }
  const topic = params.topic ?? null;
  const order = params.order ?? (topic === null ? 'desc' : 'asc');
  const position = params.cursor ? decodeCursor(params.cursor, topic, order) : undefined;
  const query = { limit: params.limit, descending: order === 'desc', ...filter, ...budget(started, limits), ...(position ? { cursor: position } : {}) };
  const page = topic === null ? await services.store.queryRecent(query, now) : await services.store.queryTopic({ ...query, topic }, now);
  return {
    events: page.events.map(toPublic),
    next_cursor: page.next ? encodeCursor({ topic, order, page: page.next }) : null,
    examined: page.examined,
  };
};

/**
 * GET /events/tail: events in the order they were stored, for one topic or all, with the filters of
 * queryEvents. Without a cursor, the newest `limit` events and a cursor to follow from; with one, the
 * events stored since. `wait` (seconds) long-polls: it answers as soon as something new matches, or
 * with no events (and an advanced cursor) once the wait is over.
 */
export const tailEvents = async (
  services: Pick<Services, 'store'>,
  rawParams: Record<string, string | undefined>,
  clock: { now: () => Date; sleep: (ms: number) => Promise<void> } = { now: () => new Date(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
): Promise<EventsPage> => {
  const parsed = tailSchema.safeParse(rawParams);
  if (!parsed.success) throw badParams(parsed.error);
  const params = parsed.data;
  const match = contentMatcher(rawParams, params);
  const topic = params.topic ?? null;
  let position = params.cursor ? decodeCursor(params.cursor, topic, 'arrival') : undefined;
  const waitUntil = clock.now().getTime() + params.wait * 1000;
  let examined = 0;
  for (;;) {
    const started = clock.now().getTime();
    const page = await services.store.tail(
      {
        limit: params.limit,
        storedBefore: new Date(started - TAIL_LAG_MS).toISOString(),
        ...(params.topic === undefined ? {} : { topic: params.topic }),
        ...(params.source === undefined ? {} : { source: params.source }),
        ...(match ? { match } : {}),
        ...budget(started, PAGE_BUDGET),
        ...(position ? { cursor: position } : {}),
      },
      clock.now(),
    );
    examined += page.examined;
    position = page.next;
    // A first call answers at once: it is where a follower starts.
    if (page.events.length > 0 || params.cursor === undefined || clock.now().getTime() >= waitUntil) {
      return { events: page.events.map(toPublic), next_cursor: encodeCursor({ topic, order: 'arrival', page: position }), examined };
    }
    await clock.sleep(Math.min(500, Math.max(0, waitUntil - clock.now().getTime())));
  }
};

export const getEvent = async (services: Services, topic: string, eventId: string, now = new Date()): Promise<PublicEvent> => {
  const event = await services.store.getEvent(topic, eventId, now);
  if (!event) throw new NotFoundError(`no event ${eventId} in topic ${topic}`);
  return toPublic(event);
};
