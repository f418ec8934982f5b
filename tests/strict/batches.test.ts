// Strict mode: UnprocessedItems and UnprocessedKeys (docs/strict-mode.md). The local cloud hands back
// a third of the entries of every BatchWriteItem and BatchGetItem unprocessed, as DynamoDB may at any time;
// a raw SDK client sees them in AWS's shape, and the code (lib/table/batch.ts) retries them with
// backoff and jitter until all are done, so the processor still stores and counts exactly.
import { BatchGetItemCommand, BatchWriteItemCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { handler as processHandler } from '../../functions/process.ts';
import { handler as publishHandler } from '../../functions/publish.ts';
import { handler as topicsHandler } from '../../functions/topics.ts';
import { retryStrategy } from '../../lib/app/aws.ts';
import { batchGetAll, batchWriteAll } from '../../lib/table/batch.ts';
import { callHttp, deliverQueue, httpEvent, makeEvent, uniqueTopic } from '../support/lambda.ts';
import { startStrictCloud, type StrictCloud } from '../support/strict.ts';

jest.setTimeout(180_000);

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
let cloud: StrictCloud;
let raw: DynamoDBClient;
const table = (): string => process.env.TABLE_NAME!;

beforeAll(async () => {
  cloud = await startStrictCloud({ CLOUD_STRICT_UNPROCESSED: '0.3' });
  raw = new DynamoDBClient({ endpoint: cloud.endpoint, region: 'us-east-1', credentials });
});

afterAll(async () => {
  raw?.destroy();
  await cloud?.stop();
});

it('leaves some BatchWriteItem entries unprocessed, in AWS shape, and stores only the others', async () => {
  const run = uniqueTopic('bw');
  const requests = Array.from({ length: 25 }, (_, i) => ({ PutRequest: { Item: { pk: { S: `#test#${run}#${i}` }, n: { N: String(i) } } } }));
  const before = await cloud.faults();
  const answer = await raw.send(new BatchWriteItemCommand({ RequestItems: { [table()]: requests } }));
  const left = answer.UnprocessedItems?.[table()] ?? [];
  expect(left.length).toBeGreaterThan(0);
  expect(left.length).toBeLessThan(25);
  const leftKeys = new Set(left.map((request) => request.PutRequest!.Item!.pk!.S));
  for (const request of requests) {
    const { Item } = await raw.send(new GetItemCommand({ TableName: table(), Key: { pk: request.PutRequest.Item.pk }, ConsistentRead: true }));
    // Exactly the entries handed back were not written.
    expect(Item === undefined).toBe(leftKeys.has(request.PutRequest.Item.pk.S));
  }
  expect((await cloud.faults()).unprocessed_items - before.unprocessed_items).toBe(left.length);
});

it('leaves some BatchGetItem keys unprocessed with the request\'s projection and consistency, and answers the others', async () => {
  const run = uniqueTopic('bg');
  const keys = Array.from({ length: 100 }, (_, i) => ({ pk: { S: `#test#${run}#${i}` } }));
  const before = await cloud.faults();
  const answer = await raw.send(
    new BatchGetItemCommand({
      RequestItems: { [table()]: { Keys: keys, ConsistentRead: true, ProjectionExpression: '#pk', ExpressionAttributeNames: { '#pk': 'pk' } } },
    }),
  );
  const left = answer.UnprocessedKeys?.[table()];
  expect(left).toMatchObject({ ConsistentRead: true, ProjectionExpression: '#pk', ExpressionAttributeNames: { '#pk': 'pk' } });
  expect(left!.Keys!.length).toBeGreaterThan(10);
  expect(left!.Keys!.length).toBeLessThan(90);
  expect((await cloud.faults()).unprocessed_keys - before.unprocessed_keys).toBe(left!.Keys!.length);
});

it('writes and reads every item through the code\'s batch helpers, which retry what is left unprocessed', async () => {
  // The functions' own client settings (a call whose every entry is held back is throttled: retried patiently).
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: cloud.endpoint, region: 'us-east-1', credentials, retryStrategy: retryStrategy('batch') }));
  const run = uniqueTopic('helpers');
  const keys = Array.from({ length: 260 }, (_, i) => ({ pk: `#test#${run}#${i}` }));
  const before = await cloud.faults();
  await batchWriteAll(client, table(), keys.map((key, i) => ({ PutRequest: { Item: { ...key, n: i } } })));
  const items = await batchGetAll(client, table(), keys);
  expect(items.map((item) => item.n).sort((a, b) => Number(a) - Number(b))).toEqual(keys.map((_, i) => i));
  const after = await cloud.faults();
  expect(after.unprocessed_items - before.unprocessed_items).toBeGreaterThan(30);
  expect(after.unprocessed_keys - before.unprocessed_keys).toBeGreaterThan(30);
  client.destroy();
});

it('processes messages exactly while a third of every batch read and write comes back unprocessed', async () => {
  const topic = uniqueTopic('unprocessed');
  const before = await cloud.faults();
  // Ten one-request messages of 30 events, a third of them repeats: the processor reads every key with
  // BatchGetItem and marks its message records folded with BatchWriteItem.
  for (let request = 0; request < 10; request += 1) {
    const events = Array.from({ length: 30 }, (_, i) => makeEvent(topic, `e${request * 20 + i}`));
    expect((await callHttp(publishHandler, httpEvent('POST', '/publish', { body: JSON.stringify({ events }) }))).status).toBe(202);
  }
  await deliverQueue(processHandler, process.env.QUEUE_NAME!);
  const counts = (await callHttp(topicsHandler, httpEvent('GET', `/topics/${topic}`, { pathParameters: { topic } }))).body;
  expect(counts).toMatchObject({ received: 300, unique: 210, duplicate: 90 });
  const after = await cloud.faults();
  expect(after.unprocessed_keys - before.unprocessed_keys).toBeGreaterThan(0);
  expect(after.unprocessed_items - before.unprocessed_items).toBeGreaterThan(0);
});
