// Strict mode: global secondary indexes that trail the table (docs/strict-mode.md). A raw SDK client
// sees a Query on an index miss a new item, show an updated one at its old place and a deleted one
// still there, until the lag has passed; a kill in between loses nothing. The code copes: the top
// topics' counts come from the counter items, not from index entries that trail them, and the live
// tail, which shows events stored at least TAIL_LAG_MS ago, sees every event once.
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { handler as eventsHandler } from '../../functions/events.ts';
import { handler as processHandler } from '../../functions/process.ts';
import { handler as publishHandler } from '../../functions/publish.ts';
import { handler as statsHandler } from '../../functions/stats.ts';
import { TAIL_LAG_MS } from '../../lib/api/query.ts';
import { callHttp, deleteMessages, httpEvent, invokeProcess, makeEvent, receiveAll, uniqueTopic } from '../support/lambda.ts';
import { settle, startStrictCloud, type StrictCloud } from '../support/strict.ts';

jest.setTimeout(180_000);

const LAG_MS = 1_500;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
let cloud: StrictCloud;
let raw: DynamoDBClient;
const table = (): string => process.env.TABLE_NAME!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  cloud = await startStrictCloud({ CLOUD_STRICT_INDEX_LAG_MS: String(LAG_MS) });
  raw = new DynamoDBClient({ endpoint: cloud.endpoint, region: 'us-east-1', credentials });
});

afterAll(async () => {
  raw?.destroy();
  await cloud?.stop();
});

/** Processes what the queue holds, without waiting for the indexes (as the event source does). */
const processQueue = async (): Promise<void> => {
  for (;;) {
    const messages = await receiveAll(process.env.QUEUE_NAME!, 10);
    if (messages.length === 0) return;
    expect(await invokeProcess(processHandler, messages)).toEqual([]);
    await deleteMessages(process.env.QUEUE_NAME!, messages);
  }
};

const indexed = async (topic: string): Promise<string[]> => {
  const page = await raw.send(
    new QueryCommand({ TableName: table(), IndexName: 'topicEvents', KeyConditionExpression: 'topic = :t', ExpressionAttributeValues: { ':t': { S: topic } } }),
  );
  return (page.Items ?? []).map((item) => `${item.pk!.S}@${item.tsk!.S}`);
};

it('answers an index Query from the index as it was: a new item missing, an updated one at its old place, a deleted one still there', async () => {
  const topic = uniqueTopic('lag');
  const before = (await cloud.faults()).index_changes_delayed;
  const put = (tsk: string) => raw.send(new PutItemCommand({ TableName: table(), Item: { pk: { S: `${topic}#1` }, topic: { S: topic }, tsk: { S: tsk } } }));
  await put('a');
  // The table has it at once (strongly consistent), the index not yet.
  expect((await raw.send(new GetItemCommand({ TableName: table(), Key: { pk: { S: `${topic}#1` } }, ConsistentRead: true }))).Item).toBeDefined();
  expect(await indexed(topic)).toEqual([]);
  await sleep(LAG_MS + 300);
  expect(await indexed(topic)).toEqual([`${topic}#1@a`]);
  await put('b');
  expect(await indexed(topic)).toEqual([`${topic}#1@a`]);
  await sleep(LAG_MS + 300);
  expect(await indexed(topic)).toEqual([`${topic}#1@b`]);
  await raw.send(new DeleteItemCommand({ TableName: table(), Key: { pk: { S: `${topic}#1` } } }));
  expect(await indexed(topic)).toEqual([`${topic}#1@b`]);
  await sleep(LAG_MS + 300);
  expect(await indexed(topic)).toEqual([]);
  expect((await cloud.faults()).index_changes_delayed - before).toBe(3);
});

it('loses no index change when the cloud is killed before it is applied', async () => {
  const topic = uniqueTopic('killed');
  for (let i = 0; i < 20; i += 1) {
    await raw.send(new PutItemCommand({ TableName: table(), Item: { pk: { S: `${topic}#${i}` }, topic: { S: topic }, tsk: { S: String(i).padStart(2, '0') } } }));
  }
  expect((await cloud.status()).index_changes_pending).toBeGreaterThan(0);
  await cloud.restart('SIGKILL');
  // Applied at the start, before the endpoint answers.
  expect((await indexed(topic)).length).toBe(20);
});

it('counts the top topics from their counter items, not from index entries that trail them', async () => {
  const topic = uniqueTopic('top');
  const publish = async (ids: string[]) => {
    expect((await callHttp(publishHandler, httpEvent('POST', '/publish', { body: JSON.stringify(ids.map((id) => makeEvent(topic, id))) }))).status).toBe(202);
    await processQueue();
  };
  await publish(Array.from({ length: 500 }, (_, i) => `a${i}`));
  await settle(cloud.endpoint);
  await publish(Array.from({ length: 300 }, (_, i) => `b${i}`));
  // Within the lag: the volume index still holds the topic's entry from the first fold (500 received).
  const stats = (await callHttp(statsHandler, httpEvent('GET', '/stats'))).body;
  expect(stats.top_topics.find((entry: { topic: string }) => entry.topic === topic)).toEqual({ topic, received: 800, unique: 800, duplicate: 0 });
  expect((await cloud.status()).index_changes_pending).toBeGreaterThan(0);
});

it('lets the live tail see every event once while the arrival index trails the table', async () => {
  expect(LAG_MS).toBeLessThan(TAIL_LAG_MS);
  const topic = uniqueTopic('tail');
  const tail = async (cursor?: string) =>
    (await callHttp(eventsHandler, httpEvent('GET', '/events/tail', { query: { topic, limit: '1000', ...(cursor ? { cursor } : {}) } }))).body as {
      events: Array<{ event_id: string }>;
      next_cursor: string;
    };
  let cursor = (await tail()).next_cursor;
  const seen: string[] = [];
  const sent: string[] = [];
  for (let round = 0; round < 6; round += 1) {
    const ids = Array.from({ length: 20 }, (_, i) => `r${round}-${String(i).padStart(2, '0')}`);
    sent.push(...ids);
    expect((await callHttp(publishHandler, httpEvent('POST', '/publish', { body: JSON.stringify(ids.map((id) => makeEvent(topic, id))) }))).status).toBe(202);
    await processQueue();
    const page = await tail(cursor);
    seen.push(...page.events.map((event) => event.event_id));
    cursor = page.next_cursor;
    await sleep(700);
  }
  // Until everything stored is older than the tail's lag.
  for (const deadline = Date.now() + 2 * TAIL_LAG_MS + LAG_MS; Date.now() < deadline; await sleep(300)) {
    const page = await tail(cursor);
    seen.push(...page.events.map((event) => event.event_id));
    cursor = page.next_cursor;
  }
  expect([...seen].sort()).toEqual([...sent].sort());
});
