// The input contract for one log event, and the normalized form the rest of the system stores.
import { z } from 'zod';
import { TooLargeError, ValidationError, type FieldIssue } from './errors.ts';
import { InexactNumber, toQueueJson } from './json.ts';

export const LIMITS = {
  /** Raw request body. */
  maxBodyBytes: 4 * 1024 * 1024,
  maxEventsPerRequest: 10_000,
  /**
   * One event as it travels in the queue (JSON, UTF-8, see json.ts). Fits an SQS message and a
   * DynamoDB item with room to spare.
   */
  maxEventBytes: 240 * 1024,
  topicMaxLength: 128,
  eventIdMaxBytes: 512,
  sourceMaxBytes: 256,
  payloadMaxDepth: 32,
} as const;

/** Topics become part of the dedup key `topic#event_id`; without `#` in topics that key is collision-free. */
const TOPIC_PATTERN = /^[A-Za-z0-9._-]*$/;

// RFC 3339 date-time with an explicit zone; up to nanosecond precision.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

export interface NormalizedTime {
  /** UTC, with the fraction digits the sender gave: `2026-01-02T03:04:05.123Z`. */
  iso: string;
  /** UTC with a 9-digit fraction, so that string order is time order. */
  sortable: string;
}

const pad = (value: number, width: number): string => String(value).padStart(width, '0');

// setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
const daysIn = (year: number, month: number): number => {
  const date = new Date(0);
  date.setUTCFullYear(year, month, 0);
  return date.getUTCDate();
};

