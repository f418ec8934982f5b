// Strict mode: limits AWS enforces and dynalite does not (docs/strict-mode.md): 4 KB expressions, key
// sizes in UTF-8 bytes, 1 MB pages by AWS's item sizes. A raw SDK client meets them as on AWS (and
// dynalite, behind the endpoint, does not); the code's largest requests fit them, and paging goes on
// across pages cut short.
import { DynamoDBClient, PutItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { handler as eventsHandler } from '../../functions/events.ts';
import { handler as processHandler } from '../../functions/process.ts';
import { handler as publishHandler } from '../../functions/publish.ts';
import { handler as topicsHandler } from '../../functions/topics.ts';
import { getServices } from '../../lib/app/services.ts';
import { LIMITS as EVENT_LIMITS } from '../../lib/core/event.ts';
import { MAX_FOLD_RECORDS } from '../../lib/core/fold.ts';
import { MAX_FORGET_PER_UPDATE } from '../../lib/table/counters-repo.ts';
import { callHttp, deliverQueue, httpEvent, makeEvent, uniqueTopic } from '../support/lambda.ts';
import { startStrictCloud, type StrictCloud } from '../support/strict.ts';

jest.setTimeout(180_000);

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
let cloud: StrictCloud;
let raw: DynamoDBClient;
let dynalite: DynamoDBClient;
const table = (): string => process.env.TABLE_NAME!;

beforeAll(async () => {
  cloud = await startStrictCloud({});
  raw = new DynamoDBClient({ endpoint: cloud.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  dynalite = new DynamoDBClient({ endpoint: cloud.dynamodb, region: 'us-east-1', credentials, maxAttempts: 1 });
});

afterAll(async () => {
  raw?.destroy();
  dynalite?.destroy();
  await cloud?.stop();
});

describe('4 KB expressions', () => {
  it('refuses an UpdateExpression over 4,096 bytes with AWS\'s ValidationException; dynalite alone takes it', async () => {
    const names = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`#attribute_${String(i).padStart(3, '0')}`, `a${i}`]));
    const UpdateExpression = `SET ${Object.keys(names).map((name) => `${name} = :v`).join(', ')}`;
    expect(Buffer.byteLength(UpdateExpression)).toBeGreaterThan(4096);
    const command = () =>
      new UpdateItemCommand({
        TableName: table(),
        Key: { pk: { S: '#test#expression' } },
        UpdateExpression,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':v': { N: '1' } },
      });
    const before = await cloud.faults();
    await expect(raw.send(command())).rejects.toMatchObject({
      name: 'ValidationException',
      message: `Invalid UpdateExpression: Expression size has exceeded the maximum allowed size; expression size: ${Buffer.byteLength(UpdateExpression)}`,
      $metadata: { httpStatusCode: 400 },
    });
    expect((await cloud.faults()).expression_too_large - before.expression_too_large).toBe(1);
    await expect(dynalite.send(command())).resolves.toBeDefined();
  });

  it('takes the largest counter update the fold can build', async () => {
    const topic = 'T'.repeat(EVENT_LIMITS.topicMaxLength);
    const ids = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `01KAW3Z8Y6S3ZQ0V6M${tag}${String(i).padStart(6, '0')}`);
    const { counters } = getServices();
    const applied = await counters.applyToCounter(
      { kind: 'topic', topic },
      0,
      { received: 1, unique: 1, duplicate: 0 },
      { apply: ids(MAX_FOLD_RECORDS, 'A'), forget: ids(10 * MAX_FORGET_PER_UPDATE, 'F') },
      { firstAt: new Date().toISOString() },
    );
    expect(applied).toBe(true);
    expect((await cloud.faults()).expression_too_large).toBe(1); // only the one above
  });
});

