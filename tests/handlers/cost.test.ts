// What one publish of 100 events costs on AWS, measured by the local cloud's meter (docs/cost.md):
// write units per stored event with a 1 KB and a 200-byte payload of realistic log content (words,
// ids, numbers). Today every event item is projected ALL into three indexes, so each event is written
// four times: 8 units per event with 1 KB, 4 with 200 bytes (issue #23 sets out to cut this to 3 at
// most; this test is where its numbers come from). The meter's own sizing rules are unit-tested in
// tests/unit/meter.test.ts.
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { handler as processHandler } from '../../functions/process.ts';
import { handler as publishHandler } from '../../functions/publish.ts';
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

const measure = async (payloadBytes: number) => {
  const topic = uniqueTopic(`cost${payloadBytes}`);
  const events = Array.from({ length: 100 }, (_, i) => makeEvent(topic, `evt-${String(i).padStart(3, '0')}-${topic}`, { payload: realisticPayload(payloadBytes, i + 1), source: 'checkout-7f9c' }));
  await deliverQueue(processHandler, process.env.QUEUE_NAME!);
  await resetMeter();
  expect((await callHttp(publishHandler, httpEvent('POST', '/publish', { body: JSON.stringify({ events }) }))).body).toEqual({ accepted: 100, messages: 1 });
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
  const eventIndexes = ['byTopicTime', 'recent', 'arrival'].map((index) => used.dynamodb.indexes[`${process.env.TABLE_NAME}/${index}`]!);
  const indexUnits = eventIndexes.reduce((sum, index) => sum + index.write_units, 0);
  const itemSize = items.reduce((sum, item) => sum + itemBytes(item), 0) / items.length;
  const result = {
    payload_bytes: payloadBytes,
    item_bytes: Math.round(itemSize),
    write_units_per_event: used.dynamodb.write_units / 100,
    index_write_units_per_event: indexUnits / 100,
    read_units_per_event: used.dynamodb.read_units / 100,
    // Storage: the item and its three index entries, each with AWS's 100 bytes of overhead.
    stored_bytes_per_event: Math.round(4 * (itemSize + STORAGE_OVERHEAD_BYTES)),
    sqs_requests: used.sqs.billed_requests,
  };
  process.stderr.write(`cost of one publish of 100 events: ${JSON.stringify(result)}\n`);
  return { result, items, eventIndexes };
};

it('meters 8 write units per stored event with a 1 KB payload: the item and its three index entries, 2 each', async () => {
  const { result, items, eventIndexes } = await measure(1024);
  expect(items).toHaveLength(100);
  expect(result.item_bytes).toBeGreaterThan(1024);
  expect(result.item_bytes).toBeLessThan(2048);
  // Each index entry of each event: one put of 2 units.
  for (const index of eventIndexes) expect(index).toMatchObject({ entries_put: 100, write_units: 200 });
  expect(result.index_write_units_per_event).toBe(6);
  // 8 for the item and its entries, and a few hundredths for the message's record and the counters.
  expect(result.write_units_per_event).toBeGreaterThanOrEqual(8);
  expect(result.write_units_per_event).toBeLessThan(8.2);
  expect(result.sqs_requests).toBeGreaterThan(0);
});

it('meters 4 write units per stored event with a 200-byte payload: the item and its three index entries, 1 each', async () => {
  const { result, items, eventIndexes } = await measure(200);
  expect(items).toHaveLength(100);
  expect(result.item_bytes).toBeLessThan(1024);
  for (const index of eventIndexes) expect(index).toMatchObject({ entries_put: 100, write_units: 100 });
  expect(result.index_write_units_per_event).toBe(3);
  expect(result.write_units_per_event).toBeGreaterThanOrEqual(4);
  expect(result.write_units_per_event).toBeLessThan(4.2);
});
