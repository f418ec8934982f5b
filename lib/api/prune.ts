// Forgets applied batch ids that can no longer come back. A batch id can only be redelivered while
// its message lives (in the queue, or in the DLQ and redriven), so ids older than the dedup horizon
// (queue retention + DLQ retention) are safe to drop, and no sooner. Dropping keeps counter items small.
import { decodeTime } from 'ulid';
import type { EventStore } from '../core/ports.ts';

export const pruneAppliedBatches = async (
  store: EventStore,
  options: { shards: number; horizonSeconds: number; now?: Date },
): Promise<{ pruned: number; kept: number }> => {
  const cutoff = (options.now ?? new Date()).getTime() - options.horizonSeconds * 1000;
  let pruned = 0;
  let kept = 0;
  for (let shard = 0; shard < options.shards; shard += 1) {
    const applied = await store.appliedBatches(shard);
    const old = applied.filter((batch) => decodeTime(batch) < cutoff);
    if (old.length > 0) await store.forgetBatches(shard, old);
    pruned += old.length;
    kept += applied.length - old.length;
  }
  return { pruned, kept };
};
