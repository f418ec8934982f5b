// Folding message records into counters, exactly once, with bounded state and no transactions.
//
// Each counter item carries a version and a guard: the ids of records applied to it whose fold has
// not finished. A record is pending until it is marked folded. For every counter C a record R adds
// to, a folder:
//
//  1. reads C (strongly consistent): its version and guard;
//  2. then reads R (strongly consistent): is it still pending?
//  3. applies R to C, unless R is in C's guard (already applied) or R is no longer pending (folded by
//     someone else), with one UpdateItem that adds R's counts, puts R's id in the guard, removes from
//     the guard the ids read in step 1 whose records step 2 found folded, and bumps the version, on
//     the condition that the version is still the one read in step 1. A refused update starts over.
//  4. once R is applied to every counter it adds to, marks R folded.
//
// Why exactly once: a record is added to C only by an update whose condition saw C unchanged since
// step 1, and step 2 came after step 1. If R was in C's guard at step 1, it is not applied again. If
// R was removed from C's guard before step 1, R was folded before that removal (only folded records
// are removed), so step 2 sees it folded. If either happens after step 1, the version changed and
// the update is refused. A crash between any two steps leaves either R pending and possibly in some
// guards (the next attempt skips those counters and finishes the rest) or R folded (nothing to do).
//
// Why bounded: a guard holds only the ids of records being folded now, plus those of the last fold
// that touched the counter (removed by the next one); no item grows with time, traffic or topics.
// This is the design's protocol with its last step ("clear the ids") folded into the next update,
// which saves one write per counter per fold.
import { addCounts, contributions, targetId, zeroCounts, type CounterTarget, type Counts, type MessageRecord } from './counting.ts';
import { DependencyError } from './errors.ts';
import type { Checkpoint } from './faults.ts';
import type { CounterStore } from './ports.ts';

/**
 * Records folded together at most (a batch of the event source is 10 messages). It bounds the ids one
 * counter update adds to a guard, and so the size of every request the fold makes.
 */
export const MAX_FOLD_RECORDS = 25;

export interface FoldOptions {
  checkpoint?: (point: Checkpoint) => void | Promise<void>;
  /** Conditional updates refused by a concurrent fold are retried this many times. */
  maxAttempts?: number;
  /** Minute counters expire after this many seconds (the history's retention); undefined keeps them. */
  historySeconds?: number;
}

export interface FoldResult {
  records: number;
  counters: number;
  conflicts: number;
}

interface Plan {
  target: CounterTarget;
  /** Per record id, what that record adds to this counter. */
  parts: Map<string, Counts>;
}

const planFold = (records: MessageRecord[]): Plan[] => {
  const plans = new Map<string, Plan>();
  for (const record of records) {
    for (const { target, counts } of contributions(record)) {
      const id = targetId(target);
      let plan = plans.get(id);
      if (!plan) plans.set(id, (plan = { target, parts: new Map() }));
      plan.parts.set(record.id, counts);
    }
  }
  return [...plans.values()];
};

const pause = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.min(500, 5 * 2 ** attempt) * (0.5 + Math.random())));

export const foldRecords = async (store: CounterStore, given: MessageRecord[], options: FoldOptions = {}): Promise<FoldResult> => {
  // One record per id: SQS can hand a batch the same message twice (a copy delivered again, a redrive
  // that met a copy), and both deliveries find the same record. Folding it twice in one go wrote its
  // key twice in one BatchWriteItem, which DynamoDB refuses, so the whole batch failed on every try
  // (found with strict mode's redelivery).
  const records = [...new Map(given.map((record) => [record.id, record])).values()];
  if (records.length > MAX_FOLD_RECORDS) {
    const total: FoldResult = { records: 0, counters: 0, conflicts: 0 };
    for (let start = 0; start < records.length; start += MAX_FOLD_RECORDS) {
      const part = await foldRecords(store, records.slice(start, start + MAX_FOLD_RECORDS), options);
      total.records += part.records;
      total.counters += part.counters;
      total.conflicts += part.conflicts;
    }
    return total;
  }
  const checkpoint = options.checkpoint ?? (() => undefined);
  const maxAttempts = options.maxAttempts ?? 30;
  const result: FoldResult = { records: records.length, counters: 0, conflicts: 0 };
  if (records.length === 0) return result;
  const recordOf = new Map(records.map((record) => [record.id, record]));

  let remaining = planFold(records);
  for (let attempt = 0; remaining.length > 0; attempt += 1) {
    if (attempt >= maxAttempts) {
      throw new DependencyError(`fold gave up after ${attempt} attempts: ${remaining.length} counter(s) kept changing under it`);
    }
    if (attempt > 0) await pause(attempt);
    // Step 1, then step 2: the order is what makes the version check sufficient.
    const states = await store.readCounters(remaining.map((plan) => plan.target));
    await checkpoint('fold-after-read');
    const ids = new Set<string>();
    remaining.forEach((plan, index) => {
      for (const id of plan.parts.keys()) ids.add(id);
      for (const id of states[index]!.guard) ids.add(id);
    });
    const pending = await store.pendingRecords([...ids]);
    await checkpoint('fold-after-confirm');

    const refused: Plan[] = [];
    await Promise.all(
      remaining.map(async (plan, index) => {
        const state = states[index]!;
        const guard = new Set(state.guard);
        const apply = [...plan.parts.keys()].filter((id) => pending.has(id) && !guard.has(id));
        const forget = state.guard.filter((id) => !pending.has(id));
        if (apply.length === 0 && forget.length === 0) return;
        const counts = apply.reduce((sum, id) => addCounts(sum, plan.parts.get(id)!), zeroCounts());
        const firstAt = apply.map((id) => recordOf.get(id)!.at).sort()[0] ?? new Date().toISOString();
        // A minute's records all share its minute; it expires with the history's retention.
        const expiresAt = plan.target.kind === 'minute' && options.historySeconds ? Math.floor(Date.parse(firstAt) / 1000) + options.historySeconds : undefined;
        const applied = await store.applyToCounter(plan.target, state.version, counts, { apply, forget }, { firstAt, ...(expiresAt ? { expiresAt } : {}) });
        if (applied) result.counters += 1;
        else refused.push(plan);
        await checkpoint('fold-after-apply');
      }),
    );
    result.conflicts += refused.length;
    remaining = refused;
  }
  // Step 4: every record is now in every counter it adds to (by this fold or an earlier one).
  await store.markFolded(records);
  await checkpoint('fold-after-mark');
  return result;
};
