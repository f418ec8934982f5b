// The idempotent consumer. For one queue message it stores each distinct event once and adds the
// message's totals to the counters exactly once, however often the message is delivered, whichever
// call the previous attempt died after, and however many invocations handle it at the same time:
//
//  1. each event is written with a conditional put (attribute_not_exists on `topic#event_id`) that
//     records the delivery id `<batch>:<index>` in the item;
//  2. for an event whose item exists, the stored delivery id decides: our own id means an earlier
//     attempt of this very message wrote it (unique); any other id means another delivery did
//     (duplicate). So every attempt reaches the same outcome. Keys are read first (one BatchGetItem
//     per 100, eventually consistent: half the read units, and a stale answer can only let a put
//     through, since an item, once written, never changes its delivery) so that events already stored
//     need no put at all; a put that is refused (a stale read, or another delivery that won the race
//     since) is decided the same way, from a strongly consistent read;
//  3. the keys of the events this message stored (outcome unique), in order, go into the message's
//     tail item, which is what the live tail reads (one index entry per message, not per event); it
//     is created with a conditional put, so it is written once, after the events it names;
//  4. the message's totals (received, unique, duplicate, per topic) go into one message record, keyed
//     by the batch id and created with a conditional put: the first attempt's record is the one that
//     counts, and a later attempt finds it and uses it as it is. Folding records into the counters is
//     fold.ts's job; it runs after the records of a batch are written.
import pLimit from 'p-limit';
import { addCounts, zeroCounts, type Counts, type MessageRecord } from './counting.ts';
import { DependencyError, OutOfTimeError } from './errors.ts';
import type { LogEvent } from './event.ts';
import type { Checkpoint } from './faults.ts';
import { deliveryId, dedupKey } from './identity.ts';
import type { CounterStore, EventStore } from './ports.ts';

/** What the processor needs of a queue message (lib/queue/message.ts decodes the wire format). */
export interface DeliveredMessage {
  batch: string;
  events: LogEvent[];
}

export interface ProcessOptions {
  putConcurrency?: number;
  /** Events expire this long after they are stored (DynamoDB TTL); undefined or 0 keeps them. */
  retentionSeconds?: number;
  /** How long the message's batch id can come back (queue + DLQ retention): the record is kept that long. */
  horizonSeconds: number;
  checkpoint?: (point: Checkpoint) => void | Promise<void>;
  now?: () => Date;
  /**
   * The stored deliveries of this message's keys, read before (a batch reads the keys of all its
   * messages at once); a key it lacks is not stored. Without it the message reads its own keys.
   */
  storedDeliveries?: ReadonlyMap<string, string>;
  /**
   * Epoch ms after which no new write starts: the message fails with OutOfTimeError instead, well
   * before the invocation's timeout would kill it half-way.
   */
  deadline?: number;
}

export interface ProcessResult {
  record: MessageRecord;
  /** False when an earlier attempt had written the record already. */
  recordCreated: boolean;
}

type Outcome = 'unique' | 'duplicate';

/** Conditional puts in flight per message. */
export const PUT_CONCURRENCY = 16;

export const processMessage = async (
  stores: { events: EventStore; counters: CounterStore },
  message: DeliveredMessage,
  options: ProcessOptions,
): Promise<ProcessResult> => {
  const store = stores.events;
  const checkpoint = options.checkpoint ?? (() => undefined);
  const now = options.now ?? (() => new Date());
  const { batch, events } = message;
  const onTime = (): void => {
    if (options.deadline !== undefined && now().getTime() > options.deadline) {
      throw new OutOfTimeError(`message ${message.batch}: out of time with ${events.length} event(s) to process; it will be retried`);
    }
  };
  onTime();
  const expiresAt = options.retentionSeconds ? Math.floor(now().getTime() / 1000) + options.retentionSeconds : undefined;
  const outcomes: Outcome[] = new Array<Outcome>(events.length);

  // Within one message the first occurrence of a key is the one written; later ones are duplicates of
  // it. Deciding this by position keeps the outcome identical on every attempt.
  const seen = new Set<string>();
  const toWrite: number[] = [];
  events.forEach((event, index) => {
    const key = dedupKey(event);
    if (seen.has(key)) outcomes[index] = 'duplicate';
    else {
      seen.add(key);
      toWrite.push(index);
    }
  });

  const decideFromStored = (indexes: number[], deliveries: ReadonlyMap<string, string>): number[] => {
    const absent: number[] = [];
    for (const index of indexes) {
      const stored = deliveries.get(dedupKey(events[index]!));
      if (stored === undefined) absent.push(index);
      else outcomes[index] = stored === deliveryId(batch, index) ? 'unique' : 'duplicate';
    }
    return absent;
  };

  // Any read of the keys made before the puts will do: a put it wrongly lets through is refused by its
  // condition and decided by the read after it, as when a concurrent delivery wins the race.
  const stored = options.storedDeliveries ?? (await store.getDeliveries(toWrite.map((index) => dedupKey(events[index]!)), { consistent: false }));
  const toPut = decideFromStored(toWrite, stored);
  const conflicts: number[] = [];
  const limit = pLimit(options.putConcurrency ?? PUT_CONCURRENCY);
  await Promise.all(
    toPut.map((index) =>
      limit(async () => {
        onTime();
        // Stamped just before its own put, not once per message: the live tail orders events by when they
        // were stored and trusts that an event appears within a short lag of its stamp.
        const created = await store.putIfAbsent(events[index]!, deliveryId(batch, index), now().toISOString(), expiresAt);
        if (created) outcomes[index] = 'unique';
        else conflicts.push(index);
        await checkpoint('after-put');
      }),
    ),
  );
  await checkpoint('after-puts');

  if (conflicts.length > 0) {
    const vanished = decideFromStored(conflicts, await store.getDeliveries(conflicts.map((index) => dedupKey(events[index]!))));
    // An item refused our put but is gone now (expired by TTL): fail so the retry writes it again.
    if (vanished.length > 0) throw new DependencyError(`event ${dedupKey(events[vanished[0]!]!)} vanished between put and read; retrying`);
  }
  await checkpoint('after-outcomes');

  onTime();
  // `unique` is exactly the events whose stored delivery is this message's own.
  const storedKeys = events.flatMap((event, index) => (outcomes[index] === 'unique' ? [dedupKey(event)] : []));
  if (storedKeys.length > 0) await store.putTail(batch, now().toISOString(), storedKeys, Math.floor(now().getTime() / 1000) + options.horizonSeconds);
  await checkpoint('after-tail');

  const totals = zeroCounts();
  const topics: Record<string, Counts> = {};
  events.forEach((event, index) => {
    const one: Counts = { received: 1, unique: 0, duplicate: 0 };
    one[outcomes[index]!] = 1;
    addCounts(totals, one);
    addCounts((topics[event.topic] ??= zeroCounts()), one);
  });
  onTime();
  const at = now();
  const candidate: MessageRecord = {
    id: batch,
    at: at.toISOString(),
    totals,
    topics,
    expiresAt: Math.floor(at.getTime() / 1000) + options.horizonSeconds,
  };
  const { record, created } = await stores.counters.putRecord(candidate);
  await checkpoint('after-record');
  return { record, recordCreated: created };
};
