// The publish request: one event, `{"events": [...]}` or a bare array, validated whole before
// anything is enqueued.
import type { z } from 'zod';
import { TooLargeError, ValidationError, type FieldIssue } from './errors.ts';
import { eventSchema, LIMITS, utf8Bytes, type LogEvent } from './event.ts';
import { toQueueJson } from './json.ts';

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

/** A valid event with the JSON text it travels in (measured once, then packed as it is). */
export interface AcceptedEvent {
  event: LogEvent;
  json: string;
  bytes: number;
}

/**
 * Validates one event against the contract and measures it as it will travel; the ingest protocols
 * (lib/ingest) put every record they map through here too. `index` is reported with each issue.
 */
export const acceptEvent = (candidate: unknown, index?: number): AcceptedEvent | { issues: FieldIssue[] } => {
  const parsed = eventSchema.safeParse(candidate);
  if (!parsed.success) return { issues: toIssues(parsed.error, candidate, index) };
  const { timestamp, ...rest } = parsed.data;
  const event: LogEvent = { ...rest, timestamp: timestamp.iso, timestamp_sortable: timestamp.sortable };
  const json = toQueueJson(event);
  const size = utf8Bytes(json);
  if (size > LIMITS.maxEventBytes) {
    return {
      issues: [{ ...(index === undefined ? {} : { index }), field: 'payload', message: `the event is ${size} bytes as JSON; at most ${LIMITS.maxEventBytes} are accepted` }],
    };
  }
  return { event, json, bytes: size };
};

/** Accepts one event, `{"events": [...]}` or a bare array; returns the events to enqueue or throws. */
export const validatePublishRequest = (body: unknown): AcceptedEvent[] => {
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
  const events: AcceptedEvent[] = [];
  raw.forEach((candidate, index) => {
    const outcome = acceptEvent(candidate, single ? undefined : index);
    if ('issues' in outcome) issues.push(...outcome.issues);
    else events.push(outcome);
  });
  if (issues.length > 0) {
    const count = new Set(issues.map((issue) => issue.index ?? 0)).size;
    throw new ValidationError(`${count} of ${raw.length} event(s) are invalid; nothing was accepted`, issues);
  }
  return events;
};
