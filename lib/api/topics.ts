// Topics: a page of topics by name with their counts (one index query and one BatchGetItem) and,
// per topic, the first and last event time (two single-item index reads each); or one topic.
import pLimit from 'p-limit';
import { z } from 'zod';
import { BadQueryError, NotFoundError } from '../core/errors.ts';
import { isTopicName } from '../core/event.ts';
import type { TopicCounts } from '../core/ports.ts';
import type { Services } from '../app/services.ts';

export interface TopicSummary {
  topic: string;
  received: number;
  unique: number;
  duplicate: number;
  first_event_at: string | null;
  last_event_at: string | null;
}

export interface TopicsPage {
  topics: TopicSummary[];
  next_cursor: string | null;
}

export const DEFAULT_TOPICS_LIMIT = 100;
export const MAX_TOPICS_LIMIT = 100;

const paramsSchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_TOPICS_LIMIT).default(DEFAULT_TOPICS_LIMIT),
  cursor: z.string().min(1).optional(),
});

const summarize = async (services: Pick<Services, 'store'>, counts: TopicCounts, now: Date): Promise<TopicSummary> => {
  const range = await services.store.topicTimeRange(counts.topic, now);
  const { topic, received, unique, duplicate } = counts;
  return { topic, received, unique, duplicate, first_event_at: range.first ?? null, last_event_at: range.last ?? null };
};

export const listTopics = async (
  services: Pick<Services, 'store' | 'counters'>,
  rawParams: Record<string, string | undefined> = {},
  now = new Date(),
): Promise<TopicsPage> => {
  const parsed = paramsSchema.safeParse(rawParams);
  if (!parsed.success) throw new BadQueryError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  const page = await services.counters.listTopics(parsed.data.limit, parsed.data.cursor);
  const limit = pLimit(8);
  const topics = await Promise.all(page.topics.map((counts) => limit(() => summarize(services, counts, now))));
  return { topics, next_cursor: page.next ?? null };
};

export const getTopic = async (services: Pick<Services, 'store' | 'counters'>, topic: string, now = new Date()): Promise<TopicSummary> => {
  if (!isTopicName(topic)) throw new BadQueryError('topic: not a valid topic name');
  const counts = await services.counters.topicCounts(topic);
  if (!counts) throw new NotFoundError(`no events were ever received for topic ${topic}`);
  return summarize(services, counts, now);
};
