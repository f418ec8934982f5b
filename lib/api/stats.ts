// Statistics from the counter shard items (a few BatchGetItem calls, never a scan) and the queues.
import { queueDepth, type QueueDepth } from '../queue/sqs.ts';
import type { Services } from '../app/services.ts';

/**
 * Reads always cover the maximum shard count, so lowering COUNTER_SHARDS never hides counts that
 * messages published earlier wrote to higher shards.
 */
export const MAX_COUNTER_SHARDS = 64;

export interface Stats {
  received: number;
  unique_processed: number;
  duplicate_dropped: number;
  processed: number;
  pending: number;
  dedup_rate: number;
  topics: Record<string, { unique: number; duplicate: number }>;
  queue: QueueDepth & { dlq: number };
  started_at: string | null;
  uptime_seconds: number;
}

export const readStats = async (services: Services, now = new Date()): Promise<Stats> => {
  const { store, sqs, config } = services;
  const [totals, main, dlq] = await Promise.all([
    store.readCounters(MAX_COUNTER_SHARDS),
    queueDepth(sqs, config.QUEUE_NAME),
    queueDepth(sqs, config.DLQ_NAME),
  ]);
  const processed = totals.unique + totals.duplicate;
  const startedAt = totals.firstActivityAt ?? null;
  return {
    received: totals.received,
    unique_processed: totals.unique,
    duplicate_dropped: totals.duplicate,
    processed,
    // `received` is written after SQS accepts, so for a moment processing can run ahead of it.
    pending: Math.max(0, totals.received - processed),
    dedup_rate: processed === 0 ? 0 : Number((totals.duplicate / processed).toFixed(4)),
    topics: Object.fromEntries(Object.entries(totals.byTopic).sort(([a], [b]) => a.localeCompare(b))),
    queue: { ...main, dlq: dlq.visible + dlq.in_flight + dlq.delayed },
    started_at: startedAt,
    uptime_seconds: startedAt ? Math.max(0, Math.floor((now.getTime() - Date.parse(startedAt)) / 1000)) : 0,
  };
};
