// Processing a batch of queue messages: each message is stored and recorded on its own (a failure is
// that message's alone), then the records of the batch are folded into the counters together, so a
// batch costs one counter update per counter it touches, not one per message.
import type { MessageRecord } from '../core/counting.ts';
import type { Checkpoint } from '../core/faults.ts';
import { foldRecords, type FoldResult } from '../core/fold.ts';
import { dedupKey } from '../core/identity.ts';
import { processMessage, type ProcessResult } from '../core/processor.ts';
import { carryOverLegacyCounts } from '../core/upgrade.ts';
import { parseMessage, type QueueMessage } from '../queue/message.ts';
import type { Services } from '../app/services.ts';

type Hook = ((point: Checkpoint) => void | Promise<void>) | undefined;

export const processQueueMessage = (
  services: Pick<Services, 'store' | 'counters' | 'config'>,
  body: string,
  options: { checkpoint: Hook; deadline?: number; read?: BatchRead },
): Promise<ProcessResult> =>
  processMessage({ events: services.store, counters: services.counters }, options.read?.messages.get(body) ?? parseMessage(body), {
    retentionSeconds: services.config.RETENTION_DAYS * 86_400,
    horizonSeconds: services.config.DEDUP_HORIZON_SECONDS,
    ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
    ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
    ...(options.read?.deliveries ? { storedDeliveries: options.read.deliveries } : {}),
  });

/** A batch's messages, decoded once, and the stored deliveries of all their keys, read at once. */
export interface BatchRead {
  /** By message body; a body that does not decode is absent (its record fails on its own). */
  messages: Map<string, QueueMessage>;
  /** Absent when the read failed: each message then reads its own keys. */
  deliveries?: Map<string, string>;
  /** Why the read failed. */
  readError?: unknown;
}

/**
 * Reads the keys of every message of a batch in one go (one BatchGetItem per 100 keys) instead of
 * one read per message: ten one-event messages cost one read, not ten.
 */
export const readBatch = async (services: Pick<Services, 'store'>, bodies: string[]): Promise<BatchRead> => {
  const messages = new Map<string, QueueMessage>();
  for (const body of bodies) {
    try {
      messages.set(body, parseMessage(body));
    } catch {
      // processQueueMessage decodes it again and fails that record with the reason
    }
  }
  const keys = [...messages.values()].flatMap((message) => message.events.map(dedupKey));
  try {
    // Eventually consistent, as any read before the puts may be (processor.ts): half the read units.
    return { messages, deliveries: await services.store.getDeliveries(keys, { consistent: false }) };
  } catch (error) {
    return { messages, readError: error };
  }
};

/**
 * When the messages of an invocation must stop starting new writes: the time left, less a share kept
 * for the fold and the answer (a quarter, at least 2 s).
 */
export const processingDeadline = (remainingMs: number, now = Date.now()): number => now + remainingMs - Math.max(2_000, remainingMs / 4);

export const foldProcessed = (services: Pick<Services, 'counters' | 'config'>, records: MessageRecord[], checkpoint: Hook): Promise<FoldResult> =>
  foldRecords(services.counters, records, {
    // The per-minute history is kept as long as events are (forever when RETENTION_DAYS is 0).
    ...(services.config.RETENTION_DAYS > 0 ? { historySeconds: services.config.RETENTION_DAYS * 86_400 } : {}),
    ...(checkpoint ? { checkpoint } : {}),
  });

let upgraded: Promise<unknown> | undefined;

/**
 * Once per process, before its first batch: carry a table's counts from the first version over (a
 * BatchGetItem that finds nothing on a table that never ran it). A failure is tried again next batch.
 */
export const upgradeOnce = (services: Pick<Services, 'counters'>): Promise<unknown> => {
  upgraded ??= carryOverLegacyCounts(services.counters).catch((error: unknown) => {
    upgraded = undefined;
    throw error;
  });
  return upgraded;
};
