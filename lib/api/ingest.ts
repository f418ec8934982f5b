// Publishing: validated events are packed into as few SQS messages as possible and sent in batches;
// `received` counts the events SQS accepted.
import pLimit from 'p-limit';
import { DependencyError } from '../core/errors.ts';
import type { LogEvent } from '../core/event.ts';
import { groupIntoBatches, packMessages, type PackedMessage } from '../queue/message.ts';
import { queueUrl, sendBatch } from '../queue/sqs.ts';
import type { Services } from '../app/services.ts';

const SEND_CONCURRENCY = 8;

export interface PublishResult {
  accepted: number;
  messages: number;
}

export const publishEvents = async (services: Services, events: LogEvent[]): Promise<PublishResult> => {
  const { sqs, store, config } = services;
  const url = await queueUrl(sqs, config.QUEUE_NAME);
  const messages = packMessages(events, { shards: config.COUNTER_SHARDS });
  const limit = pLimit(SEND_CONCURRENCY);
  const results = await Promise.allSettled(groupIntoBatches(messages).map((batch) => limit(() => sendBatch(sqs, url, batch))));

  const sent: PackedMessage[] = [];
  const failures: unknown[] = [];
  for (const result of results) {
    if (result.status === 'fulfilled') sent.push(...result.value);
    else {
      failures.push(result.reason);
      sent.push(...((result.reason as { accepted?: PackedMessage[] }).accepted ?? []));
    }
  }
  const accepted = sent.reduce((sum, message) => sum + message.eventCount, 0);
  // Counted even when part of the request failed: those events are in the queue and will be processed.
  if (accepted > 0) await store.addReceived(accepted, Math.floor(Math.random() * config.COUNTER_SHARDS), new Date());
  if (failures.length > 0) {
    throw new DependencyError(
      `the queue accepted ${accepted} of ${events.length} events; retry the request (events already accepted count as duplicates)`,
      { cause: failures[0] },
    );
  }
  return { accepted, messages: sent.length };
};
