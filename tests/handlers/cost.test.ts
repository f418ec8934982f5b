// What one publish of 100 events costs on AWS, measured by the local cloud's meter (docs/cost.md):
// write units and stored bytes per stored event with a 1 KB and a 200-byte payload of realistic log
// content (words, ids, numbers). Issue #23's targets: at most 3 write units per stored event (the
// item and its index entries: today's layout writes each event once and indexes it twice, keys only)
// and at most 1,500 / 1,000 stored bytes per event, index entries and AWS's 100 bytes of overhead per
// item and per entry included. The earlier layout measured 8 and 4 write units, 5,753 and 2,551
// bytes. The message's own items (its tail item, its record, the counters it is folded into) are
// reported beside it, per event. The meter's sizing rules are unit-tested in tests/unit/meter.test.ts.
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { handler as processHandler } from '../../functions/process.ts';
import { handler as publishHandler } from '../../functions/publish.ts';
import { writeUnitsFor } from '../../local/meter/capacity.ts';
import { itemBytes, STORAGE_OVERHEAD_BYTES, type Item } from '../../local/meter/item-size.ts';
import type { MeterSnapshot } from '../../local/meter/meter.ts';
import { callHttp, deliverQueue, httpEvent, makeEvent, uniqueTopic } from '../support/lambda.ts';

const endpoint = (): string => process.env.AWS_ENDPOINT_URL!;
const resetMeter = async (): Promise<void> => void (await fetch(`${endpoint()}/_meter/reset`, { method: 'POST' }));
const meter = async (): Promise<MeterSnapshot> => (await fetch(`${endpoint()}/_meter`)).json() as Promise<MeterSnapshot>;

const WORDS = 'request completed user order payment failed retry cache miss upstream timeout latency checkout session token refresh inventory reserved shipment queued warehouse invoice customer cart discount coupon'.split(' ');

/** A log payload of about `bytes` bytes of JSON: a message in words, ids, numbers, a path, tags. */
export const realisticPayload = (bytes: number, seed: number): Record<string, unknown> => {
  let state = seed * 2654435761;
  const next = (): number => ((state = (Math.imul(state ^ (state >>> 15), 2246822519) + 0x6d2b79f5) >>> 0) % 1_000_000);
  const hex = (length: number) => Array.from({ length }, () => (next() % 16).toString(16)).join('');
  const payload: Record<string, unknown> = {
    level: ['info', 'warn', 'error'][next() % 3],
    message: '',
    request_id: `${hex(8)}-${hex(4)}-${hex(4)}-${hex(12)}`,
    user_id: `u-${next()}`,
    duration_ms: next() / 1000,
    status: [200, 201, 404, 500][next() % 4],
    path: `/api/v1/orders/${next()}`,
  };
  const words: string[] = [];
  while (Buffer.byteLength(JSON.stringify({ ...payload, message: words.join(' ') })) < bytes) words.push(WORDS[next() % WORDS.length]!);
  payload.message = words.join(' ');
  return payload;
};

const TIME_INDEXES = ['topicEvents', 'allEvents'];

