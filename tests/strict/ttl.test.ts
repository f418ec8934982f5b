// Strict mode: TTL that deletes expired items in the background, late (docs/strict-mode.md; dynalite
// has no TTL at all). A raw SDK client enables it and sees an expired item readable for a while, then
// gone, at no write cost; the code copes: reads leave expired events out before they are deleted, and
// once one is deleted the same event is stored and counted as new again (the dedup window ended).
import { DescribeTimeToLiveCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { handler as eventsHandler } from '../../functions/events.ts';
import { getServices } from '../../lib/app/services.ts';
import { validatePublishRequest } from '../../lib/core/publish-request.ts';
import { processMessage } from '../../lib/core/processor.ts';
import { foldRecords } from '../../lib/core/fold.ts';
import { packMessages, parseMessage } from '../../lib/queue/message.ts';
import { callHttp, httpEvent, makeEvent, uniqueTopic } from '../support/lambda.ts';
import { startStrictCloud, type StrictCloud } from '../support/strict.ts';

jest.setTimeout(120_000);

const SWEEP_MS = 300;
const DELAY_MS = 4_000;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
let cloud: StrictCloud;
let raw: DynamoDBClient;
const table = (): string => process.env.TABLE_NAME!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const now = (): number => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  cloud = await startStrictCloud({ CLOUD_STRICT_TTL_SWEEP_SECONDS: String(SWEEP_MS / 1000), CLOUD_STRICT_TTL_DELAY_SECONDS: String(DELAY_MS / 1000) });
  raw = new DynamoDBClient({ endpoint: cloud.endpoint, region: 'us-east-1', credentials });
});

afterAll(async () => {
  raw?.destroy();
  await cloud?.stop();
});

const get = async (pk: string) => (await raw.send(new GetItemCommand({ TableName: table(), Key: { pk: { S: pk } }, ConsistentRead: true }))).Item;

it('has TTL on the attribute serverless.yml names (provisioning enabled it)', async () => {
  const { TimeToLiveDescription } = await raw.send(new DescribeTimeToLiveCommand({ TableName: table() }));
  expect(TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expires_at' });
});

it('deletes expired items in the background, late, at no write cost; never those not expired, or expired five years ago', async () => {
  const run = uniqueTopic('ttl');
  const put = (name: string, expiresAt: { N: string } | { S: string }) =>
    raw.send(new PutItemCommand({ TableName: table(), Item: { pk: { S: `#test#${run}#${name}` }, expires_at: expiresAt } }));
  await put('expired', { N: String(now() - 1) });
  await put('later', { N: String(now() + 3_600) });
  await put('ancient', { N: String(now() - 6 * 365 * 86_400) });
  await put('text', { S: String(now() - 1) });
  const meter = await (await fetch(`${cloud.endpoint}/_meter`)).json();
  const deletedBefore = (await cloud.faults()).ttl_deleted;
  // Late: still there a moment after its expiry.
  expect(await get(`#test#${run}#expired`)).toBeDefined();
  const deadline = Date.now() + DELAY_MS + 10 * SWEEP_MS;
  while ((await get(`#test#${run}#expired`)) !== undefined) {
    if (Date.now() > deadline) throw new Error('the expired item was not deleted');
    await sleep(100);
  }
  expect((await cloud.faults()).ttl_deleted - deletedBefore).toBe(1);
  for (const name of ['later', 'ancient', 'text']) expect(await get(`#test#${run}#${name}`)).toBeDefined();
  // The sweeper's deletes cost nothing (AWS does not charge TTL deletes).
  const after = await (await fetch(`${cloud.endpoint}/_meter`)).json();
  expect(after.dynamodb.write_units).toBe(meter.dynamodb.write_units);
});

it('hides an expired event from reads until it is deleted, then stores and counts the same event again as new', async () => {
  const topic = uniqueTopic('retention');
  const { store, counters } = getServices();
  const message = () => parseMessage(packMessages(validatePublishRequest([makeEvent(topic, 'short-lived')]))[0]!.body);
  const first = await processMessage({ events: store, counters }, message(), { retentionSeconds: 1, horizonSeconds: 600 });
  await foldRecords(counters, [first.record]);
  expect(first.record.totals).toEqual({ received: 1, unique: 1, duplicate: 0 });
  await sleep(2_100);
  // Expired: no read shows it, though the table still holds it (TTL has not come round yet).
  const one = await callHttp(eventsHandler, httpEvent('GET', '/events/x/y', { pathParameters: { topic, event_id: 'short-lived' } }));
  expect(one.status).toBe(404);
  expect(await get(`${topic}#short-lived`)).toBeDefined();
  // Once TTL deleted it, the event is new again: the dedup window ends with the event's retention.
  const deadline = Date.now() + DELAY_MS + 10 * SWEEP_MS;
  while ((await get(`${topic}#short-lived`)) !== undefined) {
    if (Date.now() > deadline) throw new Error('the expired event was not deleted');
    await sleep(100);
  }
  const second = await processMessage({ events: store, counters }, message(), { retentionSeconds: 600, horizonSeconds: 600 });
  await foldRecords(counters, [second.record]);
  expect(second.record.totals).toEqual({ received: 1, unique: 1, duplicate: 0 });
  expect(await counters.topicCounts(topic)).toMatchObject({ received: 2, unique: 2, duplicate: 0 });
  expect(await get(`${topic}#short-lived`)).toBeDefined();
});
