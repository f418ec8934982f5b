// Payload search and the live tail, through the real handlers and use cases against the embedded
// emulators: what matches, paging through a search within a read budget, bad parameters, and
// following new events in the order they were stored.
import { handler as eventsHandler } from '../../functions/events.ts';
import { handler as processHandler } from '../../functions/process.ts';
import { handler as publishHandler } from '../../functions/publish.ts';
import { queryEvents, tailEvents, TAIL_LAG_MS } from '../../lib/api/query.ts';
import { dynamoClient } from '../../lib/app/aws.ts';
import { getServices } from '../../lib/app/services.ts';
import { callHttp, deliverQueue, httpEvent, makeEvent, uniqueTopic } from '../support/lambda.ts';

const publish = (body: unknown) => callHttp(publishHandler, httpEvent('POST', '/publish', { body: JSON.stringify(body) }));
const deliver = () => deliverQueue(processHandler, process.env.QUEUE_NAME!);
const search = (query: Record<string, string>) => callHttp(eventsHandler, httpEvent('GET', '/events', { query }));
const tailHttp = (query: Record<string, string>) => callHttp(eventsHandler, httpEvent('GET', '/events/tail', { query }));
const ids = (events: Array<{ event_id: string }>) => events.map((event) => event.event_id);

const run = uniqueTopic('s');
const orders = `${run}-orders`;
const auth = `${run}-auth`;
const levels = ['info', 'warn', 'error'];
// 300 events: every third an error; order ids 4700-4799; one nested field, one number, one flag.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Sent = { topic: string; event_id: string; timestamp: string; source: string; payload: any };
const sent: Sent[] = Array.from({ length: 300 }, (_, i) =>
  makeEvent(i % 2 === 0 ? orders : auth, `e${String(i).padStart(3, '0')}`, {
    timestamp: new Date(Date.UTC(2032, 0, 1, 0, 0, i)).toISOString(),
    source: i % 5 === 0 ? 'Checkout-Service' : 'api',
    payload: {
      level: levels[i % 3],
      message: i % 7 === 0 ? `Payment DECLINED for order ${4700 + (i % 100)}` : 'ok',
      order: { id: 4700 + (i % 100), items: [{ sku: `SKU-${i % 4}` }] },
      retry: i % 10 === 0,
      note: i % 11 === 0 ? null : 'n',
    },
  }),
);
const expected = (keep: (event: Sent) => boolean, topic?: string) =>
  ids(sent.filter((event) => (topic === undefined || event.topic === topic) && keep(event)));

/** Follows next_cursor to the end; returns every event, in order. */
const pageThrough = async (query: Record<string, string>, limits?: { maxExamined: number; milliseconds: number }) => {
  const seen: Array<{ event_id: string }> = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await queryEvents(getServices(), { ...query, ...(cursor ? { cursor } : {}) }, new Date(), limits);
    seen.push(...page.events);
    cursor = page.next_cursor;
    pages += 1;
  } while (cursor);
  return { seen, pages };
};

beforeAll(async () => {
  for (let start = 0; start < sent.length; start += 100) await publish(sent.slice(start, start + 100));
  await deliver();
});