const measure = async (payloadBytes: number) => {
  const topic = uniqueTopic(`cost${payloadBytes}`);
  const events = Array.from({ length: 100 }, (_, i) => makeEvent(topic, `evt-${String(i).padStart(3, '0')}-${topic}`, { payload: realisticPayload(payloadBytes, i + 1), source: 'checkout-7f9c' }));
  // A processor's first batch also looks for a first version's counters to carry over (lib/core/upgrade.ts:
  // 128 reads, once per process): done before the meter starts, it is not part of what a publish costs.
  await callHttp(publishHandler, httpEvent('POST', '/publish', { body: JSON.stringify(makeEvent(uniqueTopic('warm'), 'w')) }));
  await deliverQueue(processHandler, process.env.QUEUE_NAME!);
  await resetMeter();
  expect((await callHttp(publishHandler, httpEvent('POST', '/publish', { body: JSON.stringify({ events }) }))).body).toMatchObject({ accepted: 100, messages: 1 });
  await deliverQueue(processHandler, process.env.QUEUE_NAME!);
  const used = await meter();
  // The stored items, read back raw, for their size by AWS's rules.
  const raw = new DynamoDBClient({});
  const items: Item[] = [];
  let ExclusiveStartKey: Record<string, any> | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
  do {
    const page = await raw.send(new ScanCommand({ TableName: process.env.TABLE_NAME!, FilterExpression: 'topic = :t', ExpressionAttributeValues: { ':t': { S: topic } }, ExclusiveStartKey }));
    items.push(...((page.Items ?? []) as unknown as Item[]));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  raw.destroy();
  const index = (name: string) => used.dynamodb.indexes[`${process.env.TABLE_NAME}/${name}`] ?? { write_units: 0, entries_put: 0, entries_updated: 0, entries_deleted: 0, read_units: 0 };
  const timeIndexes = TIME_INDEXES.map(index);
  const itemUnits = items.reduce((sum, item) => sum + writeUnitsFor(itemBytes(item)), 0) / items.length;
  const entryUnits = timeIndexes.reduce((sum, entry) => sum + entry.write_units, 0) / 100;
  const itemSize = items.reduce((sum, item) => sum + itemBytes(item), 0) / items.length;
  // A keys-only entry holds the table's key and the index's keys.
  const entryBytes = (item: Item, keys: string[]): number => itemBytes(Object.fromEntries(['pk', ...keys].map((name) => [name, item[name]!])));
  const entriesSize = items.reduce((sum, item) => sum + entryBytes(item, ['topic', 'tsk']) + entryBytes(item, ['rsh', 'rsk']), 0) / items.length;
  const result = {
    payload_bytes: payloadBytes,
    item_bytes: Math.round(itemSize),
    // The count: the event's item and its index entries.
    event_write_units: itemUnits + entryUnits,
    // Everything the publish wrote, per stored event: the message's tail item, record and counters too.
    all_write_units_per_event: used.dynamodb.write_units / 100,
    tail_write_units_per_event: index('tailItems').write_units / 100,
    stored_bytes_per_event: Math.round(itemSize + STORAGE_OVERHEAD_BYTES + entriesSize + 2 * STORAGE_OVERHEAD_BYTES),
    read_units_per_event: used.dynamodb.read_units / 100,
    sqs_requests: used.sqs.billed_requests,
  };
  process.stderr.write(`cost of one publish of 100 events: ${JSON.stringify(result)}\n`);
  return { result, items, timeIndexes };
};

it('writes an event with a 1 KB payload in 3 units: one for its item, one for each of its two keys-only index entries', async () => {
  const { result, items, timeIndexes } = await measure(1024);
  expect(items).toHaveLength(100);
  // The compressed body keeps the item under 1 KB: one unit.
  expect(result.item_bytes).toBeLessThan(1024);
  for (const entry of timeIndexes) expect(entry).toMatchObject({ entries_put: 100, write_units: 100 });
  expect(result.event_write_units).toBe(3);
  expect(result.stored_bytes_per_event).toBeLessThanOrEqual(1_500);
  // The message's own writes add little per event: one tail item (not an entry per event), one record, the counters.
  expect(result.tail_write_units_per_event).toBeLessThanOrEqual(0.02);
  expect(result.all_write_units_per_event).toBeLessThan(3.25);
  // The processor's key read before its puts, eventually consistent: half a unit per event.
  expect(result.read_units_per_event).toBeLessThan(0.6);
  expect(result.sqs_requests).toBeGreaterThan(0);
});

it('writes an event with a 200-byte payload in 3 units, in at most 1,000 stored bytes', async () => {
  const { result, items, timeIndexes } = await measure(200);
  expect(items).toHaveLength(100);
  for (const entry of timeIndexes) expect(entry).toMatchObject({ entries_put: 100, write_units: 100 });
  expect(result.event_write_units).toBe(3);
  expect(result.stored_bytes_per_event).toBeLessThanOrEqual(1_000);
  expect(result.all_write_units_per_event).toBeLessThan(3.25);
});
