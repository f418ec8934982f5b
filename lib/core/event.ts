// The input contract for one log event, and the normalized form the rest of the system stores.
import { z } from 'zod';
import { InexactNumber } from './json.ts';
import { normalizeTimestamp } from './time.ts';

export const LIMITS = {
  /** Raw request body (compressed, when it is). */
  maxBodyBytes: 4 * 1024 * 1024,
  /** A compressed body once inflated (the shipper protocols; inflation stops at this size). */
  maxInflatedBodyBytes: 16 * 1024 * 1024,
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
export const TOPIC_PATTERN = /^[A-Za-z0-9._-]*$/;

export const isTopicName = (value: string): boolean =>
  value.length > 0 && value.length <= LIMITS.topicMaxLength && TOPIC_PATTERN.test(value);

export const utf8Bytes = (value: string): number => Buffer.byteLength(value, 'utf8');

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
