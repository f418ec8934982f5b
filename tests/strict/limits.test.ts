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
  // 300 counter-like items of ~13.6 KB by AWS's rules (names and values in UTF-8), mostly long attribute
  // names, which dynalite counts as 1 byte each when it decides where a page ends. They are read through
  // the volume index, the one index that projects whole items (the event indexes are keys only).
  const wide = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`an_attribute_with_a_long_name_${String(i).padStart(3, '0')}`, { S: 'x' }]));
  const itemOf = (i: number) => ({ pk: { S: `${topic}#${i}` }, vsh: { S: topic }, received: { N: String(1000 + i) }, ...wide });
  // AWS's sizes: a string is its UTF-8 bytes, a number about one byte per two significant digits plus one.
  const awsBytes = (item: Record<string, { S: string } | { N: string }>) =>
    Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + ('S' in value ? Buffer.byteLength(value.S) : Math.ceil(value.N.length / 2) + 1), 0);

  beforeAll(async () => {
    for (let i = 0; i < 300; i += 1) await raw.send(new PutItemCommand({ TableName: table(), Item: itemOf(i) }));
  });

  it('ends a Query page once it has read 1 MB by AWS\'s item sizes, the item that crosses it included', async () => {
    const query = () => new QueryCommand({ TableName: table(), IndexName: 'topicVolume', KeyConditionExpression: 'vsh = :t', ExpressionAttributeValues: { ':t': { S: topic } } });
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

  it('pages through every event when an index Query page comes back short: 1,000 events whose keys take 1.3 MB', async () => {
    // The event indexes hold keys only, so a page of them reaches 1 MB only with the longest keys: a
    // 128-character topic and 512-byte event ids make each entry about 1.3 KB, and a page of 1,000 events
    // needs two Query pages. The code asks for more until it has the page it was asked for.
    const big = uniqueTopic('big').padEnd(EVENT_LIMITS.topicMaxLength, 'b');
    const ids = Array.from({ length: 1000 }, (_, i) => `e${String(i).padStart(4, '0')}`.padEnd(EVENT_LIMITS.eventIdMaxBytes, 'x'));
    for (let from = 0; from < ids.length; from += 500) {
      const events = ids.slice(from, from + 500).map((id) => makeEvent(big, id));
      expect((await callHttp(publishHandler, httpEvent('POST', '/publish', { body: JSON.stringify({ events }) }))).status).toBe(202);
    }
    await deliverQueue(processHandler, process.env.QUEUE_NAME!);
    const meter = async () => ((await (await fetch(`${cloud.endpoint}/_meter`)).json()) as { dynamodb: { tables: Record<string, { queries: number }> } }).dynamodb.tables[table()]!.queries;
    const queriesBefore = await meter();
    const page: { events: Array<{ event_id: string }>; next_cursor: string | null } = (
      await callHttp(eventsHandler, httpEvent('GET', '/events', { query: { topic: big, limit: '1000' } }))
    ).body;
    expect(page.events.map((event) => event.event_id).sort()).toEqual(ids);
    expect(page.next_cursor).toBeNull();
    // The first Query page ended at 1 MB (dynalite's own count, which these short attribute names keep
    // close to AWS's, cuts it first), and the code asked again for the rest.
    expect((await meter()) - queriesBefore).toBeGreaterThanOrEqual(2);
  });
});
