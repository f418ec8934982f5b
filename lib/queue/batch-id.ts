// Batch ids: ULIDs, unique and time-ordered. A batch id's time is when its message entered the queue,
// which bounds how long the message can come back (the dedup horizon: queue retention + DLQ
// retention). The horizon rule lives here and only here.
import { decodeTime, monotonicFactory } from 'ulid';

export const ULID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export const nextBatchId = monotonicFactory();

/** True when a message with this batch id is older than the horizon: its record may be gone. */
export const isBeyondHorizon = (batch: string, horizonSeconds: number, now: number = Date.now()): boolean =>
  ULID_PATTERN.test(batch) && now - decodeTime(batch) > horizonSeconds * 1000;
