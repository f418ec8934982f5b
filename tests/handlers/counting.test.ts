// The counting protocol on the real embedded DynamoDB (lib/core/fold.ts over lib/table/counters-repo.ts):
// concurrent folds of the same records, a fold that dies half-way, and a sustained run with far more
// messages and topics than any one item could remember. No mocks.
import { monotonicFactory } from 'ulid';
import { getServices } from '../../lib/app/services.ts';
import { TOTAL_SHARDS, contributions, type Counts, type MessageRecord } from '../../lib/core/counting.ts';
import { armFaults, disarmFaults } from '../../lib/core/faults.ts';
import { foldRecords } from '../../lib/core/fold.ts';
import { faultCheckpoint } from '../../lib/core/faults.ts';
import { readSeries } from '../../lib/api/stats.ts';
import { dynamoClient } from '../../lib/app/aws.ts';
import { counterPk } from '../../lib/table/keys.ts';
import { batchGetAll } from '../../lib/table/batch.ts';
import { uniqueTopic } from '../support/lambda.ts';

jest.setTimeout(600_000);

const newId = monotonicFactory();
// This file plays the processor, so it uses the processor's clients ('batch': 10 s a try, 4 tries;
// lib/app/aws.ts), not the HTTP functions' fail-fast ones: with 4 folders racing in the process that
// also hosts the strict local cloud, one BatchGetItem outlasted the HTTP profile's 4 s twice (CI).
const counters = () => getServices('batch').counters;

/** A message record as the processor writes it: `events` per topic, the first `unique` of them unique. */
const makeRecord = (perTopic: Record<string, { received: number; unique: number }>, at = new Date()): MessageRecord => {
  const topics: Record<string, Counts> = {};
  const totals: Counts = { received: 0, unique: 0, duplicate: 0 };
  for (const [topic, { received, unique }] of Object.entries(perTopic)) {
    topics[topic] = { received, unique, duplicate: received - unique };
    totals.received += received;
    totals.unique += unique;
    totals.duplicate += received - unique;
  }
  return { id: newId(), at: at.toISOString(), totals, topics, expiresAt: Math.floor(at.getTime() / 1000) + 3600 };
};

const written = async (records: MessageRecord[]): Promise<MessageRecord[]> => {
  for (const record of records) expect((await counters().putRecord(record)).created).toBe(true);
  return records;
};

const expectTopic = async (topic: string, expected: Counts): Promise<void> => {
  const counts = await counters().topicCounts(topic);
  expect(counts && { received: counts.received, unique: counts.unique, duplicate: counts.duplicate }).toEqual(expected);
};

/** Raw counter items, for what the protocol leaves behind in them. */
const rawCounterItems = (records: MessageRecord[]) =>
  batchGetAll(
    dynamoClient('batch'),
    getServices().config.TABLE_NAME,
    [...new Set(records.flatMap((record) => contributions(record).map(({ target }) => counterPk(target))))].map((pk) => ({ pk })),
  );

const guardIds = (item: Record<string, unknown>): string[] => Object.keys(item).filter((name) => name.startsWith('g:'));

afterEach(() => disarmFaults());

describe('folds that race', () => {
  it('counts records once when two folds of the same records run at once', async () => {
    const topic = uniqueTopic('race2');
    const records = await written(Array.from({ length: 10 }, (_, i) => makeRecord({ [topic]: { received: 3, unique: i % 2 === 0 ? 3 : 1 } })));
    const before = await counters().readTotals();
    await Promise.all([foldRecords(counters(), records), foldRecords(counters(), records)]);
    await expectTopic(topic, { received: 30, unique: 20, duplicate: 10 });
    const after = await counters().readTotals();
    expect(after.received - before.received).toBe(30);
    expect(after.unique - before.unique).toBe(20);
    expect(after.duplicate - before.duplicate).toBe(10);
    expect(await counters().pendingRecords(records.map((record) => record.id))).toEqual(new Set());
  });

  it('counts each record once when many folders fold overlapping sets concurrently', async () => {
    const topics = [uniqueTopic('overlap'), uniqueTopic('overlap'), uniqueTopic('overlap')];
    const records = await written(
      Array.from({ length: 30 }, (_, i) => makeRecord({ [topics[i % 3]!]: { received: 2, unique: 1 }, [topics[(i + 1) % 3]!]: { received: 1, unique: 1 } })),
    );
    const before = await counters().readTotals();
    // Six folders, each with a different window of the records: every record is in two or three folds.
    await Promise.all(Array.from({ length: 6 }, (_, f) => foldRecords(counters(), records.slice(f * 4, f * 4 + 10))));
    await foldRecords(counters(), records.slice(24));
    for (const topic of topics) await expectTopic(topic, { received: 30, unique: 20, duplicate: 10 });
    const after = await counters().readTotals();
    expect(after.received - before.received).toBe(90);
    expect(after.unique - before.unique).toBe(60);
  });
});

