// Upgrading a table written by the first version: its counter items are carried over into the new
// counters exactly once, even when the carry-over crashes half-way or runs twice at once. Real
// embedded DynamoDB; the old items are written as the first version wrote them.
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoClient } from '../../lib/app/aws.ts';
import { getServices } from '../../lib/app/services.ts';
import { armFaults, disarmFaults, faultCheckpoint } from '../../lib/core/faults.ts';
import { foldRecords } from '../../lib/core/fold.ts';
import { carryOverLegacyCounts, legacyRecords } from '../../lib/core/upgrade.ts';
import { uniqueTopic } from '../support/lambda.ts';

const table = (): string => getServices().config.TABLE_NAME;
const put = (item: Record<string, unknown>) => dynamoClient().send(new PutCommand({ TableName: table(), Item: item }));

it('carries the first version counts over once, whatever crashes or races', async () => {
  const counters = getServices().counters;
  const [a, b] = [uniqueTopic('old-a'), uniqueTopic('old-b')];
  // As the first version left them: two counter shards with per-topic maps and applied batch ids,
  // one `received` shard (it counted at publish).
  await put({ pk: '#counter#3', unique: 5, duplicate: 2, topic_unique: { [a]: 3, [b]: 2 }, topic_duplicate: { [a]: 2 }, applied: new Set(['01KAW3Z8Y6S3ZQ0V6M5N4P3R2T']), first_at: '2026-01-02T03:04:05.000Z' });
  await put({ pk: '#counter#9', unique: 1, duplicate: 0, topic_unique: { [b]: 1 }, topic_duplicate: {} });
  await put({ pk: '#received#0', received: 8, first_at: '2026-01-02T03:04:00.000Z' });
  const before = await counters.readTotals();

  // A carry-over that dies after its first counter update...
  const [first] = legacyRecords((await counters.readLegacyTotals())!, new Date());
  await counters.putRecord(first!);
  armFaults('fold-after-apply@1');
  await expect(foldRecords(counters, [first!], { checkpoint: faultCheckpoint()! })).rejects.toThrow(/injected fault/);
  disarmFaults();
  // ...then two at once, then one more: the old counts land once.
  await Promise.all([carryOverLegacyCounts(counters), carryOverLegacyCounts(counters)]);
  expect(await carryOverLegacyCounts(counters)).toEqual({ records: 0 });

  const after = await counters.readTotals();
  expect(after.received - before.received).toBe(8);
  expect(after.unique - before.unique).toBe(6);
  expect(after.duplicate - before.duplicate).toBe(2);
  // The aggregator has been counting since the old version's first count (`started_at`): the carried-over
  // record is dated then. (Other tests' counts may already have dated its shard.)
  expect(first!.at).toBe('2026-01-02T03:04:00.000Z');
  expect(after.firstAt! <= (before.firstAt ?? '9999')).toBe(true);
  expect(await counters.topicCounts(a)).toEqual({ topic: a, received: 5, unique: 3, duplicate: 2 });
  expect(await counters.topicCounts(b)).toEqual({ topic: b, received: 3, unique: 3, duplicate: 0 });
});

it('splits the carry-over into records of at most 100 topics, the totals on the first', () => {
  const topics = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`t${String(i).padStart(3, '0')}`, { unique: 1, duplicate: 1 }]));
  const records = legacyRecords({ received: 400, unique: 250, duplicate: 250, topics }, new Date('2026-01-01T00:00:00Z'));
  expect(records.map((record) => Object.keys(record.topics).length)).toEqual([100, 100, 50]);
  expect(records.map((record) => record.totals.received)).toEqual([500, 0, 0]);
  expect(records.every((record) => record.expiresAt === 0 && record.history === false)).toBe(true);
});