/** Returns the UTC form of an RFC 3339 instant, or a reason it is not one. */
export const normalizeTimestamp = (input: string): NormalizedTime | string => {
  const match = RFC3339.exec(input);
  if (!match) return 'must be an RFC 3339 date-time with a zone, e.g. 2026-01-02T03:04:05.123Z or 2026-01-02T04:04:05+01:00';
  const [, y, mo, d, h, mi, s, fraction = '', z, sign, oh, om] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const [hour, minute, second] = [Number(h), Number(mi), Number(s)];
  if (month < 1 || month > 12) return `month ${mo} does not exist`;
  const daysInMonth = daysIn(year, month);
  if (day < 1 || day > daysInMonth) return `day ${d} does not exist in ${y}-${mo}`;
  if (hour > 23 || minute > 59) return `time ${h}:${mi} does not exist`;
  if (second > 59) return 'seconds must be 00-59 (leap seconds are not accepted)';
  let offsetMinutes = 0;
  if (!z) {
    const offsetHours = Number(oh);
    const offsetMins = Number(om);
    if (offsetHours > 23 || offsetMins > 59) return `zone offset ${sign}${oh}:${om} does not exist`;
    offsetMinutes = (sign === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const local = new Date(0);
  local.setUTCFullYear(year, month - 1, day);
  local.setUTCHours(hour, minute - offsetMinutes, second, 0);
  const utcYear = local.getUTCFullYear();
  if (utcYear < 1 || utcYear > 9999) return 'must fall between years 0001 and 9999 in UTC';
  const base =
    `${pad(utcYear, 4)}-${pad(local.getUTCMonth() + 1, 2)}-${pad(local.getUTCDate(), 2)}` +
    `T${pad(local.getUTCHours(), 2)}:${pad(local.getUTCMinutes(), 2)}:${pad(local.getUTCSeconds(), 2)}`;
  return {
    iso: `${base}${fraction ? `.${fraction}` : ''}Z`,
    sortable: `${base}.${fraction.padEnd(9, '0')}Z`,
  };
};

const utf8Bytes = (value: string): number => Buffer.byteLength(value, 'utf8');

/** DynamoDB and SQS store UTF-8: a lone surrogate would come back as U+FFFD, i.e. changed. */
const wellFormed = (value: string): boolean => value.isWellFormed();

const text = (maxBytes: number) =>
  z
    .string()
    .min(1, 'must not be empty')
    .refine(wellFormed, 'must be valid Unicode (no lone surrogates)')
    .refine((value) => utf8Bytes(value) <= maxBytes, `must be at most ${maxBytes} bytes (UTF-8)`);

/**
 * One walk over a payload: too deep, or holding a number that would not be stored exactly. Reports
 * the first problem of each kind with its path.
 */
const payloadProblems = (payload: unknown, limit: number): Array<{ path: PropertyKey[]; message: string }> => {
  const problems: Array<{ path: PropertyKey[]; message: string }> = [];
  let tooDeep = false;
  const walk = (value: unknown, path: PropertyKey[]): void => {
    if (value instanceof InexactNumber) {
      problems.push({
        path,
        message: `the number ${value.source.slice(0, 40)} cannot be stored exactly (a 64-bit float holds 15-17 significant digits and no infinities); send it as a string`,
      });
      return;
    }
    if (value === null || typeof value !== 'object') return;
    if (path.length >= limit) {
      if (!tooDeep) problems.push({ path: [], message: `must be nested at most ${limit} levels deep` });
      tooDeep = true;
      return;
    }
    for (const [key, child] of Object.entries(value)) walk(child, [...path, Array.isArray(value) ? Number(key) : key]);
  };
  walk(payload, []);
  return problems;
};

export const eventSchema = z.object({
  topic: z
    .string()
    .min(1, 'must not be empty')
    .max(LIMITS.topicMaxLength, `must be at most ${LIMITS.topicMaxLength} characters`)
    .regex(TOPIC_PATTERN, 'may contain only A-Z a-z 0-9 . _ -'),
  event_id: text(LIMITS.eventIdMaxBytes),
  timestamp: z.string().transform((value, ctx) => {
    const normalized = normalizeTimestamp(value);
    if (typeof normalized === 'string') {
      ctx.addIssue({ code: 'custom', message: normalized });
      return z.NEVER;
    }
    return normalized;
  }),
  source: text(LIMITS.sourceMaxBytes),
  payload: z
    .custom<Record<string, unknown>>(
      (value) => value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof InexactNumber),
      'must be a JSON object',
    )
    .superRefine((value, ctx) => {
      for (const problem of payloadProblems(value, LIMITS.payloadMaxDepth)) {
        ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
      }
    }),
});

/** An event as it travels through the queue and is stored: timestamp normalized to UTC. */
export interface LogEvent {
  topic: string;
  event_id: string;
  timestamp: string;
  /** `timestamp` with a fixed-width fraction, used for ordering. */
  timestamp_sortable: string;
  source: string;
  payload: Record<string, unknown>;
}

const toIssues = (error: z.ZodError, candidate: unknown, index: number | undefined): FieldIssue[] =>
  error.issues.map((issue) => {
    const [first] = issue.path;
    const missing =
      issue.path.length === 1 && candidate !== null && typeof candidate === 'object' && (candidate as Record<PropertyKey, unknown>)[first as PropertyKey] === undefined;
    return {
      ...(index === undefined ? {} : { index }),
      field: issue.path.length > 0 ? issue.path.join('.') : '(event)',
      message: missing ? 'is required' : issue.message,
    };
  });

/** Accepts one event, `{"events": [...]}` or a bare array; returns the events to enqueue or throws. */
export const validatePublishRequest = (body: unknown): LogEvent[] => {
  let raw: unknown[];
  let single = false;
  if (Array.isArray(body)) raw = body;
  else if (body !== null && typeof body === 'object' && 'events' in body) {
    const events = (body as { events: unknown }).events;
    if (!Array.isArray(events)) {
      throw new ValidationError('events must be an array', [{ field: 'events', message: 'must be an array of events' }]);
    }
    raw = events;
  } else {
    raw = [body];
    single = true;
  }
  if (raw.length === 0) {
    throw new ValidationError('no events in the request', [{ field: 'events', message: 'must contain at least one event' }]);
  }
  if (raw.length > LIMITS.maxEventsPerRequest) {
    throw new TooLargeError(`${raw.length} events in one request; at most ${LIMITS.maxEventsPerRequest} are accepted`);
  }

  const issues: FieldIssue[] = [];
  const events: LogEvent[] = [];
  raw.forEach((candidate, index) => {
    const parsed = eventSchema.safeParse(candidate);
    if (!parsed.success) {
      issues.push(...toIssues(parsed.error, candidate, single ? undefined : index));
      return;
    }
    const { timestamp, ...rest } = parsed.data;
    const event: LogEvent = { ...rest, timestamp: timestamp.iso, timestamp_sortable: timestamp.sortable };
    const size = utf8Bytes(toQueueJson(event));
    if (size > LIMITS.maxEventBytes) {
      issues.push({
        ...(single ? {} : { index }),
        field: 'payload',
        message: `the event is ${size} bytes as JSON; at most ${LIMITS.maxEventBytes} are accepted`,
      });
      return;
    }
    events.push(event);
  });
  if (issues.length > 0) {
    const count = new Set(issues.map((issue) => issue.index ?? 0)).size;
    throw new ValidationError(`${count} of ${raw.length} event(s) are invalid; nothing was accepted`, issues);
  }
  return events;
};
