// The idempotent consumer. For one queue message it stores each distinct event once and adds the
// message's totals to the counters exactly once, however often the message is delivered, whichever
// call the previous attempt died after, and however many invocations handle it at the same time:
//
//  1. each event is written with a conditional put (attribute_not_exists on `topic#event_id`) that
//     records the delivery id `<batch>:<index>` in the item;
//  2. for an event whose item exists, the stored delivery id decides: our own id means an earlier
//     attempt of this very message wrote it (unique); any other id means another delivery did
//     (duplicate). So every attempt reaches the same outcome. Keys are read first (one strongly
//     consistent BatchGetItem per 100) so that events already stored need no put at all; a put that
//     is still refused (another delivery won the race since the read) is decided the same way;
//  3. the totals go to one counter shard in one UpdateItem that is conditional on the batch id not yet
//     being in the shard's applied set, and adds it to the set: applied once, never twice.
import pLimit from 'p-limit';
import { deliveryId, eventKey } from '../table/keys.ts';
import type { QueueMessage } from '../queue/message.ts';
import type { ApplyResult, EventStore, MessageCounts } from './ports.ts';

/** Points between two calls where a test can make the processor fail (see lib/faults.ts). */
export type Checkpoint = 'after-put' | 'after-puts' | 'after-outcomes' | 'after-counters';

export interface ProcessOptions {
  putConcurrency?: number;
  /** Events expire this long after they are stored (DynamoDB TTL); undefined or 0 keeps them. */
  retentionSeconds?: number;
  checkpoint?: (point: Checkpoint) => void | Promise<void>;
  now?: () => Date;
}

export interface ProcessResult extends MessageCounts {
  batch: string;
  events: number;
  counters: ApplyResult;
}

type Outcome = 'unique' | 'duplicate';

/** Conditional puts in flight per message. */
export const PUT_CONCURRENCY = 16;

export const processMessage = async (
  store: EventStore,
  message: QueueMessage,
  options: ProcessOptions = {},
): Promise<ProcessResult> => {
  const checkpoint = options.checkpoint ?? (() => undefined);
  const now = options.now ?? (() => new Date());
  const { batch, events } = message;
  const storedAt = now().toISOString();
  const expiresAt = options.retentionSeconds ? Math.floor(now().getTime() / 1000) + options.retentionSeconds : undefined;
  const outcomes: Outcome[] = new Array<Outcome>(events.length);

  // Within one message the first occurrence of a key is the one written; later ones are duplicates of
  // it. Deciding this by position keeps the outcome identical on every attempt.
  const seen = new Set<string>();
  const toWrite: number[] = [];
  events.forEach((event, index) => {
    const key = eventKey(event);
    if (seen.has(key)) outcomes[index] = 'duplicate';
    else {
      seen.add(key);
      toWrite.push(index);
    }
  });

  const decideFromStored = (indexes: number[], deliveries: Map<string, string>): number[] => {
    const absent: number[] = [];
    for (const index of indexes) {
      const stored = deliveries.get(eventKey(events[index]!));
      if (stored === undefined) absent.push(index);
      else outcomes[index] = stored === deliveryId(batch, index) ? 'unique' : 'duplicate';
    }
    return absent;
  };

  const toPut = decideFromStored(toWrite, await store.getDeliveries(toWrite.map((index) => eventKey(events[index]!))));
  const conflicts: number[] = [];
  const limit = pLimit(options.putConcurrency ?? PUT_CONCURRENCY);
  await Promise.all(
    toPut.map((index) =>
      limit(async () => {
        const created = await store.putIfAbsent(events[index]!, deliveryId(batch, index), storedAt, expiresAt);
        if (created) outcomes[index] = 'unique';
        else conflicts.push(index);
        await checkpoint('after-put');
      }),
    ),
  );
  await checkpoint('after-puts');

  if (conflicts.length > 0) {
    const vanished = decideFromStored(conflicts, await store.getDeliveries(conflicts.map((index) => eventKey(events[index]!))));
    // An item refused our put but is gone now (expired by TTL): fail so the retry writes it again.
    if (vanished.length > 0) throw new Error(`event ${eventKey(events[vanished[0]!]!)} vanished between put and read`);
  }
  await checkpoint('after-outcomes');

  const counts: MessageCounts = { unique: 0, duplicate: 0, byTopic: {} };
  events.forEach((event, index) => {
    const outcome = outcomes[index]!;
    counts[outcome] += 1;
    (counts.byTopic[event.topic] ??= { unique: 0, duplicate: 0 })[outcome] += 1;
  });
  const counters = await store.applyCounts(message.shard, batch, counts, now());
  await checkpoint('after-counters');
  return { batch, events: events.length, counters, ...counts };
};
