// Event queries: parameters from the API, validated here, and pages with an opaque cursor.
import { z } from 'zod';
import { BadQueryError } from './errors.ts';
import { normalizeTimestamp } from './event.ts';
import type { Services } from './services.ts';
import type { StoredEvent } from './store.ts';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

const paramsSchema = z.object({
  topic: z.string().min(1, 'is required'),
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT),
  order: z.enum(['asc', 'desc']).default('asc'),
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

const encodeCursor = (key: Record<string, unknown>): string => Buffer.from(JSON.stringify(key)).toString('base64url');

const decodeCursor = (cursor: string, topic: string): Record<string, unknown> => {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof key.pk === 'string' && typeof key.tsk === 'string' && key.topic === topic) return key;
  } catch {
    // fall through
  }
  throw new BadQueryError('cursor is not one this API returned for this topic; start again without it');
};

const sortableBound = (value: string | undefined, name: string): string | undefined => {
  if (value === undefined) return undefined;
  const normalized = normalizeTimestamp(value);
  if (typeof normalized === 'string') throw new BadQueryError(`${name} ${normalized}`);
  return normalized.sortable;
};

const toPublic = (event: StoredEvent): PublicEvent => ({
  topic: event.topic,
  event_id: event.event_id,
  timestamp: event.timestamp,
  source: event.source,
  payload: event.payload,
  stored_at: event.stored_at,
});

export const queryEvents = async (services: Services, rawParams: Record<string, string | undefined>): Promise<EventsPage> => {
  const parsed = paramsSchema.safeParse(rawParams);
  if (!parsed.success) {
    throw new BadQueryError(
      parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '),
    );
  }
  const params = parsed.data;
  const page = await services.store.queryTopic({
    topic: params.topic,
    limit: params.limit,
    descending: params.order === 'desc',
    fromSortable: sortableBound(params.from, 'from'),
    toSortable: sortableBound(params.to, 'to'),
    source: params.source,
    cursor: params.cursor ? decodeCursor(params.cursor, params.topic) : undefined,
  });
  return { events: page.events.map(toPublic), next_cursor: page.cursor ? encodeCursor(page.cursor) : null };
};
