// The JSON API, as the console reads it. Same origin: every path is relative to the page, so the
// console works wherever the stack serves it.
import type { TopicStats } from '../../lib/api/wire.ts';
import { field, parseExact, toPlain, type Json } from './json.ts';

// The /stats body has one definition, shared with the functions (a types-only module: nothing of it
// reaches the bundle).
export type { Stats } from '../../lib/api/wire.ts';
export type { TopicStats as TopicCounts } from '../../lib/api/wire.ts';

export interface SeriesPoint {
  t: string;
  received: number;
  unique: number;
  duplicate: number;
}

export interface Series {
  from: string;
  to: string;
  step: number;
  points: SeriesPoint[];
}

export interface Topic extends TopicStats {
  first_event_at: string | null;
  last_event_at: string | null;
}

export interface TopicsPage {
  topics: Topic[];
  next_cursor: string | null;
}

/** An event as the API returned it; the payload keeps its exact JSON (key order, number text). */
export interface LogEvent {
  topic: string;
  event_id: string;
  timestamp: string;
  source: string;
  stored_at: string;
  payload: Json;
}

export interface EventsPage {
  events: LogEvent[];
  next_cursor: string | null;
  examined: number;
}

export interface RedriveResult {
  moved: number;
  beyond_horizon: number;
}

/** What went wrong with a request: `status` 0 when the API could not be reached at all. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const apiUrl = (path: string): string => new URL(path, document.baseURI).toString();

// When the stack sets READ_API_KEYS, every read needs a key: the console asks for one and keeps it for
// this browser tab's session only (sessionStorage), sending it as x-api-key.
const READ_KEY = 'log-aggregator.read-key';
export const readKey = (): string => sessionStorage.getItem(READ_KEY) ?? '';
export const setReadKey = (key: string): void => {
  if (key) sessionStorage.setItem(READ_KEY, key);
  else sessionStorage.removeItem(READ_KEY);
};

/** A read refused for want of a (valid) key. */
export const needsKey = (error: unknown): boolean => error instanceof ApiError && (error.status === 401 || error.status === 403);

export const query = (params: Record<string, string | number | undefined | null>): string => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
};

const request = async (path: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<string> => {
  const { timeoutMs = 15_000, signal, ...rest } = init;
  // The caller's signal and a timeout (by hand: AbortSignal.any is too new for some browsers).
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const forward = (): void => controller.abort();
  signal?.addEventListener('abort', forward);
  let response: Response;
  let text: string;
  try {
    const key = readKey();
    response = await fetch(apiUrl(path), {
      ...rest,
      signal: controller.signal,
      headers: { accept: 'application/json', ...(key ? { 'x-api-key': key } : {}), ...rest.headers },
    });
    text = await response.text();
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new ApiError(0, 'unreachable', timedOut ? `no answer within ${timeoutMs / 1000} s` : 'the API cannot be reached');
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', forward);
  }
  if (!response.ok) {
    let code = `http_${response.status}`;
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = JSON.parse(text) as { error?: string; message?: string };
      if (body.error) code = body.error;
      if (body.message) message = body.message;
    } catch {
      // not the API's JSON error (a proxy, a gateway timeout): keep the status line
    }
    throw new ApiError(response.status, code, message);
  }
  return text;
};

export const getJson = async <T>(path: string, init?: RequestInit & { timeoutMs?: number }): Promise<T> => JSON.parse(await request(path, init)) as T;

const str = (node: Json | undefined): string => (node?.kind === 'string' ? node.value : '');

/** GET /events or /events/tail, parsed exactly (see json.ts). */
export const getEvents = async (path: string, init?: RequestInit & { timeoutMs?: number }): Promise<EventsPage> => {
  const body = parseExact(await request(path, init));
  const events = field(body, 'events');
  const cursor = field(body, 'next_cursor');
  return {
    events: (events?.kind === 'array' ? events.items : []).map((event) => ({
      topic: str(field(event, 'topic')),
      event_id: str(field(event, 'event_id')),
      timestamp: str(field(event, 'timestamp')),
      source: str(field(event, 'source')),
      stored_at: str(field(event, 'stored_at')),
      payload: field(event, 'payload') ?? { kind: 'object', entries: [] },
    })),
    next_cursor: cursor?.kind === 'string' ? cursor.value : null,
    examined: Number(toPlain(field(body, 'examined') ?? { kind: 'number', text: '0' })),
  };
};

export const redrive = (key: string): Promise<RedriveResult> =>
  getJson<RedriveResult>('admin/redrive', { method: 'POST', headers: { 'x-api-key': key }, timeoutMs: 60_000 });

/** The single-event URL of the API. */
export const eventUrl = (event: Pick<LogEvent, 'topic' | 'event_id'>): string =>
  apiUrl(`events/${encodeURIComponent(event.topic)}/${encodeURIComponent(event.event_id)}`);

export const describeError = (error: unknown): string => {
  if (error instanceof ApiError) {
    if (error.status === 0) return `The API does not answer: ${error.message}.`;
    return `${error.message} (${error.status} ${error.code})`;
  }
  return (error as Error)?.message ?? String(error);
};
