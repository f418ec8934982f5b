// Statistics: totals from the total counter shards (one BatchGetItem), the top topics by volume (one
// query per partition of the volume index, then one BatchGetItem of those topics' counters), and the
// queues' depth. Its cost does not depend on the
// number of topics or on how long the aggregator has run.
import { dedupRate } from '../core/counting.ts';
import { BadQueryError } from '../core/errors.ts';
import { normalizeTimestamp } from '../core/time.ts';
import { queueDepth } from '../queue/sqs.ts';
import type { Stats } from './wire.ts';
import type { Services } from '../app/services.ts';

export type { Stats, TopicStats } from './wire.ts';

export const readStats = async (
  services: Pick<Services, 'counters' | 'sqs' | 'config'>,
  options: { topTopics?: number; now?: Date } = {},
): Promise<Stats> => {
  const { counters, sqs, config } = services;
  const now = options.now ?? new Date();
  const [totals, top, main, dlq] = await Promise.all([
    counters.readTotals(),
    counters.topTopics(options.topTopics ?? config.STATS_TOP_TOPICS),
    queueDepth(sqs, config.QUEUE_NAME),
    queueDepth(sqs, config.DLQ_NAME),
  ]);
  const startedAt = totals.firstAt ?? null;
  return {
    received: totals.received,
    unique_processed: totals.unique,
    duplicate_dropped: totals.duplicate,
    processed: totals.unique + totals.duplicate,
    dedup_rate: dedupRate(totals),
    top_topics: top.map(({ topic, received, unique, duplicate }) => ({ topic, received, unique, duplicate })),
    queue: { ...main, dlq: dlq.visible + dlq.in_flight + dlq.delayed },
    started_at: startedAt,
    uptime_seconds: startedAt ? Math.max(0, Math.floor((now.getTime() - Date.parse(startedAt)) / 1000)) : 0,
  };
};

export interface SeriesPoint {
  /** Start of the interval (ISO, UTC). */
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

/** Minutes read by one request at most: a day at one-minute resolution. */
export const MAX_SERIES_MINUTES = 1440;

const instant = (value: string | undefined, name: string, fallback: number): number => {
  if (value === undefined || value === '') return fallback;
  const normalized = normalizeTimestamp(value);
  if (typeof normalized === 'string') throw new BadQueryError(`${name}: ${normalized}`);
  return Date.parse(normalized.iso);
};

/**
 * Counts per interval of `step` seconds (a multiple of 60) from `from` (inclusive) to `to`
 * (exclusive), both rounded down to the minute; defaults: the last hour, per minute.
 */
export const readSeries = async (services: Pick<Services, 'counters'>, params: Record<string, string | undefined>, now = new Date()): Promise<Series> => {
  const minute = 60_000;
  const floorMinute = (ms: number): number => Math.floor(ms / minute) * minute;
  const step = params.step === undefined ? 60 : Number(params.step);
  if (!Number.isInteger(step) || step < 60 || step % 60 !== 0) throw new BadQueryError('step: must be a whole number of minutes in seconds (60, 300, 3600, ...)');
  const to = floorMinute(instant(params.to, 'to', now.getTime() + minute));
  const from = floorMinute(instant(params.from, 'from', to - 60 * minute));
  if (from >= to) throw new BadQueryError('from: must be before to');
  if ((to - from) / minute > MAX_SERIES_MINUTES) throw new BadQueryError(`from: at most ${MAX_SERIES_MINUTES / 60} hours per request`);
  const minutes: string[] = [];
  for (let t = from; t < to; t += minute) minutes.push(new Date(t).toISOString().slice(0, 16));
  const counts = await services.counters.readMinutes(minutes);
  const points: SeriesPoint[] = [];
  for (let start = from; start < to; start += step * 1000) {
    const point: SeriesPoint = { t: new Date(start).toISOString(), received: 0, unique: 0, duplicate: 0 };
    for (let t = start; t < Math.min(to, start + step * 1000); t += minute) {
      const c = counts.get(new Date(t).toISOString().slice(0, 16));
      if (c) {
        point.received += c.received;
        point.unique += c.unique;
        point.duplicate += c.duplicate;
      }
    }
    points.push(point);
  }
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), step, points };
};
