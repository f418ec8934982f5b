// Publishing: validated events are packed into as few SQS messages as possible and sent in batches.
// Nothing is counted here: `received` is counted from each message's record when it is processed,
// so an event is counted once whatever happens to this function after SQS accepted it.
import pLimit from 'p-limit';
import { DependencyError } from '../core/errors.ts';
import type { AcceptedEvent } from '../core/publish-request.ts';
import { groupIntoBatches, packMessages, type PackedMessage } from '../queue/message.ts';
import { PartialSendError, queueUrl, sendBatch } from '../queue/sqs.ts';
import type { Services } from '../app/services.ts';

const SEND_CONCURRENCY = 8;

export interface PublishResult {
  accepted: number;
  messages: number;
}

export const publishEvents = async (services: Pick<Services, 'sqs' | 'config'>, events: AcceptedEvent[]): Promise<PublishResult> => {
  const { sqs, config } = services;
  const url = await queueUrl(sqs, config.QUEUE_NAME);
  const messages = packMessages(events);
  const limit = pLimit(SEND_CONCURRENCY);
  const results = await Promise.allSettled(groupIntoBatches(messages).map((batch) => limit(() => sendBatch(sqs, url, batch))));

  const sent: PackedMessage[] = [];
  const failures: unknown[] = [];
  for (const result of results) {
    if (result.status === 'fulfilled') sent.push(...result.value);
    else {
      failures.push(result.reason);
      if (result.reason instanceof PartialSendError) sent.push(...result.reason.accepted);
    }
  }
  const accepted = sent.reduce((sum, message) => sum + message.eventCount, 0);
  if (failures.length > 0) {
    throw new DependencyError(
      `the queue accepted ${accepted} of ${events.length} events; retry the request (events already accepted count as duplicates)`,
      { cause: failures[0] },
    );
  }
  return { accepted, messages: sent.length };
};
