// Waiting for published events to be counted: POST /publish hands out a receipt, GET /receipts/{receipt}
// says whether its events are counted, and with `wait` long-polls until they are. Real handlers on the
// embedded emulators; the processor runs when the test delivers the queue.
import { ulid } from 'ulid';
import { handler as processHandler } from '../../functions/process.ts';
import { handler as publishHandler } from '../../functions/publish.ts';
import { handler as receiptsHandler } from '../../functions/receipts.ts';
import { handler as statsHandler } from '../../functions/stats.ts';
import { handler as topicsHandler } from '../../functions/topics.ts';
import { authorize, receiptKeys } from '../../lib/api/auth.ts';
import { ForbiddenError, UnauthorizedError } from '../../lib/core/errors.ts';
import { getServices } from '../../lib/app/services.ts';
import { armFaults, disarmFaults } from '../../lib/core/faults.ts';
import { context, callHttp, deleteMessages, deliverQueue, httpEvent, invokeProcess, makeEvent, queueCount, receiveAll, uniqueTopic } from '../support/lambda.ts';

const queueName = (): string => process.env.QUEUE_NAME!;
const deliver = () => deliverQueue(processHandler, queueName());
const stats = async () => (await callHttp(statsHandler, httpEvent('GET', '/stats'))).body;

/** POST /publish, with the raw answer's headers. */
const publish = async (body: unknown) => {
  const result = (await publishHandler(httpEvent('POST', '/publish', { body: JSON.stringify(body) }) as any, context('publish'))) as {
    statusCode: number;
    headers: Record<string, string>;
    body: string;
  };
  return { status: result.statusCode, location: result.headers.location, body: JSON.parse(result.body) };
};

const ask = (receipt: string, query: Record<string, string> = {}) =>
  callHttp(receiptsHandler, httpEvent('GET', `/receipts/${receipt}`, { pathParameters: { receipt }, query }));

afterEach(async () => {
  await deliver();
  expect(await queueCount(queueName())).toBe(0);
});

