// GET /receipts/{receipt}: whether the events of one POST /publish are counted yet. Publish answers 202
// once its events are in the queue; they are stored and counted when the processor takes their messages,
// a moment later (longer with a backlog). The receipt names those messages, and each message's record
// says whether its counts are folded into the counters (lib/core/fold.ts): once all are, the request's
// events are in `received`, `unique_processed` / `duplicate_dropped`, the topics' counts and the history.
// `wait` long-polls, like the tail, so a client waits with one request instead of polling /stats.
import { z } from 'zod';
import { BadQueryError, NotFoundError } from '../core/errors.ts';
import { isBeyondHorizon } from '../queue/batch-id.ts';
import { batchesOf } from '../queue/receipt.ts';
import type { Services } from '../app/services.ts';
import { MAX_WAIT_SECONDS } from './query.ts';
import type { ReceiptStatus } from './wire.ts';

export type { ReceiptStatus } from './wire.ts';

const paramsSchema = z.object({ wait: z.coerce.number().int().min(0).max(MAX_WAIT_SECONDS).default(0) });

/** How often a waiting request looks again: a record read per message each time. */
const POLL_MS = 250;

export const receiptStatus = async (
  services: Pick<Services, 'counters' | 'config'>,
  receipt: string,
  rawParams: Record<string, string | undefined> = {},
  clock: { now: () => number; sleep: (ms: number) => Promise<void> } = { now: Date.now, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
): Promise<ReceiptStatus> => {
  const parsed = paramsSchema.safeParse(rawParams);
  if (!parsed.success) throw new BadQueryError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  const batches = batchesOf(receipt);
  const waitUntil = clock.now() + parsed.data.wait * 1000;
  for (;;) {
    const states = await services.counters.recordStates(batches);
    const counted = batches.filter((batch) => states.get(batch) === 'folded').length;
    if (counted === batches.length || clock.now() >= waitUntil) {
      // A message without a record that is older than the horizon can no longer be told: records
      // expire then (and the message itself is out of the queues by then).
      const unknown = batches.filter((batch) => !states.has(batch) && isBeyondHorizon(batch, services.config.DEDUP_HORIZON_SECONDS, clock.now()));
      if (counted < batches.length && unknown.length > 0) {
        throw new NotFoundError(
          `receipt: ${unknown.length} of its messages are older than the dedup horizon (${services.config.DEDUP_HORIZON_SECONDS} s), whose records say whether they were counted; that is no longer known`,
        );
      }
      return { receipt, counted: counted === batches.length, messages: batches.length, counted_messages: counted };
    }
    await clock.sleep(Math.min(POLL_MS, Math.max(0, waitUntil - clock.now())));
  }
};
