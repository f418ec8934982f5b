// Handler tests: the real handlers against the embedded DynamoDB and SQS started by the test suite.
import { handler as eventsHandler } from '../../functions/events.ts';
import { handler as healthHandler } from '../../functions/health.ts';
import { handler as processHandler } from '../../functions/process.ts';
import { handler as publishHandler } from '../../functions/publish.ts';
import { handler as statsHandler } from '../../functions/stats.ts';
import { handler as topicsHandler } from '../../functions/topics.ts';
import { dynamoClient } from '../../lib/app/aws.ts';
import { DynamoEventStore } from '../../lib/table/events-repo.ts';
import { checkHealth } from '../../lib/api/health.ts';
import { getServices } from '../../lib/app/services.ts';
import {
  callHttp,
  context,
  deleteMessages,
  deliverQueue,
  httpEvent,
  makeEvent,
  queueCount,
  receiveAll,
  sqsEvent,
  uniqueTopic,
} from '../support/lambda.ts';
import { settle, strictMode } from '../support/strict.ts';

const queueName = (): string => process.env.QUEUE_NAME!;

const publish = (body: unknown) => callHttp(publishHandler, httpEvent('POST', '/publish', { body: JSON.stringify(body) }));
const publishRaw = (body: string) => callHttp(publishHandler, httpEvent('POST', '/publish', { body }));
const stats = async () => (await callHttp(statsHandler, httpEvent('GET', '/stats'))).body;
const events = (query: Record<string, string>) => callHttp(eventsHandler, httpEvent('GET', '/events', { query }));
const deliver = () => deliverQueue(processHandler, queueName());

/** A topic's unique and duplicate counts (GET /topics/{topic}); every event it received is one of the two. */
const topicCounts = async (topic: string) => {
  const answer = await callHttp(topicsHandler, httpEvent('GET', `/topics/${topic}`, { pathParameters: { topic } }));
  if (answer.status === 404) return { unique: 0, duplicate: 0 };
  expect(answer.body.received).toBe(answer.body.unique + answer.body.duplicate);
  return { unique: answer.body.unique, duplicate: answer.body.duplicate };
};

afterEach(async () => {
  // Nothing a test published may leak into the next one.
  await deliver();
  expect(await queueCount(queueName())).toBe(0);
});

describe('POST /publish', () => {
  it('answers 202 with the number accepted and enqueues them', async () => {
    const topic = uniqueTopic('pub');
    const before = await stats();
    const answer = await publish({ events: [makeEvent(topic, 'a'), makeEvent(topic, 'b'), makeEvent(topic, 'c')] });
    expect(answer).toEqual({ status: 202, body: { accepted: 3, messages: 1, receipt: expect.any(String) } });
    expect(await queueCount(queueName())).toBe(1);
    // Counted when processed, from the message's record: exactly once whatever fails in between.
    expect((await stats()).received - before.received).toBe(0);
    await deliver();
    expect((await stats()).received - before.received).toBe(3);
  });

  it('accepts a single event and a bare array', async () => {
    const topic = uniqueTopic('shapes');
    expect((await publish(makeEvent(topic, 'single'))).body.accepted).toBe(1);
    expect((await publish([makeEvent(topic, 'x'), makeEvent(topic, 'y')])).body.accepted).toBe(2);
    await deliver();
    expect(await topicCounts(topic)).toEqual({ unique: 3, duplicate: 0 });
  });

  it.each([
    ['malformed JSON', '{"events": [', 400, 'malformed_json'],
    ['an empty body', '', 400, 'malformed_json'],
    ['a body over the size limit', JSON.stringify({ events: [{ pad: 'x'.repeat(4 * 1024 * 1024) }] }), 413, 'too_large'],
  ])('rejects %s and enqueues nothing', async (_name, body, status, error) => {
    const answer = await publishRaw(body);
    expect(answer.status).toBe(status);
    expect(answer.body.error).toBe(error);
    expect(answer.body.message).toEqual(expect.any(String));
    expect(await queueCount(queueName())).toBe(0);
  });

  it('rejects the whole request with 422 when one event is invalid, naming index and field', async () => {
    const topic = uniqueTopic('bad');
    const before = await stats();
    const answer = await publish({
      events: [makeEvent(topic, 'fine'), makeEvent(topic, 'late', { timestamp: '2026-02-30T00:00:00Z' }), makeEvent(topic, '')],
    });
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({
      error: 'validation_failed',
      issues: [
        { index: 1, field: 'timestamp', message: 'day 30 does not exist in 2026-02' },
        { index: 2, field: 'event_id', message: 'must not be empty' },
      ],
    });
    expect(await queueCount(queueName())).toBe(0);
    expect((await stats()).received).toBe(before.received);
  });
});