describe('a fold that dies', () => {
  it.each(['fold-after-read', 'fold-after-confirm', 'fold-after-apply@1', 'fold-after-apply@2', 'fold-after-mark'])(
    'at %s is finished by the next fold, exactly',
    async (plan) => {
      const topic = uniqueTopic('crash');
      const records = await written([makeRecord({ [topic]: { received: 5, unique: 4 } }), makeRecord({ [topic]: { received: 2, unique: 0 } })]);
      armFaults(plan);
      await expect(foldRecords(counters(), records, { checkpoint: faultCheckpoint()! })).rejects.toThrow(/injected fault/);
      disarmFaults();
      await foldRecords(counters(), records);
      await expectTopic(topic, { received: 7, unique: 4, duplicate: 3 });
      // And again: folded records add nothing.
      await foldRecords(counters(), records);
      await expectTopic(topic, { received: 7, unique: 4, duplicate: 3 });
    },
  );

  it('leaves no id in a guard for longer than the next fold of that counter', async () => {
    const topic = uniqueTopic('guard');
    const first = await written([makeRecord({ [topic]: { received: 1, unique: 1 } })]);
    armFaults('fold-after-apply@1');
    await expect(foldRecords(counters(), first, { checkpoint: faultCheckpoint()! })).rejects.toThrow();
    disarmFaults();
    await foldRecords(counters(), first);
    const second = await written([makeRecord({ [topic]: { received: 1, unique: 0 } })]);
    await foldRecords(counters(), second);
    const [item] = await batchGetAll(dynamoClient('batch'), getServices().config.TABLE_NAME, [{ pk: counterPk({ kind: 'topic', topic }) }]);
    // The first record's id is gone; at most the last fold's ids remain.
    expect(guardIds(item!)).toEqual([`g:${second[0]!.id}`]);
    await expectTopic(topic, { received: 2, unique: 1, duplicate: 1 });
  });
});

describe('bounded state over a long run', () => {
  it('folds 16,000 one-event messages over 2,000 topics with exact counts and no item growing', async () => {
    // The first version kept every batch id of the horizon in the counter items: 16,000 ids of 26
    // characters are ~430 KB, more than one DynamoDB item holds. Here every item stays tiny.
    const MESSAGES = 16_000;
    const TOPICS = 2_000;
    const run = uniqueTopic('sustained');
    const topicOf = (i: number): string => `${run}-${String(i % TOPICS).padStart(4, '0')}`;
    const before = await counters().readTotals();
    const all: MessageRecord[] = [];
    let next = 0;
    const folder = async (): Promise<void> => {
      while (next < MESSAGES) {
        const start = next;
        next += 10;
        const batch = Array.from({ length: Math.min(10, MESSAGES - start) }, (_, k) =>
          makeRecord({ [topicOf(start + k)]: { received: 1, unique: (start + k) % 3 === 0 ? 0 : 1 } }),
        );
        await Promise.all(batch.map((record) => counters().putRecord(record)));
        await foldRecords(counters(), batch);
        all.push(...batch);
      }
    };
    await Promise.all([folder(), folder(), folder(), folder()]);

    const after = await counters().readTotals();
    expect(after.received - before.received).toBe(MESSAGES);
    const duplicates = Array.from({ length: MESSAGES }, (_, i) => i).filter((i) => i % 3 === 0).length;
    expect(after.duplicate - before.duplicate).toBe(duplicates);
    expect(after.unique - before.unique).toBe(MESSAGES - duplicates);

    // Every topic exact, listed by name across pages with no gap and no repeat.
    const listed: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await counters().listTopics(100, cursor);
      for (const entry of page.topics) {
        if (entry.topic.startsWith(run)) {
          listed.push(entry.topic);
          expect(entry.received).toBe(MESSAGES / TOPICS);
        }
      }
      cursor = page.next;
    } while (cursor);
    expect(listed).toEqual(Array.from({ length: TOPICS }, (_, i) => topicOf(i)));

    // No counter item holds more than the ids of the folds in flight when it was last written.
    const items = await rawCounterItems(all);
    const largestGuard = Math.max(...items.map((item) => guardIds(item).length));
    const largestItem = Math.max(...items.map((item) => JSON.stringify(item).length));
    expect(largestGuard).toBeLessThanOrEqual(4 * 10);
    expect(largestItem).toBeLessThan(4_096);
    expect(await counters().pendingRecords(all.map((record) => record.id))).toEqual(new Set());
  });
});

describe('history', () => {
  it('serves counts per minute, summed per step', async () => {
    const at = new Date(Date.UTC(2031, 0, 2, 3, 4, 30));
    const topic = uniqueTopic('series');
    const records = await written([
      makeRecord({ [topic]: { received: 4, unique: 3 } }, at),
      makeRecord({ [topic]: { received: 2, unique: 2 } }, new Date(at.getTime() + 60_000)),
      makeRecord({ [topic]: { received: 1, unique: 0 } }, new Date(at.getTime() + 5 * 60_000)),
    ]);
    await foldRecords(counters(), records);
    const perMinute = await readSeries(getServices(), { from: '2031-01-02T03:04:00Z', to: '2031-01-02T03:10:00Z' });
    expect(perMinute.points.map((point) => point.received)).toEqual([4, 2, 0, 0, 0, 1]);
    const perFive = await readSeries(getServices(), { from: '2031-01-02T03:00:00Z', to: '2031-01-02T03:10:00Z', step: '300' });
    expect(perFive.points).toEqual([
      { t: '2031-01-02T03:00:00.000Z', received: 4, unique: 3, duplicate: 1 },
      { t: '2031-01-02T03:05:00.000Z', received: 3, unique: 2, duplicate: 1 },
    ]);
  });

  it('refuses ranges it would not answer cheaply', async () => {
    await expect(readSeries(getServices(), { from: '2031-01-01T00:00:00Z', to: '2031-01-03T00:00:00Z' })).rejects.toThrow(/at most 24 hours/);
    await expect(readSeries(getServices(), { step: '90' })).rejects.toThrow(/step/);
    await expect(readSeries(getServices(), { from: 'yesterday' })).rejects.toThrow(/from/);
  });
});

it('spreads totals over a fixed number of shards', () => {
  const shards = new Set(Array.from({ length: 200 }, () => (contributions(makeRecord({ t: { received: 1, unique: 1 } }))[0]!.target as { shard: number }).shard));
  expect(shards.size).toBe(TOTAL_SHARDS);
});
