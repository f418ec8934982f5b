// Administrative operations behind the admin key: redrive the DLQ, purge a topic's events.
import { BadQueryError } from '../core/errors.ts';
import { isTopicName } from '../core/event.ts';
import { redriveDeadLetters, type RedriveResult } from '../queue/redrive.ts';
import type { Services } from '../app/services.ts';

export const PURGE_BATCH = 5_000;

export const redrive = (services: Services): Promise<RedriveResult> =>
  redriveDeadLetters(services.sqs, {
    from: services.config.DLQ_NAME,
    to: services.config.QUEUE_NAME,
    horizonSeconds: services.config.DEDUP_HORIZON_SECONDS,
    max: 10_000,
  });

/**
 * Deletes up to PURGE_BATCH stored events of a topic per call (repeat while `more`). Counters keep
 * their history: they count what was received and stored, not what is stored now. A purged key can
 * be stored again: purging ends its dedup window.
 */
export const purgeTopic = async (services: Services, topic: string): Promise<{ topic: string; deleted: number; more: boolean }> => {
  if (!isTopicName(topic)) throw new BadQueryError('topic: not a valid topic name');
  return { topic, ...(await services.store.deleteTopicEvents(topic, PURGE_BATCH)) };
};