describe('process: every distinct event stored once, every delivery counted once', () => {
  it('counts the same event sent twice as one unique and one duplicate', async () => {
    const topic = uniqueTopic('twice');
    await publish(makeEvent(topic, 'e1'));
    await publish(makeEvent(topic, 'e1'));
    await deliver();
    expect(await topicCounts(topic)).toEqual({ unique: 1, duplicate: 1 });
    expect((await events({ topic })).body.events).toHaveLength(1);
  });

  it('dedups the same event twice within one message', async () => {
    const topic = uniqueTopic('inbatch');
    expect((await publish([makeEvent(topic, 'e1'), makeEvent(topic, 'e2'), makeEvent(topic, 'e1')])).body.messages).toBe(1);
    await deliver();
    expect(await topicCounts(topic)).toEqual({ unique: 2, duplicate: 1 });
  });

  it('dedups across separate process invocations', async () => {
    const topic = uniqueTopic('across');
    await publish([makeEvent(topic, 'e1'), makeEvent(topic, 'e2')]);
    await deliver();
    await publish([makeEvent(topic, 'e2'), makeEvent(topic, 'e3')]);
    await deliver();
    expect(await topicCounts(topic)).toEqual({ unique: 3, duplicate: 1 });
  });

  it('stores one item when the same event_id arrives in many batches processed concurrently', async () => {
    const topic = uniqueTopic('concurrent');
    // One request after the other: concurrent requests would share messages (coalesce.ts).
    for (let request = 0; request < 20; request += 1) await publish(makeEvent(topic, 'hot'));
    const messages = await receiveAll(queueName());
    expect(messages).toHaveLength(20);
    const responses = await Promise.all(messages.map((message) => processHandler(sqsEvent([message]), context('process'))));
    expect(responses.flatMap((response) => response.batchItemFailures)).toEqual([]);
    await deleteMessages(queueName(), messages);
    expect(await topicCounts(topic)).toEqual({ unique: 1, duplicate: 19 });
    await settle();
    expect((await events({ topic })).body.events).toHaveLength(1);
  });

  it('lets concurrent one-event requests share queue messages, and still stores and counts each event once', async () => {
    const topic = uniqueTopic('coalesced');
    const before = await topicCounts(topic);
    // 40 requests at once, 10 of them repeating an event id: the first goes alone, the rest join the
    // sends that follow it (coalesce.ts).
    const answers = await Promise.all(Array.from({ length: 40 }, (_, index) => publish(makeEvent(topic, `e${index % 30}`))));
    expect(answers.map((answer) => answer.status)).toEqual(Array(40).fill(202));
    expect(answers.every((answer) => answer.body.accepted === 1 && answer.body.messages === 1)).toBe(true);
    const messages = await receiveAll(queueName());
    expect(messages.length).toBeLessThan(40);
    expect(messages.flatMap((message) => JSON.parse(message.Body!).events)).toHaveLength(40);
    for (let start = 0; start < messages.length; start += 10) {
      expect((await processHandler(sqsEvent(messages.slice(start, start + 10)), context('process'))).batchItemFailures).toEqual([]);
    }
    await deleteMessages(queueName(), messages);
    expect(await topicCounts(topic)).toEqual({ unique: before.unique + 30, duplicate: before.duplicate + 10 });
    // Events are listed through an index, which trails the table (strict mode; AWS).
    await settle();
    expect((await events({ topic, limit: '100' })).body.events).toHaveLength(30);
  });

  it('reads the keys of a whole batch at once: ten one-event messages, one key read', async () => {
    const topic = uniqueTopic('batchread');
    // One request after the other: ten messages of one event each, two of them repeats.
    for (let request = 0; request < 10; request += 1) await publish(makeEvent(topic, `k${request % 8}`));
    const messages = await receiveAll(queueName());
    expect(messages).toHaveLength(10);
    // The processor's own client, observed: a key read is a BatchGetItem projecting the delivery id. A
    // request for keys that DynamoDB left unprocessed (UnprocessedKeys) is the same read, finished.
    const keyReads: number[] = [];
    const leftUnprocessed = new Set<string>();
    const client = dynamoClient('batch');
    type Requests = Record<string, { ProjectionExpression?: string; Keys?: unknown[] }>;
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { RequestItems?: Requests };
        for (const request of Object.values(input.RequestItems ?? {})) {
          if (!request.ProjectionExpression?.includes('delivery')) continue;
          const keys = (request.Keys ?? []).map((key) => JSON.stringify(key));
          if (!keys.every((key) => leftUnprocessed.has(key))) keyReads.push(keys.length);
          for (const key of keys) leftUnprocessed.delete(key);
        }
        const result = await next(args);
        for (const request of Object.values(((result.output as { UnprocessedKeys?: Requests }).UnprocessedKeys ?? {}) as Requests)) {
          for (const key of request.Keys ?? []) leftUnprocessed.add(JSON.stringify(key));
        }
        return result;
      },
      { step: 'initialize', name: 'countKeyReads' },
    );
    try {
      expect((await processHandler(sqsEvent(messages), context('process'))).batchItemFailures).toEqual([]);
    } finally {
      client.middlewareStack.remove('countKeyReads');
    }
    await deleteMessages(queueName(), messages);
    // One read for the batch names its 8 distinct keys. The two repeats were not stored when it was made,
    // so each was put beside its original; one put of each pair was refused and re-read its key.
    expect(keyReads).toEqual([8, 1, 1]);
    expect(await topicCounts(topic)).toEqual({ unique: 8, duplicate: 2 });
  });

  it('applies a message once when two invocations process it at the same time', async () => {
    const topic = uniqueTopic('twoinvocations');
    await publish([makeEvent(topic, 'a'), makeEvent(topic, 'b'), makeEvent(topic, 'a')]);
    const messages = await receiveAll(queueName());
    const batch = sqsEvent(messages);
    await Promise.all([processHandler(batch, context('process')), processHandler(batch, context('process'))]);
    await deleteMessages(queueName(), messages);
    expect(await topicCounts(topic)).toEqual({ unique: 2, duplicate: 1 });
  });

  it('applies a message once when one invocation is handed it twice (SQS delivered it again)', async () => {
    const topic = uniqueTopic('twiceinbatch');
    await publish([makeEvent(topic, 'a'), makeEvent(topic, 'b'), makeEvent(topic, 'a')]);
    const [message] = await receiveAll(queueName());
    const copy = { ...message!, MessageId: `${message!.MessageId}-copy` };
    expect((await processHandler(sqsEvent([message!, copy]), context('process'))).batchItemFailures).toEqual([]);
    await deleteMessages(queueName(), [message!]);
    expect(await topicCounts(topic)).toEqual({ unique: 2, duplicate: 1 });
  });

  it('does not count a redelivered message again', async () => {
    const topic = uniqueTopic('redelivery');
    await publish([makeEvent(topic, 'a'), makeEvent(topic, 'b')]);
    const messages = await receiveAll(queueName());
    for (let delivery = 0; delivery < 3; delivery += 1) {
      expect((await processHandler(sqsEvent(messages), context('process'))).batchItemFailures).toEqual([]);
    }
    await deleteMessages(queueName(), messages);
    expect(await topicCounts(topic)).toEqual({ unique: 2, duplicate: 0 });
  });

  it('treats the same event_id on two topics as two events', async () => {
    const [first, second] = [uniqueTopic('left'), uniqueTopic('right')];
    await publish([makeEvent(first, 'shared'), makeEvent(second, 'shared')]);
    await deliver();
    expect(await topicCounts(first)).toEqual({ unique: 1, duplicate: 0 });
    expect(await topicCounts(second)).toEqual({ unique: 1, duplicate: 0 });
  });

  it('returns payloads exactly as they were sent', async () => {
    const topic = uniqueTopic('payload');
    const payload = {
      text: 'Grüße, 世界 😀 \u0000\u001f \uFFFE',
      numbers: [0, -1, 1.5, 1e-7, 9007199254740991, -0.25],
      nested: { a: { b: { c: [null, true, false, { d: [] }] } } },
      'key.with.dots': 1,
      'key#hash': 2,
      '': 'empty key',
      empty: {},
    };
    expect((await publish(makeEvent(topic, "p", { payload }))).body).toEqual({ accepted: 1, messages: 1, receipt: expect.any(String) });
    await deliver();
    const [stored] = (await events({ topic })).body.events;
    expect(stored.payload).toEqual(payload);
    expect(JSON.stringify(stored.payload)).toBe(JSON.stringify(payload));
  });

  it('keeps the totals consistent: received = unique + duplicate, processed = unique + duplicate', async () => {
    const before = await stats();
    const topic = uniqueTopic('totals');
    await publish([makeEvent(topic, '1'), makeEvent(topic, '2'), makeEvent(topic, '1')]);
    await publish([makeEvent(topic, '2'), makeEvent(topic, '3')]);
    await deliver();
    const after = await stats();
    expect(after.received - before.received).toBe(5);
    expect(after.unique_processed - before.unique_processed).toBe(3);
    expect(after.duplicate_dropped - before.duplicate_dropped).toBe(2);
    expect(after.processed).toBe(after.unique_processed + after.duplicate_dropped);
    expect(after.received).toBe(after.processed);
  });

  it('fails only a record that is not a valid message, and its neighbours still count', async () => {
    const topic = uniqueTopic('poison');
    await publish(makeEvent(topic, 'ok'));
    const [good] = await receiveAll(queueName());
    const poison = { ...good!, MessageId: 'poison-1', Body: '{"not":"ours"}' };
    const response = await processHandler(sqsEvent([poison, good!]), context('process'));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'poison-1' }]);
    await deleteMessages(queueName(), [good!]);
    expect(await topicCounts(topic)).toEqual({ unique: 1, duplicate: 0 });
  });
});

