// Opaque page tokens. A token is a DynamoDB position (LastEvaluatedKey, or one per partition of a
// merged read), base64url-encoded; decoding checks its exact shape so that a forged or corrupted
// token is a BadQueryError, never a request DynamoDB refuses.
import { z } from 'zod';
import { BadQueryError } from '../core/errors.ts';
import { INDEX, PK, RECENT_SHARDS } from './schema.ts';

type Key = Record<string, string>;

const keyOf = (...names: string[]) => z.strictObject(Object.fromEntries(names.map((name) => [name, z.string().min(1)])) as Record<string, z.ZodString>);

/**
 * A time sort key as this version writes it: 23 digits of time (keys.ts `timeKey`), then `#`. A
 * cursor handed out before the keys lost their separators (`2026-12-02T…#id`, before `npm run
 * migrate`) has the same fields, but would start the page somewhere else entirely (`-` sorts before
 * digits): it is refused instead, and the reader starts again.
 */
const timeSortKeyOf = (key: Record<string, string>, name: string): boolean => /^\d{23}#/.test(key[name] ?? '');

const topicKey = keyOf(PK, INDEX.topicTime.partitionKey, INDEX.topicTime.sortKey).refine((key) => timeSortKeyOf(key, INDEX.topicTime.sortKey));
const recentKey = keyOf(PK, INDEX.recent.partitionKey, INDEX.recent.sortKey).refine((key) => timeSortKeyOf(key, INDEX.recent.sortKey));
const recentPositions = z.record(z.string().regex(new RegExp(`^r#([0-9]|[1-9][0-9])$`)), recentKey.nullable()).refine(
  (positions) => Object.keys(positions).every((shard) => Number(shard.slice(2)) < RECENT_SHARDS),
  'unknown partition',
);
const topicNameKey = keyOf(PK, INDEX.topicNames.partitionKey, INDEX.topicNames.sortKey);

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

const decode = <T>(token: string, schema: z.ZodType<T>, what: string): T => {
  try {
    const parsed = schema.safeParse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')));
    if (parsed.success) return parsed.data;
  } catch {
    // not base64url JSON: the same answer as a wrong shape
  }
  throw new BadQueryError(`cursor: not a ${what} position this API handed out; start again without it`);
};

export const topicPageToken = {
  encode: (key: Record<string, unknown>): string => encode(key),
  decode: (token: string, topic: string): Key => {
    const key = decode(token, topicKey, 'topic page');
    if (key[INDEX.topicTime.partitionKey] !== topic) throw new BadQueryError('cursor: it belongs to another topic');
    return key;
  },
};

export type RecentPositions = Record<string, Key | null>;

export const recentPageToken = {
  encode: (positions: Record<string, Record<string, unknown> | null>): string => encode(positions),
  decode: (token: string): RecentPositions => decode(token, recentPositions, 'recent page') as RecentPositions,
};

export const topicListToken = {
  encode: (key: Record<string, unknown>): string => encode(key),
  decode: (token: string): Key => decode(token, topicNameKey, 'topic list'),
};

const tailPosition = z.strictObject({ after: z.string().min(1).max(4096), n: z.number().int().min(0) });

/**
 * The tail's position: the sort key of a tail item (one total order over messages) and how many of
 * its events were handed out already.
 */
export interface TailPosition {
  after: string;
  n: number;
}

export const tailToken = {
  encode: (position: TailPosition): string => encode(position),
  decode: (token: string): TailPosition => decode(token, tailPosition, 'tail'),
};