describe('key sizes in UTF-8 bytes', () => {
  it('refuses a partition key over 2,048 bytes that is under 2,048 characters; dynalite alone takes it', async () => {
    const pk = '€'.repeat(700); // 700 characters, 2,100 bytes
    const put = () => new PutItemCommand({ TableName: table(), Item: { pk: { S: pk } } });
    const before = await cloud.faults();
    await expect(raw.send(put())).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes',
    });
    expect((await cloud.faults()).key_too_large - before.key_too_large).toBe(1);
    await expect(dynalite.send(put())).resolves.toBeDefined();
  });

  it('refuses an index sort key over 1,024 bytes', async () => {
    const put = new PutItemCommand({ TableName: table(), Item: { pk: { S: '#test#long-index-key' }, topic: { S: 't' }, tsk: { S: 'é'.repeat(600) } } });
    await expect(raw.send(put)).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes',
    });
  });

  it('stores and counts the event with the longest key the API accepts, in four-byte characters', async () => {
    const topic = uniqueTopic('k').padEnd(EVENT_LIMITS.topicMaxLength, 'k');
    const eventId = '😀'.repeat(EVENT_LIMITS.eventIdMaxBytes / 4);
    const answer = await callHttp(publishHandler, httpEvent('POST', '/publish', { body: JSON.stringify(makeEvent(topic, eventId)) }));
    expect(answer.status).toBe(202);
    await deliverQueue(processHandler, process.env.QUEUE_NAME!);
    const counts = (await callHttp(topicsHandler, httpEvent('GET', `/topics/${topic}`, { pathParameters: { topic } }))).body;
    expect(counts).toMatchObject({ received: 1, unique: 1 });
    const one = await callHttp(eventsHandler, httpEvent('GET', '/events/x/y', { pathParameters: { topic, event_id: eventId } }));
    expect(one.status).toBe(200);
  });
});

describe('1 MB pages, by AWS\'s item sizes', () => {
  const topic = uniqueTopic('pages');
  // 300 items of ~13.6 KB by AWS's rules (names and values in UTF-8), mostly long attribute names,
  // which dynalite counts as 1 byte each when it decides where a page ends.
  const wide = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`an_attribute_with_a_long_name_${String(i).padStart(3, '0')}`, { S: 'x' }]));
  const itemOf = (i: number) => ({ pk: { S: `${topic}#${i}` }, topic: { S: topic }, tsk: { S: String(i).padStart(4, '0') }, ...wide });
  const awsBytes = (item: Record<string, { S: string }>) => Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value.S), 0);

  beforeAll(async () => {
    for (let i = 0; i < 300; i += 1) await raw.send(new PutItemCommand({ TableName: table(), Item: itemOf(i) }));
  });

  it('ends a Query page once it has read 1 MB by AWS\'s item sizes, the item that crosses it included', async () => {
    const query = () => new QueryCommand({ TableName: table(), IndexName: 'byTopicTime', KeyConditionExpression: 'topic = :t', ExpressionAttributeValues: { ':t': { S: topic } } });
    const before = await cloud.faults();
    const page = await raw.send(query());
    // A page ends with the item that takes what it read to 1 MB or more.
    let expected = 0;
    for (let bytes = 0; bytes < 1024 * 1024; expected += 1) bytes += awsBytes(itemOf(expected));
    expect(expected).toBeLessThan(100);
    expect(page.Count).toBe(expected);
    expect(page.LastEvaluatedKey).toBeDefined();
    expect(page.ScannedCount).toBe(expected);
    expect((await cloud.faults()).pages_cut_at_limit - before.pages_cut_at_limit).toBe(1);
  });

  it('pages through every event when Query pages come back short', async () => {
    const big = uniqueTopic('big');
    // 12 events of ~200 KB: five fit a 1 MB page.
    const payload = (i: number) => ({ text: `${i} `.padEnd(200_000, 'lorem ipsum dolor sit amet ') });
    for (let i = 0; i < 12; i += 1) {
      expect((await callHttp(publishHandler, httpEvent('POST', '/publish', { body: JSON.stringify(makeEvent(big, `e${String(i).padStart(2, '0')}`, { payload: payload(i) })) }))).status).toBe(202);
    }
    await deliverQueue(processHandler, process.env.QUEUE_NAME!);
    const meter = async () => ((await (await fetch(`${cloud.endpoint}/_meter`)).json()) as { dynamodb: { tables: Record<string, { queries: number }> } }).dynamodb.tables[table()]!.queries;
    const queriesBefore = await meter();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { events: Array<{ event_id: string }>; next_cursor: string | null } = (
        await callHttp(eventsHandler, httpEvent('GET', '/events', { query: { topic: big, limit: '100', ...(cursor ? { cursor } : {}) } }))
      ).body;
      seen.push(...page.events.map((event) => event.event_id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => `e${String(i).padStart(2, '0')}`));
    // 12 events of 200 KB take at least three 1 MB pages: the code asked for more until it had them all.
    expect((await meter()) - queriesBefore).toBeGreaterThanOrEqual(3);
  });
});