describe('payload search on GET /events', () => {
  it('finds text in any string or number of the payload, or the source, in any case', async () => {
    const declined = await search({ topic: orders, q: 'declined' });
    expect(declined.status).toBe(200);
    expect(ids(declined.body.events)).toEqual(expected((event) => /declined/i.test(String(event.payload.message)), orders));
    // A number anywhere (order.id), a string inside an array (items[].sku), the source.
    expect(ids((await search({ topic: orders, q: '4742' })).body.events)).toEqual(expected((event) => (event.payload.order as { id: number }).id === 4742 || String(event.payload.message).includes('4742'), orders));
    expect(ids((await search({ topic: auth, q: 'sku-3' })).body.events)).toEqual(expected((event) => Number(event.event_id.slice(1)) % 4 === 3, auth));
    expect(ids((await search({ topic: auth, q: 'CHECKOUT' })).body.events)).toEqual(expected((event) => event.source === 'Checkout-Service', auth));
    // Keys are not searched, only values: `retry` is a key of every payload and in no value.
    expect((await search({ topic: orders, q: 'retry' })).body.events).toEqual([]);
  });

  it('matches payload fields exactly: strings, numbers by value, true/false/null, nested paths', async () => {
    const errors = await search({ topic: orders, 'payload.level': 'error' });
    expect(ids(errors.body.events)).toEqual(expected((event) => event.payload.level === 'error', orders));
    expect(ids((await search({ topic: orders, 'payload.order.id': '4742.0' })).body.events)).toEqual(
      expected((event) => (event.payload.order as { id: number }).id === 4742, orders),
    );
    expect(ids((await search({ topic: orders, 'payload.retry': 'true' })).body.events)).toEqual(expected((event) => event.payload.retry === true, orders));
    expect(ids((await search({ topic: orders, 'payload.note': 'null' })).body.events)).toEqual(expected((event) => event.payload.note === null, orders));
    expect(ids((await search({ topic: orders, 'payload.order.items.0.sku': 'SKU-2' })).body.events)).toEqual(
      expected((event) => Number(event.event_id.slice(1)) % 4 === 2, orders),
    );
    expect((await search({ topic: orders, 'payload.level': 'ERROR' })).body.events).toEqual([]);
  });

  it('combines every filter: text, several fields, source, time range, across topics', async () => {
    const query = { q: 'declined', 'payload.level': 'error', source: 'api', from: '2032-01-01T00:01:00Z', to: '2032-01-01T00:04:00Z', order: 'asc' };
    const keep = (event: Sent) =>
      /declined/i.test(String(event.payload.message)) && event.payload.level === 'error' && event.source === 'api' && event.timestamp >= '2032-01-01T00:01:00' && event.timestamp <= '2032-01-01T00:04:00.000Z';
    const all = (await search({ ...query, limit: '1000' })).body.events.filter((event: { topic: string }) => event.topic.startsWith(run));
    expect(ids(all)).toEqual(expected(keep));
    expect(ids(all).length).toBeGreaterThan(0);
  });

  it('pages through a search within a small read budget, never skipping or repeating an event', async () => {
    const keep = (event: Sent) => event.payload.level === 'error';
    // 150 events of the topic, 50 errors; each page may read only 20 items.
    const { seen, pages } = await pageThrough({ topic: orders, 'payload.level': 'error', limit: '8' }, { maxExamined: 20, milliseconds: 5_000 });
    expect(ids(seen)).toEqual(expected(keep, orders));
    expect(pages).toBeGreaterThan(Math.ceil(50 / 8));
    // The same across topics, newest first, merged from the partitions.
    const across = await pageThrough({ 'payload.level': 'error', q: 'declined', from: '2032-01-01T00:00:00Z', to: '2032-01-01T01:00:00Z', limit: '3' }, { maxExamined: 15, milliseconds: 5_000 });
    expect(ids(across.seen)).toEqual(expected((event) => keep(event) && /declined/i.test(String(event.payload.message))).reverse());
  });

  it('says how much it examined, and answers short pages with a cursor when the budget runs out', async () => {
    const page = await queryEvents(getServices(), { topic: orders, q: 'no-such-text', limit: '10' }, new Date(), { maxExamined: 30, milliseconds: 5_000 });
    expect(page.events).toEqual([]);
    expect(page.examined).toBeGreaterThanOrEqual(30);
    expect(page.next_cursor).toEqual(expect.any(String));
  });

  it.each([
    [{ q: '' }, /^q: must not be empty/],
    [{ 'payload..level': 'x' }, /^payload\.\.level: the field path has an empty segment/],
    [{ 'payload.': 'x' }, /^payload\.: the field path has an empty segment/],
    [{ topic: 'x', q: 'a', cursor: 'forged' }, /^cursor: /],
  ])('refuses %j with 400 and says which parameter', async (query, reason) => {
    const answer = await search(query as Record<string, string>);
    expect(answer.status).toBe(400);
    expect(answer.body.message).toMatch(reason);
  });
});

