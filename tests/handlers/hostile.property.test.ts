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

describe('the shipper protocols', () => {
  // Bytes as each protocol might meet them: random, truncated or bit-flipped valid bodies, the wrong
  // protocol's body, compressed or not. Whatever comes, the answer is a 2xx or a 4xx in the protocol's
  // terms, never a 5xx, and whatever is accepted is processed.
  const otlpValid = Buffer.from(
    JSON.stringify({
      resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'fuzz-otlp' } }] }, scopeLogs: [{ logRecords: [{ timeUnixNano: '1796223684000000000', body: { stringValue: 'x' } }] }] }],
    }),
  );
  const lokiValid = Buffer.from(JSON.stringify({ streams: [{ stream: { job: 'fuzz-loki' }, values: [['1796223684000000000', 'line']] }] }));
  const bulkValid = Buffer.from('{"index":{"_index":"fuzz-bulk"}}\n{"message":"x"}\n');
  const mutate = (valid: Buffer) =>
    fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
      fc.nat({ max: valid.length }).map((end) => valid.subarray(0, end)),
      fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([at, xor]) => {
        const copy = Buffer.from(valid);
        copy[at] = copy[at]! ^ xor;
        return copy;
      }),
      fc.constantFrom(otlpValid, lokiValid, bulkValid, Buffer.from('null'), Buffer.from('[]'), Buffer.from('{}')),
    );
  const cases = [
    { name: 'OTLP', path: '/v1/logs', valid: otlpValid, types: ['application/json', 'application/x-protobuf', 'text/plain', ''], allowed: [200, 400, 413, 415] },
    { name: 'Loki', path: '/loki/api/v1/push', valid: lokiValid, types: ['application/json', 'application/x-protobuf', ''], allowed: [204, 400, 413, 415] },
    { name: 'bulk', path: '/_bulk', valid: bulkValid, types: ['application/x-ndjson', 'application/json', 'text/plain'], allowed: [200, 400, 413, 415] },
  ] as const;

  it.each(cases)('$name: never answers 5xx to any body, and every accepted record is processed', async ({ path, valid, types, allowed }) => {
    const { handler } = await import(path === '/v1/logs' ? '../../functions/otlp.ts' : path === '/_bulk' ? '../../functions/elastic.ts' : '../../functions/loki.ts');
    await fc.assert(
      fc.asyncProperty(mutate(valid), fc.constantFrom(...types), fc.boolean(), async (body, type, gzip) => {
        const bytes = gzip ? (await import('node:zlib')).gzipSync(body) : body;
        const result = (await handler(httpEvent('POST', path, { bytes, headers: { 'content-type': type, ...(gzip ? { 'content-encoding': 'gzip' } : {}) } }) as any, {} as any)) as {
          statusCode: number;
        };
        expect(allowed).toContain(result.statusCode);
      }),
      { numRuns: 250 },
    );
    await deliver();
  });
});
