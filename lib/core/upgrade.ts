// Carrying the first version's counts over. That version kept its totals in `#counter#N` and
// `#received#N` items; this one folds message records. The upgrade turns the old totals into message
// records with fixed ids and folds them like any other record, so the fold's exactly-once protocol
// makes the carry-over exactly once too: two processes upgrading at the same time, or one crashing
// half-way, end with the old totals counted once. The old items are left as they were.
//
// Exact on one condition, which the README's upgrade steps ensure: the old version has stopped and its
// queue and DLQ are empty, so the old items no longer change and no message they counted can come back.
import type { Counts, MessageRecord } from './counting.ts';
import { foldRecords } from './fold.ts';
import type { CounterStore, LegacyTotals } from './ports.ts';

/** Topics per carry-over record, like a message: it bounds the record's size. */
const TOPICS_PER_RECORD = 100;
const RECORD_PREFIX = 'upgrade-v1-';

export const legacyRecords = (legacy: LegacyTotals, now: Date): MessageRecord[] => {
  const at = legacy.firstAt ?? now.toISOString();
  const topicCounts = Object.entries(legacy.topics)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([topic, { unique, duplicate }]): [string, Counts] => [topic, { received: unique + duplicate, unique, duplicate }]);
  const chunks: Array<Array<[string, Counts]>> = [];
  for (let start = 0; start < topicCounts.length || start === 0; start += TOPICS_PER_RECORD) chunks.push(topicCounts.slice(start, start + TOPICS_PER_RECORD));
  return chunks.map((chunk, index) => ({
    id: `${RECORD_PREFIX}${index}`,
    at,
    // The totals ride on the first record only. `received` becomes what was processed: the old version
    // counted it at publish, best-effort, and could miss events it then processed.
    totals: index === 0 ? { received: legacy.unique + legacy.duplicate, unique: legacy.unique, duplicate: legacy.duplicate } : { received: 0, unique: 0, duplicate: 0 },
    topics: Object.fromEntries(chunk),
    // Kept for good: if it expired, the old items would be carried over a second time.
    expiresAt: 0,
    history: false,
  }));
};

export const carryOverLegacyCounts = async (store: CounterStore, now = new Date()): Promise<{ records: number }> => {
  const legacy = await store.readLegacyTotals();
  if (!legacy) return { records: 0 };
  const records = await Promise.all(legacyRecords(legacy, now).map(async (record) => (await store.putRecord(record)).record));
  const pending = await store.pendingRecords(records.map((record) => record.id));
  if (pending.size > 0) await foldRecords(store, records.filter((record) => pending.has(record.id)));
  return { records: pending.size };
};