describe('GET /events/tail', () => {
  // The tail shows events stored at least TAIL_LAG_MS ago; a clock that far ahead sees them at once.
  const later = { now: () => new Date(Date.now() + TAIL_LAG_MS + 1_000), sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)) };

  it('starts with the newest events and follows new ones in the order they were stored', async () => {
    const topic = uniqueTopic('tail');
    await publish([makeEvent(topic, 'a'), makeEvent(topic, 'b')]);
    await deliver();
    const first = await tailEvents(getServices(), { topic, limit: '1' }, later);
    expect(ids(first.events)).toEqual(['b']);

    // A late event with an old timestamp still comes next: arrival order, not event time.
    await publish([makeEvent(topic, 'late', { timestamp: '2001-01-01T00:00:00Z' })]);
    await deliver();
    await publish([makeEvent(topic, 'c'), makeEvent(uniqueTopic('other'), 'x'), makeEvent(topic, 'd')]);
    await deliver();
    const next = await tailEvents(getServices(), { topic, cursor: first.next_cursor! }, later);
    expect(ids(next.events)).toEqual(['late', 'c', 'd']);
    const again = await tailEvents(getServices(), { topic, cursor: next.next_cursor! }, later);
    expect(again.events).toEqual([]);
  });

  it('applies the search filters and long-polls until something new matches', async () => {
    const topic = uniqueTopic('tailq');
    await publish([makeEvent(topic, 'seed')]);
    await deliver();
    const start = await tailEvents(getServices(), { topic }, later);
    const waiting = tailEvents(getServices(), { topic, q: 'wanted', wait: '15', cursor: start.next_cursor! }, later);
    await new Promise((resolve) => setTimeout(resolve, 700));
    await publish([makeEvent(topic, 'noise'), makeEvent(topic, 'hit', { payload: { text: 'the WANTED one' } })]);
    await deliver();
    const started = Date.now();
    const answer = await waiting;
    expect(ids(answer.events)).toEqual(['hit']);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  // 40 messages delivered one at a time, in order: in strict mode every delivery waits for redelivered
  // copies and trailing indexes to settle (tests/support/lambda.ts), about a second each, so the test
  // takes about 50 s there (60 s, the default limit, ran out once in CI).
  it('reads a page from many messages in one BatchGetItem, and follows them in order, a few at a time', async () => {
    // One event per message: each message writes its own tail item, as a service that logs one line
    // at a time does. The page's events must be read together, not one round trip per tail item.
    const topic = uniqueTopic('tailmany');
    const id = (i: number) => `m${String(i).padStart(2, '0')}`;
    for (let i = 0; i < 30; i += 1) {
      await publish([makeEvent(topic, id(i))]);
      await deliver();
    }
    // Each BatchGetItem of this topic's events: how many keys it asked for, and how many DynamoDB left
    // unprocessed (strict mode leaves some, as AWS may; those, and only those, are asked for again).
    const eventReads: Array<{ asked: number; unprocessed: number }> = [];
    type Keys = Array<{ pk: string | { S: string } }>;
    const ours = (keys: Keys): number => keys.filter((key) => (typeof key.pk === 'string' ? key.pk : key.pk.S).startsWith(`${topic}#`)).length;
    const client = dynamoClient();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (!/^BatchGet(Item)?Command$/.test(context.commandName ?? '')) return next(args);
        // The document client's keys, or the marshalled ones ({ S: ... }), depending on the step.
        const asked = ours(Object.values((args.input as { RequestItems: Record<string, { Keys: Keys }> }).RequestItems).flatMap((entry) => entry.Keys));
        const result = await next(args);
        const left = (result.output as { UnprocessedKeys?: Record<string, { Keys: Keys }> }).UnprocessedKeys ?? {};
        if (asked > 0) eventReads.push({ asked, unprocessed: ours(Object.values(left).flatMap((entry) => entry.Keys)) });
        return result;
      },
      { step: 'initialize', name: 'countEventReads' },
    );
    try {
      const first = await tailEvents(getServices(), { topic, limit: '25' }, later);
      expect(ids(first.events)).toEqual(Array.from({ length: 25 }, (_, i) => id(i + 5)));
      // One request for the whole page; any after it ask again for just what the one before left unprocessed.
      expect(eventReads[0]?.asked).toBe(25);
      eventReads.slice(1).forEach((read, i) => expect(read.asked).toBe(eventReads[i]!.unprocessed));
      expect(eventReads.at(-1)?.unprocessed).toBe(0);

      for (let i = 30; i < 40; i += 1) {
        await publish([makeEvent(topic, id(i))]);
        await deliver();
      }
      const followed: string[] = [];
      let cursor = first.next_cursor!;
      for (let page = 0; page < 10; page += 1) {
        const next = await tailEvents(getServices(), { topic, limit: '4', cursor }, later);
        expect(next.events.length).toBeLessThanOrEqual(4);
        followed.push(...ids(next.events));
        cursor = next.next_cursor!;
        if (next.events.length === 0) break;
      }
      expect(followed).toEqual(Array.from({ length: 10 }, (_, i) => id(i + 30)));
    } finally {
      client.middlewareStack.remove('countEventReads');
    }
  }, 180_000);

  it('follows a few events at a time through messages that mix topics, with and without a filter, never skipping or repeating', async () => {
    // Pages end inside a message's tail item and inside a read of keys, with another topic's keys
    // between the ones shown: where each page ends must be exactly where the next begins.
    const run = uniqueTopic('tailmix');
    const [a, b] = [`${run}-a`, `${run}-b`];
    await publish([makeEvent(a, 'seed-a'), makeEvent(b, 'seed-b')]);
    await deliver();
    const startA = (await tailEvents(getServices(), { topic: a }, later)).next_cursor!;
    const startB = (await tailEvents(getServices(), { topic: b }, later)).next_cursor!;
    const sent: Array<ReturnType<typeof makeEvent>> = [];
    for (let message = 0; message < 5; message += 1) {
      const batch = Array.from({ length: 7 }, (_, i) =>
        makeEvent(i % 3 === 1 ? b : a, `m${message}-${i}`, { payload: { text: (message + i) % 3 === 0 ? 'a HIT' : 'a miss' } }),
      );
      sent.push(...batch);
      await publish(batch);
      await deliver();
    }
    const follow = async (query: Record<string, string>, cursor: string): Promise<string[]> => {
      const seen: string[] = [];
      for (let page = 0; page < 40; page += 1) {
        const next = await tailEvents(getServices(), { ...query, cursor }, later);
        expect(next.events.length).toBeLessThanOrEqual(Number(query.limit));
        if (next.events.length === 0) return seen;
        seen.push(...ids(next.events));
        cursor = next.next_cursor!;
      }
      throw new Error('the tail did not come to an end');
    };
    const expected = (topic: string, hit: boolean) => sent.filter((event) => event.topic === topic && (!hit || JSON.stringify(event.payload).includes('HIT'))).map((event) => event.event_id);
    expect(await follow({ topic: a, q: 'hit', limit: '2' }, startA)).toEqual(expected(a, true));
    expect(await follow({ topic: a, limit: '3' }, startA)).toEqual(expected(a, false));
    expect(await follow({ topic: b, limit: '2' }, startB)).toEqual(expected(b, false));
    expect(await follow({ topic: b, q: 'hit', limit: '1' }, startB)).toEqual(expected(b, true));
  });

  it('answers an empty page with an advanced cursor once the wait is over, over HTTP', async () => {
    const topic = uniqueTopic('tailw');
    const start = await tailHttp({ topic });
    expect(start.status).toBe(200);
    const started = Date.now();
    const answer = await tailHttp({ topic, wait: '1', cursor: start.body.next_cursor });
    expect(answer.status).toBe(200);
    expect(answer.body.events).toEqual([]);
    expect(answer.body.next_cursor).toEqual(expect.any(String));
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect((await tailHttp({ wait: '21' })).status).toBe(400);
    // A cursor of a query is not a tail position.
    const queryCursor = (await search({ topic: orders, limit: '1' })).body.next_cursor;
    expect((await tailHttp({ topic: orders, cursor: queryCursor })).status).toBe(400);
  });
});
