// Hostile input through the real publish handler and processor (embedded emulators): random text,
// random JSON, odd numbers, unusual unicode, deep nesting, awkward keys. The server never answers 5xx
// to input, what it accepts comes back unchanged, and nothing it accepted ends in the DLQ.
import fc from 'fast-check';
import { handler as eventsHandler } from '../../functions/events.ts';
import { handler as processHandler } from '../../functions/process.ts';
import { handler as publishHandler } from '../../functions/publish.ts';
import { callHttp, deliverQueue, httpEvent, queueCount, uniqueTopic } from '../support/lambda.ts';

jest.setTimeout(300_000);

const publishRaw = async (body: string) => {
  const result = (await publishHandler(httpEvent('POST', '/publish', { body }) as any, {} as any)) as { statusCode: number; body: string };
  return { status: result.statusCode, body: JSON.parse(result.body) as Record<string, unknown> };
};
const deliver = () => deliverQueue(processHandler, process.env.QUEUE_NAME!);

const awkwardKey = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', '', '.', '#', 'a.b', '$', 'toString'));
const oddNumber = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.constantFrom(0, -0, 5e-324, 1.7976931348623157e308, 2 ** 53));
const leaf = fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), oddNumber, fc.boolean(), fc.constant(null));
const payload = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', maxDepth: 8 }, leaf, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(awkwardKey, tie('value'), { maxKeys: 4 })),
  object: fc.dictionary(awkwardKey, tie('value'), { maxKeys: 6 }),
})).object;

const hostileText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.json({ maxDepth: 4 }),
  fc.constantFrom('{"events":[', '[]', 'null', '{"events":null}', '[[[[[[[[[[]]]]]]]]]]', `{"a":${'1'.repeat(400)}}`, '\u0000', '{"events":[{"payload":1e999}]}'),
  fc.integer({ min: 1, max: 200 }).map((depth) => `{"topic":"t","event_id":"1","timestamp":"2026-01-01T00:00:00Z","source":"s","payload":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`),
  fc.bigInt({ min: 10n ** 15n, max: 10n ** 40n }).map((big) => `{"topic":"t","event_id":"1","timestamp":"2026-01-01T00:00:00Z","source":"s","payload":{"n":${big}}}`),
);

afterAll(async () => {
  await deliver();
  expect(await queueCount(process.env.DLQ_NAME!)).toBe(0);
});

it('never answers 5xx to any request body, and every accepted event is processed', async () => {
  await fc.assert(
    fc.asyncProperty(hostileText, async (text) => {
      const answer = await publishRaw(text);
      expect([202, 400, 413, 422]).toContain(answer.status);
      if (answer.status !== 202) expect(typeof answer.body.message).toBe('string');
    }),
    { numRuns: 300 },
  );
  // deliverQueue throws if any record fails: nothing accepted may be unprocessable.
  await deliver();
});

it('stores hostile payloads and returns them unchanged', async () => {
  const topic = uniqueTopic('hostile');
  let n = 0;
  await fc.assert(
    fc.asyncProperty(payload, fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }), async (body, idSuffix) => {
      n += 1;
      const event = { topic, event_id: `${n}-${idSuffix}`, timestamp: '2026-11-22T10:00:00+05:30', source: 'fuzz', payload: body };
      const text = JSON.stringify(event);
      const answer = await publishRaw(text);
      expect(answer.status).toBe(202);
      await deliver();
      const found = await callHttp(eventsHandler, httpEvent('GET', '/events/x/y', { pathParameters: { topic, event_id: event.event_id } }));
      expect(found.status).toBe(200);
      // What the sender sent is the JSON text; compare with what that text means.
      expect(found.body.payload).toEqual((JSON.parse(text) as typeof event).payload);
      expect(JSON.stringify(found.body.payload)).toBe(JSON.stringify((JSON.parse(text) as typeof event).payload));
    }),
    { numRuns: 80 },
  );
});