describe('GET /receipts/{receipt}', () => {
  it('says when a publish is counted: not before its messages are processed, and then in /stats and /topics', async () => {
    const topic = uniqueTopic('receipt');
    const before = await stats();
    const published = await publish([makeEvent(topic, 'a'), makeEvent(topic, 'b'), makeEvent(topic, 'a')]);
    expect(published).toEqual({ status: 202, location: `/receipts/${published.body.receipt}`, body: { accepted: 3, messages: 1, receipt: expect.any(String) } });
    const { receipt } = published.body;
    // In the queue, not yet processed: 202 came first, the counts come later.
    expect(await ask(receipt)).toEqual({ status: 200, body: { receipt, counted: false, messages: 1, counted_messages: 0 } });
    expect((await stats()).received).toBe(before.received);

    await deliver();
    expect(await ask(receipt)).toEqual({ status: 200, body: { receipt, counted: true, messages: 1, counted_messages: 1 } });
    // Counted means counted everywhere the counts are read.
    const after = await stats();
    expect([after.received - before.received, after.unique_processed - before.unique_processed, after.duplicate_dropped - before.duplicate_dropped]).toEqual([3, 2, 1]);
    const one = await callHttp(topicsHandler, httpEvent('GET', `/topics/${topic}`, { pathParameters: { topic } }));
    expect(one.body).toMatchObject({ received: 3, unique: 2, duplicate: 1 });
  });

  it('is not counted while its record is written but not folded into the counters', async () => {
    const topic = uniqueTopic('half');
    const { receipt } = (await publish([makeEvent(topic, 'h')])).body;
    const [message] = await receiveAll(queueName(), 1);
    // The processor stores the event and the message record, then dies before the fold.
    armFaults('after-record');
    try {
      expect(await invokeProcess(processHandler, [message!])).toEqual([message!.MessageId]);
    } finally {
      disarmFaults();
    }
    expect((await ask(receipt)).body).toMatchObject({ counted: false, counted_messages: 0 });
    // The message comes back and the fold finishes: now it is.
    expect(await invokeProcess(processHandler, [message!])).toEqual([]);
    await deleteMessages(queueName(), [message!]);
    expect((await ask(receipt)).body).toMatchObject({ counted: true, counted_messages: 1 });
  });

  it('waits, with wait=<seconds>, until the events are counted, and answers as soon as they are', async () => {
    const topic = uniqueTopic('wait');
    const { receipt } = (await publish([makeEvent(topic, 'w')])).body;
    const started = Date.now();
    const waiting = ask(receipt, { wait: '15' });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await deliver();
    expect(await waiting).toEqual({ status: 200, body: { receipt, counted: true, messages: 1, counted_messages: 1 } });
    const took = Date.now() - started;
    // It waited for the delivery, and answered then, not at the end of its 15 s (a wide margin: a
    // slow machine must not fail it, a wait that sleeps its whole time must).
    expect(took).toBeGreaterThanOrEqual(1_000);
    expect(took).toBeLessThan(12_000);
  });

  it('answers counted: false once the wait is over when the events are still queued', async () => {
    const { receipt } = (await publish([makeEvent(uniqueTopic('slow'), 's')])).body;
    const started = Date.now();
    expect(await ask(receipt, { wait: '1' })).toEqual({ status: 200, body: { receipt, counted: false, messages: 1, counted_messages: 0 } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it('names every message a big request spans, and counts them one by one', async () => {
    const topic = uniqueTopic('big');
    // ~100 KB payloads: two per 256 KiB message, so five events span three messages.
    const events = Array.from({ length: 5 }, (_, i) => makeEvent(topic, `big-${i}`, { payload: { text: 'x'.repeat(100_000) } }));
    const { receipt, messages } = (await publish(events)).body;
    expect(messages).toBe(3);
    expect(receipt.split('.')).toHaveLength(3);
    await deliver();
    expect((await ask(receipt)).body).toEqual({ receipt, counted: true, messages: 3, counted_messages: 3 });
  });

  it('refuses what it did not hand out, and a wait beyond 20 s', async () => {
    expect(await ask('nonsense')).toMatchObject({ status: 400, body: { error: 'bad_request', message: 'receipt: not one POST /publish handed out' } });
    expect(await ask(`${ulid()}.x`)).toMatchObject({ status: 400 });
    expect(await ask(ulid(), { wait: '21' })).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^wait: /) } });
    // A message never processed yet is simply not counted; one older than the horizon cannot be told.
    expect((await ask(ulid())).body).toMatchObject({ counted: false, counted_messages: 0 });
    const old = ulid(Date.now() - (getServices().config.DEDUP_HORIZON_SECONDS + 60) * 1000);
    expect(await ask(old)).toMatchObject({ status: 404, body: { error: 'not_found', message: expect.stringMatching(/older than the dedup horizon/) } });
  });

  it('lets a publish key or a read key ask, and is open when publishing or reading is', () => {
    const keys = receiptKeys({ PUBLISH_API_KEYS: ['p1'], READ_API_KEYS: ['r1'], ADMIN_API_KEYS: ['a1'] });
    for (const key of ['p1', 'r1', 'a1']) expect(() => authorize('receipt', key, keys)).not.toThrow();
    expect(() => authorize('receipt', undefined, keys)).toThrow(new UnauthorizedError('this operation needs a publish or read key: send it as x-api-key, Authorization: Bearer <key>, Authorization: ApiKey <key>, or Authorization: Basic with the key as the password'));
    expect(() => authorize('receipt', 'guess', keys)).toThrow(ForbiddenError);
    expect(receiptKeys({ PUBLISH_API_KEYS: [], READ_API_KEYS: ['r1'], ADMIN_API_KEYS: [] })).toEqual([]);
    expect(receiptKeys({ PUBLISH_API_KEYS: ['p1'], READ_API_KEYS: [], ADMIN_API_KEYS: [] })).toEqual([]);
  });
});
