// A publish receipt: the batch ids of the messages that carry a request's events, as one string the
// client keeps (POST /publish hands it out) and asks about later (GET /receipts/{receipt}). Each of
// those messages gets a message record when it is processed, and the record says whether its counts
// have been folded into the counters; so the receipt is all it takes to tell when a request's events
// are counted. Opaque to clients: they only hand it back.
import { BadQueryError } from '../core/errors.ts';
import { ULID_PATTERN } from './batch-id.ts';

/**
 * Messages one receipt names at most: one request is at most 4 MiB and 10,000 events, at most 100
 * topics per message, so it spans at most about 100 messages (two more where it shares the first and
 * last with other requests).
 */
export const MAX_RECEIPT_MESSAGES = 200;

export const receiptOf = (batches: string[]): string => batches.join('.');

export const batchesOf = (receipt: string): string[] => {
  const batches = receipt.split('.');
  if (batches.length > MAX_RECEIPT_MESSAGES || batches.some((batch) => !ULID_PATTERN.test(batch))) {
    throw new BadQueryError('receipt: not one POST /publish handed out');
  }
  return [...new Set(batches)];
};