describe('GET /events', () => {
  it('pages through a topic in event-time order with a cursor, never repeating or skipping', async () => {
    const topic = uniqueTopic('paging');
    const sent = Array.from({ length: 25 }, (_, i) =>
      makeEvent(topic, `e${String(i).padStart(2, '0')}`, { timestamp: `2026-11-22T10:00:${String(59 - i).padStart(2, '0')}Z` }),
    );
    await publish(sent);
    await deliver();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const answer: { status: number; body: { events: Array<{ event_id: string }>; next_cursor: string | null } } = await events({
        topic,
        limit: '10',
        ...(cursor ? { cursor } : {}),
      });
      expect(answer.status).toBe(200);
      seen.push(...answer.body.events.map((event) => event.event_id));
      cursor = answer.body.next_cursor;
    } while (cursor);
    // Later ids have earlier timestamps, so time order is the reverse of id order.
    expect(seen).toEqual(sent.map((event) => event.event_id).reverse());
  });

  it('returns timestamps normalized to UTC', async () => {
    const topic = uniqueTopic('utc');
    await publish(makeEvent(topic, 'tz', { timestamp: '2026-11-22T12:00:00.250+02:00' }));
    await deliver();
    expect((await events({ topic })).body.events[0].timestamp).toBe('2026-11-22T10:00:00.250Z');
  });

  it.each([
    [{ from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' }, /from: must not be after to/],
    [{ topic: 'x', limit: '0' }, /limit/],
    [{ topic: 'x', limit: 'many' }, /limit/],
    [{ topic: 'x', cursor: 'garbage' }, /cursor/],
    [{ topic: 'x', from: 'yesterday' }, /from/],
  ])('rejects %j with 400 and says why', async (query, reason) => {
    const answer = await events(query as Record<string, string>);
    expect(answer.status).toBe(400);
    expect(answer.body.message).toMatch(reason);
  });
});

describe('GET /health', () => {
  it('answers 200 when the table and the queue answer', async () => {
    const answer = await callHttp(healthHandler, httpEvent('GET', '/health'));
    expect(answer.status).toBe(200);
    expect(answer.body.checks).toMatchObject({ table: { ok: true }, queue: { ok: true } });
    // Against a strict local cloud, /health says so (and with which seed); otherwise it has nothing to say.
    expect(answer.body.notice).toEqual(strictMode() ? expect.stringMatching(/strict mode \(CLOUD_STRICT_SEED=\d+\)/) : undefined);
  });

  it('names what failed when the table does not answer', async () => {
    const services = getServices();
    const report = await checkHealth({ ...services, store: new DynamoEventStore(dynamoClient(), 'no-such-table') });
    expect(report.ok).toBe(false);
    expect(report.checks.table).toMatchObject({ ok: false, error: expect.stringMatching(/ResourceNotFound/) });
    expect(report.checks.queue!.ok).toBe(true);
  });
});
