// Topics with their counts (from the counter items) and, per topic, the first and last event time
// (two single-item index reads each).
import pLimit from 'p-limit';
import type { Services } from '../app/services.ts';
import { MAX_COUNTER_SHARDS } from './stats.ts';

export interface TopicSummary {
  topic: string;
  unique: number;
  duplicate: number;
  first_event_at: string | null;
  last_event_at: string | null;
}

export const listTopics = async (services: Services, now = new Date()): Promise<{ topics: TopicSummary[] }> => {
  const totals = await services.store.readCounters(MAX_COUNTER_SHARDS);
  const limit = pLimit(8);
  const topics = await Promise.all(
    Object.entries(totals.byTopic)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([topic, counts]) =>
        limit(async () => {
          const range = await services.store.topicTimeRange(topic, now);
          return { topic, ...counts, first_event_at: range.first ?? null, last_event_at: range.last ?? null };
        }),
      ),
  );
  return { topics };
};
