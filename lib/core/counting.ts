// What the aggregator counts, and where each count goes. A processed queue message leaves one
// message record (its totals, per topic); records are folded into counters: a few total shards, one
// counter per topic, one per minute of history. See fold.ts for the protocol that makes it exact.

export interface Counts {
  /** Events taken from the queue: every event of the message, unique or duplicate. */
  received: number;
  unique: number;
  duplicate: number;
}

/**
 * The durable fact that one queue message was processed, and what it counted. Its content is decided
 * by the first attempt that writes it and is the same on every later attempt (outcomes depend only on
 * the message), so a redelivery that finds it adds nothing.
 */
export interface MessageRecord {
  /** The message's batch id (a ULID). */
  id: string;
  /** When the record was first written (ISO): it places the counts in the per-minute history. */
  at: string;
  totals: Counts;
  topics: Record<string, Counts>;
  /** Epoch seconds after which the table may delete the record (the message can no longer come back); 0: never. */
  expiresAt: number;
  /** False for counts that have no place in the per-minute history (totals carried over from an upgrade). */
  history?: false;
}

/** A counter a record is folded into. */
export type CounterTarget = { kind: 'total'; shard: number } | { kind: 'topic'; topic: string } | { kind: 'minute'; minute: string };

/**
 * Total counters are spread over this many items so that concurrent folds rarely touch the same
 * one; `/stats` sums them (one BatchGetItem). A record's shard follows from its id, so every attempt
 * folds it into the same item.
 */
export const TOTAL_SHARDS = 8;

export const zeroCounts = (): Counts => ({ received: 0, unique: 0, duplicate: 0 });

export const addCounts = (into: Counts, more: Counts): Counts => {
  into.received += more.received;
  into.unique += more.unique;
  into.duplicate += more.duplicate;
  return into;
};

/** `2026-11-24T21:52:07.123Z` -> `2026-11-24T21:52`: the minute a record's counts belong to. */
export const minuteOf = (iso: string): string => iso.slice(0, 16);

/** FNV-1a: small and stable, so a string always picks the same shard. */
export const stableHash = (value: string): number => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < value.length; i += 1) {
    hash ^= value.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
};

export const targetId = (target: CounterTarget): string => {
  switch (target.kind) {
    case 'total':
      return `total:${target.shard}`;
    case 'topic':
      return `topic:${target.topic}`;
    case 'minute':
      return `minute:${target.minute}`;
  }
};

/** Every counter a record adds to, with what it adds. */
export const contributions = (record: MessageRecord): Array<{ target: CounterTarget; counts: Counts }> => [
  { target: { kind: 'total', shard: stableHash(record.id) % TOTAL_SHARDS }, counts: record.totals },
  ...(record.history === false ? [] : [{ target: { kind: 'minute', minute: minuteOf(record.at) } as CounterTarget, counts: record.totals }]),
  ...Object.entries(record.topics).map(([topic, counts]) => ({ target: { kind: 'topic', topic } as CounterTarget, counts })),
];

export const dedupRate = (counts: Pick<Counts, 'unique' | 'duplicate'>): number => {
  const processed = counts.unique + counts.duplicate;
  return processed === 0 ? 0 : Number((counts.duplicate / processed).toFixed(4));
};
