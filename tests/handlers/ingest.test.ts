// The shipper protocols on the real handlers and the embedded emulators: what each record becomes,
// what each protocol answers (in its own terms), exact counts when a batch is sent again, and bad
// input refused whole or per record with nothing half-written. Requests are built by the shippers'
// own encoders (tests/support/shippers.ts); the e2e test drives the real clients over HTTP.
import { gzipSync } from 'node:zlib';
import { compress as snappyCompress } from 'snappyjs';
import { handler as consoleHandler } from '../../functions/console.ts';
import { handler as elasticHandler } from '../../functions/elastic.ts';
import { handler as eventsHandler } from '../../functions/events.ts';
import { handler as healthHandler } from '../../functions/health.ts';
import { handler as lokiHandler } from '../../functions/loki.ts';
import { handler as otlpHandler } from '../../functions/otlp.ts';
import { handler as processHandler } from '../../functions/process.ts';
import { handler as topicsHandler } from '../../functions/topics.ts';
import { toHttpError } from '../../functions/http/errors.ts';
import { elasticErrors, otlpErrors } from '../../functions/http/protocols.ts';
import { BacklogError, DependencyError } from '../../lib/core/errors.ts';
import { messageType } from '../../lib/ingest/protobuf.ts';
import { getServices } from '../../lib/app/services.ts';
import { callHttp, callRaw, deliverQueue, httpEvent, queueCount, uniqueTopic } from '../support/lambda.ts';
import { lokiProtobufBody, otlpBody, sdkRecords } from '../support/shippers.ts';

const queueName = (): string => process.env.QUEUE_NAME!;
const deliver = () => deliverQueue(processHandler, queueName());

const otlp = (bytes: Buffer, headers: Record<string, string> = {}, query?: Record<string, string>) =>
  callRaw(otlpHandler, httpEvent('POST', '/v1/logs', { bytes, headers: { 'content-type': 'application/x-protobuf', ...headers }, ...(query ? { query } : {}) }));
const loki = (bytes: Buffer, headers: Record<string, string> = {}) =>
  callRaw(lokiHandler, httpEvent('POST', '/loki/api/v1/push', { bytes, headers: { 'content-type': 'application/x-protobuf', ...headers } }));
const bulk = (text: string | Buffer, headers: Record<string, string> = {}, index?: string) =>
  callRaw(
    elasticHandler,
    httpEvent('POST', index ? `/${index}/_bulk` : '/_bulk', {
      bytes: Buffer.isBuffer(text) ? text : Buffer.from(text),
      headers: { 'content-type': 'application/x-ndjson', ...headers },
      ...(index ? { pathParameters: { index } } : {}),
    }),
  );

const ndjson = (...lines: unknown[]): string => `${lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n')}\n`;

const topicEvents = async (topic: string) => (await callHttp(eventsHandler, httpEvent('GET', '/events', { query: { topic, limit: '1000' } }))).body.events as any[];
const topicCounts = async (topic: string) => {
  const answer = await callHttp(topicsHandler, httpEvent('GET', `/topics/${topic}`, { pathParameters: { topic } }));
  return answer.status === 404 ? { received: 0, unique: 0, duplicate: 0 } : { received: answer.body.received, unique: answer.body.unique, duplicate: answer.body.duplicate };
};

const decode = (name: string, bytes: Buffer) => {
  const type = messageType(name);
  return type.toObject(type.decode(bytes), { longs: String, defaults: false }) as Record<string, any>;
};

afterEach(async () => {
  // Nothing a test enqueued may leak into the next one.
  await deliver();
  expect(await queueCount(queueName())).toBe(0);
});

describe('OTLP/HTTP logs: POST /v1/logs', () => {
  it('maps each record to an event, protobuf and JSON alike, keeping nanoseconds, ids and attributes exactly', async () => {
    const service = uniqueTopic('checkout api');
    const records = await sdkRecords(
      [
        {
          body: 'payment failed',
          severityNumber: 17,
          severityText: 'ERROR',
          timestamp: [1_796_223_684, 123_456_789],
          attributes: { 'log.record.uid': '01JDQ8Y1B2C3D4E5F6G7H8J9K0', 'order.id': 'o-77', amount: 12.5, ok: true, tags: ['a', 'b'] },
        },
        { body: { structured: { nested: [1, 'two'] } }, timestamp: [1_796_223_685, 1] },
      ],
      { 'service.name': service, 'service.instance.id': 'pod-7', 'host.name': 'node-1' },
    );
    const topic = service.replace(' ', '_');
    for (const format of ['protobuf', 'json'] as const) {
      const answer = await otlp(otlpBody(records, format), { 'content-type': format === 'protobuf' ? 'application/x-protobuf' : 'application/json' });
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe(format === 'protobuf' ? 'application/x-protobuf' : 'application/json');
      // No partial_success: every record was accepted.
      if (format === 'protobuf') expect(decode('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse', answer.body)).toEqual({});
      else expect(JSON.parse(answer.body.toString())).toEqual({});
    }
    await deliver();
    const stored = await topicEvents(topic);
    // Two records, sent twice (once per encoding): the same ids both times, so two events.
    expect(stored.map((event) => event.event_id).sort()).toEqual(['01JDQ8Y1B2C3D4E5F6G7H8J9K0', expect.stringMatching(/^[0-9a-f]{32}$/)].sort());
    expect(await topicCounts(topic)).toEqual({ received: 4, unique: 2, duplicate: 2 });
    const [first, second] = [stored.find((event) => event.event_id.startsWith('01J'))!, stored.find((event) => !event.event_id.startsWith('01J'))!];
    expect(first).toMatchObject({
      topic,
      timestamp: '2026-12-02T15:01:24.123456789Z',
      source: 'pod-7',
      payload: {
        body: 'payment failed',
        severity_text: 'ERROR',
        severity_number: 17,
        attributes: { 'log.record.uid': '01JDQ8Y1B2C3D4E5F6G7H8J9K0', 'order.id': 'o-77', amount: 12.5, ok: true, tags: ['a', 'b'] },
        resource: { 'service.name': service, 'service.instance.id': 'pod-7', 'host.name': 'node-1' },
        scope: { name: 'checkout-logger', version: '1.0.0' },
        time_unix_nano: '1796223684123456789',
      },
    });
    expect(second.payload.body).toEqual({ structured: { nested: [1, 'two'] } });
    expect(second.timestamp).toBe('2026-12-02T15:01:25.000000001Z');
  });

  it('keeps every number exactly: 64-bit integers beyond 2^53 as text, non-finite doubles as text, bytes as base64', async () => {
    const topic = uniqueTopic('exact');
    // OTLP/JSON as a hand-written client (or the Collector) may send it: int64 as text or as a bare number.
    const request = `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"${topic}"}}]},"scopeLogs":[{"logRecords":[{
      "timeUnixNano": 1796223684123456789,
      "traceId": "5B8EFFF798038103D269B633813FC60C", "spanId": "EEE19B7EC3C1B174",
      "attributes": [
        {"key": "as_text", "value": {"intValue": "9007199254740993"}},
        {"key": "as_number", "value": {"intValue": 9007199254740993}},
        {"key": "small", "value": {"intValue": "42"}},
        {"key": "nan", "value": {"doubleValue": "NaN"}},
        {"key": "raw", "value": {"bytesValue": "AAEC"}}
      ]}]}]}]}`;
    expect((await otlp(Buffer.from(request), { 'content-type': 'application/json' })).status).toBe(200);
    await deliver();
    const [stored] = await topicEvents(topic);
    expect(stored.timestamp).toBe('2026-12-02T15:01:24.123456789Z');
    expect(stored.payload).toMatchObject({
      attributes: { as_text: '9007199254740993', as_number: '9007199254740993', small: 42, nan: 'NaN', raw: 'AAEC' },
      trace_id: '5b8efff798038103d269b633813fc60c',
      span_id: 'eee19b7ec3c1b174',
    });
  });

  it('counts a batch sent again after its answer was lost once more as duplicates, and stores nothing twice', async () => {
    const service = uniqueTopic('resend');
    const records = await sdkRecords(
      Array.from({ length: 50 }, (_, i) => ({ body: `line ${i}`, timestamp: 1_796_223_684_000 + i, ...(i % 2 === 0 ? { attributes: { 'log.record.uid': `uid-${i}` } } : {}) })),
      { 'service.name': service },
    );
    const body = otlpBody(records, 'protobuf');
    for (let attempt = 0; attempt < 3; attempt += 1) expect((await otlp(gzipSync(body), { 'content-encoding': 'gzip' })).status).toBe(200);
    await deliver();
    expect(await topicCounts(service)).toEqual({ received: 150, unique: 50, duplicate: 100 });
    expect(await topicEvents(service)).toHaveLength(50);
  });

  it('takes the topic from ?topic= when given, and refuses one that is not a topic name', async () => {
    const topic = uniqueTopic('otlp-param');
    const records = await sdkRecords([{ body: 'x' }], { 'service.name': 'ignored' });
    expect((await otlp(otlpBody(records, 'protobuf'), {}, { topic })).status).toBe(200);
    await deliver();
    expect(await topicEvents(topic)).toHaveLength(1);
    const refused = await otlp(otlpBody(records, 'protobuf'), {}, { topic: 'not a topic#' });
    expect(refused.status).toBe(400);
    expect(decode('google.rpc.Status', refused.body)).toEqual({ code: 3, message: expect.stringContaining('topic:') });
  });

  it('accepts the records that fit and reports the others in partial_success', async () => {
    const service = uniqueTopic('partial');
    const records = await sdkRecords(
      [{ body: 'fine' }, { body: 'x'.repeat(300 * 1024) }, { body: 'uid is a number', attributes: { 'log.record.uid': 42 } }, { body: 'fine too' }],
      { 'service.name': service },
    );
    for (const format of ['protobuf', 'json'] as const) {
      const answer = await otlp(otlpBody(records, format), { 'content-type': format === 'protobuf' ? 'application/x-protobuf' : 'application/json' });
      expect(answer.status).toBe(200);
      const response = format === 'protobuf' ? decode('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse', answer.body) : JSON.parse(answer.body.toString());
      expect(response.partialSuccess.rejectedLogRecords).toBe('2');
      expect(response.partialSuccess.errorMessage).toContain('2 of 4 log records refused');
      expect(response.partialSuccess.errorMessage).toContain('resourceLogs[0].scopeLogs[0].logRecords[1]: payload the event is');
      expect(response.partialSuccess.errorMessage).toContain('log.record.uid must be a non-empty string');
    }
    await deliver();
    expect((await topicEvents(service)).map((event) => event.payload.body).sort()).toEqual(['fine', 'fine too']);
  });

  it('refuses bodies it cannot decode with 400 and a google.rpc.Status in the request’s encoding, enqueuing nothing', async () => {
    const garbage = await otlp(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    expect(garbage.status).toBe(400);
    expect(decode('google.rpc.Status', garbage.body)).toEqual({ code: 3, message: expect.stringContaining('not a protobuf ExportLogsServiceRequest') });
    const json = await otlp(Buffer.from('{"resourceLogs": [ '), { 'content-type': 'application/json' });
    expect(json.status).toBe(400);
    expect(JSON.parse(json.body.toString())).toEqual({ code: 3, message: expect.stringContaining('not valid JSON') });
    const wrongType = await otlp(Buffer.from(JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: { not: 'a number' } }] }] }] })), {
      'content-type': 'application/json',
    });
    expect(wrongType.status).toBe(400);
    expect(JSON.parse(wrongType.body.toString()).message).toBe('resourceLogs[0].scopeLogs[0].logRecords[0].timeUnixNano: must be an integer (a number or a decimal string)');
    expect(await queueCount(queueName())).toBe(0);
  });

  it('refuses other media types and encodings with 415, naming those it takes', async () => {
    const records = otlpBody(await sdkRecords([{ body: 'x' }]), 'protobuf');
    const text = await otlp(records, { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expect(decode('google.rpc.Status', text.body).message).toBe('Content-Type text/plain is not OTLP: send application/x-protobuf or application/json');
    const brotli = await otlp(records, { 'content-encoding': 'br' });
    expect(brotli.status).toBe(415);
    expect(decode('google.rpc.Status', brotli.body).message).toContain('Content-Encoding br is not supported');
    expect(await queueCount(queueName())).toBe(0);
  });

  it('stops inflating a gzip bomb at the limit and answers 413, without the memory to hold it', async () => {
    // 1 GiB of zeros in about 1 MiB of gzip. Inflated whole it would need a gigabyte; the handler
    // stops at 16 MiB.
    const bomb = gzipSync(Buffer.alloc(1024 * 1024 * 1024), { level: 9 });
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
    const before = process.memoryUsage().rss;
    const answer = await otlp(bomb, { 'content-encoding': 'gzip' });
    const grew = process.memoryUsage().rss - before;
    expect(answer.status).toBe(413);
    expect(decode('google.rpc.Status', answer.body).message).toBe('the gzip body inflates beyond 16777216 bytes, the most accepted; send smaller batches');
    expect(grew).toBeLessThan(256 * 1024 * 1024);
  });

  it('refuses a body over 4 MiB, and more than 10,000 records, with 413', async () => {
    const big = await otlp(Buffer.alloc(4 * 1024 * 1024 + 1, 1));
    expect(big.status).toBe(413);
    const many = await sdkRecords(Array.from({ length: 10_001 }, () => ({ body: 'x' })));
    const answer = await otlp(otlpBody(many, 'protobuf'));
    expect(answer.status).toBe(413);
    expect(decode('google.rpc.Status', answer.body).message).toBe("10001 log records in one request; at most 10000 are accepted (lower the exporter's batch size)");
    expect(await queueCount(queueName())).toBe(0);
  });

  it('answers backpressure with 429 and dependency trouble with 503, both with Retry-After, as google.rpc.Status', () => {
    const event = httpEvent('POST', '/v1/logs', { headers: { 'content-type': 'application/json' } });
    const backlog = otlpErrors(toHttpError(new BacklogError('the queue is full', 3), 'r1'), event);
    expect(backlog).toMatchObject({ statusCode: 429, headers: { 'retry-after': '3', 'content-type': 'application/json' } });
    expect(JSON.parse(Buffer.from(backlog.body!, 'base64').toString())).toEqual({ code: 8, message: 'the queue is full' });
    const down = otlpErrors(toHttpError(new DependencyError('the queue did not answer'), 'r2'), { ...event, headers: { 'content-type': 'application/x-protobuf' } });
    expect(down).toMatchObject({ statusCode: 503, headers: { 'retry-after': expect.stringMatching(/^\d+$/) } });
    expect(decode('google.rpc.Status', Buffer.from(down.body!, 'base64'))).toEqual({ code: 14, message: 'the queue did not answer' });
  });
});

describe('OTLP/HTTP: edges of the JSON and protobuf encodings', () => {
  it('takes a protobuf request with no logs (zero bytes) as the valid empty export it is; an empty JSON body is not JSON', async () => {
    const empty = await otlp(Buffer.alloc(0), { 'content-type': 'application/x-protobuf' });
    expect(empty.status).toBe(200);
    expect(empty.body.length).toBe(0);
    const json = await otlp(Buffer.alloc(0), { 'content-type': 'application/json' });
    expect(json.status).toBe(400);
  });

  it('keeps a JSON doubleValue written as a long integer, as text, instead of refusing the request', async () => {
    const service = uniqueTopic('bigdouble');
    const body = `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"${service}"}}]},"scopeLogs":[{"logRecords":[{"body":{"doubleValue":100000000000000000000}}]}]}]}`;
    const answer = await otlp(Buffer.from(body), { 'content-type': 'application/json' });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body.toString())).toEqual({});
    await deliver();
    expect((await topicEvents(service)).map((event) => event.payload.body)).toEqual(['100000000000000000000']);
  });
});

describe('Loki push: POST /loki/api/v1/push', () => {
  it('maps snappy-compressed protobuf entries: topic and source from labels, Loki’s duplicate rule for ids', async () => {
    const job = uniqueTopic('checkout');
    const body = lokiProtobufBody([
      { labels: `{job="${job}", host="web-1", level="error"}`, entries: [{ seconds: 1_796_223_684, nanos: 42, line: 'card declined' }] },
      { labels: `{job="${job}", instance="10.0.0.7:9100"}`, entries: [{ seconds: 1_796_223_685, line: 'hello "quoted"' }] },
    ]);
    const answer = await loki(body);
    expect(answer).toMatchObject({ status: 204 });
    expect(answer.body.length).toBe(0);
    // Sent again: Loki would drop these entries as duplicates; here they count as two duplicates.
    expect((await loki(body)).status).toBe(204);
    await deliver();
    const stored = await topicEvents(job);
    expect(stored.map(({ timestamp, source, payload }) => ({ timestamp, source, payload }))).toEqual([
      { timestamp: '2026-12-02T15:01:24.000000042Z', source: 'web-1', payload: { line: 'card declined', labels: { job, host: 'web-1', level: 'error' } } },
      { timestamp: '2026-12-02T15:01:25.000000000Z', source: '10.0.0.7:9100', payload: { line: 'hello "quoted"', labels: { job, instance: '10.0.0.7:9100' } } },
    ]);
    expect(await topicCounts(job)).toEqual({ received: 4, unique: 2, duplicate: 2 });
  });

  it('takes the JSON push format with structured metadata, gzip-compressed too', async () => {
    const topic = uniqueTopic('loki-json');
    const push = {
      streams: [
        {
          stream: { topic, service_name: 'ignored', job: 'ignored-too' },
          values: [
            ['1796223684000000001', 'first'],
            ['1796223684000000002', 'second', { trace_id: 'abc', level: 'warn' }],
          ],
        },
      ],
    };
    expect((await loki(Buffer.from(JSON.stringify(push)), { 'content-type': 'application/json' })).status).toBe(204);
    expect((await loki(gzipSync(JSON.stringify(push)), { 'content-type': 'application/json', 'content-encoding': 'gzip' })).status).toBe(204);
    await deliver();
    const stored = await topicEvents(topic);
    expect(stored.map((event) => event.payload)).toEqual([
      { line: 'first', labels: push.streams[0]!.stream },
      { line: 'second', labels: push.streams[0]!.stream, structured_metadata: { trace_id: 'abc', level: 'warn' } },
    ]);
    expect(stored[0].source).toBe('ignored-too');
    expect(await topicCounts(topic)).toEqual({ received: 4, unique: 2, duplicate: 2 });
  });

  it('accepts the streams it can read and answers 400 naming the entries refused, as Loki does', async () => {
    const job = uniqueTopic('loki-bad');
    const answer = await loki(
      lokiProtobufBody([
        { labels: `{job="${job}"}`, entries: [{ seconds: 1_796_223_684, line: 'kept' }] },
        { labels: `{job=${job}}`, entries: [{ seconds: 1_796_223_684, line: 'unquoted label value' }] },
        { labels: `{job="${job}"}`, entries: [{ seconds: 1_796_223_684, line: 'y'.repeat(300 * 1024) }] },
      ]),
    );
    expect(answer.status).toBe(400);
    const body = JSON.parse(answer.body.toString());
    expect(body).toMatchObject({ error: 'entries_refused', accepted: 1, refused: 2 });
    expect(body.refusals).toEqual([
      { position: 1, where: 'streams[1].entries[0]', reason: expect.stringContaining('are not of the form {name="value", …}') },
      { position: 2, where: 'streams[2].entries[0]', reason: expect.stringContaining('payload the event is') },
    ]);
    await deliver();
    expect((await topicEvents(job)).map((event) => event.payload.line)).toEqual(['kept']);
  });

  it('refuses what it cannot decode with 400, a declared size past the limit with 413, other media types with 415', async () => {
    expect((await loki(Buffer.from('not snappy at all'))).status).toBe(400);
    // A snappy block declaring 100 MiB: refused from its first bytes, before anything is allocated.
    const declared = Buffer.from([0x80, 0x80, 0x80, 0x32, 0x00]);
    const huge = await loki(declared);
    expect(huge.status).toBe(413);
    expect(JSON.parse(huge.body.toString()).message).toBe('the snappy body inflates beyond 16777216 bytes, the most accepted; send smaller batches');
    const notProtobuf = await loki(Buffer.from(snappyCompress(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]))));
    expect(notProtobuf.status).toBe(400);
    expect(JSON.parse(notProtobuf.body.toString()).message).toContain('not a protobuf PushRequest');
    const badJson = await loki(Buffer.from('{"streams": [{"stream": {"a": "b"}, "values": [[1796223684, "ts must be a string"]]}]}'), { 'content-type': 'application/json' });
    expect(badJson.status).toBe(400);
    expect(JSON.parse(badJson.body.toString()).message).toBe('streams[0].values[0][0]: must be the unix time in nanoseconds, as a string');
    expect((await loki(Buffer.from('x'), { 'content-type': 'text/plain' })).status).toBe(415);
    expect(await queueCount(queueName())).toBe(0);
  });
});

describe('Loki labels that name the topic', () => {
  it('takes the first of topic, service_name and job that has a value: an empty label is no label', async () => {
    const service = uniqueTopic('svc');
    const body = JSON.stringify({ streams: [{ stream: { topic: '', service_name: service, job: 'ignored' }, values: [[String(Date.now() * 1e6), 'hello']] }] });
    const answer = await callRaw(lokiHandler, httpEvent('POST', '/loki/api/v1/push', { bytes: Buffer.from(body), headers: { 'content-type': 'application/json' } }));
    expect(answer.status).toBe(204);
    await deliver();
    expect(await topicEvents(service)).toHaveLength(1);
  });
});

describe('Elasticsearch bulk: POST /_bulk, POST /{index}/_bulk', () => {
  it('stores index and create actions, one item per action in order, a resent bulk counted as duplicates and answered 201', async () => {
    const index = uniqueTopic('app-logs');
    const body = ndjson(
      { index: { _index: `${index}-2026.12.02`, _id: 'doc-1' } },
      { '@timestamp': '2026-12-02T10:00:00.123Z', message: 'GET /cart 200', 'log.level': 'info', host: { name: 'web-1' }, bytes: 512 },
      { create: { _index: `${index}-2026.12.02` } },
      { '@timestamp': '2026-12-02 10:00:01', message: 'no zone: read as UTC', hostname: 'ignored', host: 'web-2' },
      { index: {} },
      { timestamp: 1_796_205_602_000, msg: 'epoch millis, index from the path' },
    );
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const answer = await bulk(body, {}, `${index}-2026.12.02`);
      expect(answer.status).toBe(200);
      expect(answer.headers['x-elastic-product']).toBe('Elasticsearch');
      const result = JSON.parse(answer.body.toString());
      expect(result.errors).toBe(false);
      expect(result.items.map((item: any) => Object.keys(item)[0])).toEqual(['index', 'create', 'index']);
      expect(result.items.map((item: any) => Object.values(item)[0])).toEqual([
        expect.objectContaining({ _index: `${index}-2026.12.02`, _id: 'doc-1', result: 'created', status: 201 }),
        expect.objectContaining({ _id: expect.stringMatching(/^[0-9a-f]{32}$/), status: 201 }),
        expect.objectContaining({ _index: `${index}-2026.12.02`, status: 201 }),
      ]);
    }
    await deliver();
    const stored = await topicEvents(index);
    expect(stored.map(({ event_id, timestamp, source }) => ({ event_id, timestamp, source }))).toEqual([
      { event_id: 'doc-1', timestamp: '2026-12-02T10:00:00.123Z', source: 'web-1' },
      { event_id: expect.any(String), timestamp: '2026-12-02T10:00:01Z', source: 'web-2' },
      { event_id: expect.any(String), timestamp: '2026-12-02T10:00:02.000Z', source: `${index}-2026.12.02` },
    ]);
    expect(stored[0].payload).toEqual({ '@timestamp': '2026-12-02T10:00:00.123Z', message: 'GET /cart 200', 'log.level': 'info', host: { name: 'web-1' }, bytes: 512 });
    expect(await topicCounts(index)).toEqual({ received: 6, unique: 3, duplicate: 3 });
  });

  it('refuses update, delete and documents it cannot store per item, and still stores the rest', async () => {
    const index = uniqueTopic('mixed');
    const answer = await bulk(
      ndjson(
        { update: { _index: index, _id: 'u' } },
        { doc: { a: 1 } },
        { delete: { _index: index, _id: 'd' } },
        { index: { _index: index } },
        '{"broken": ',
        { index: { _index: index } },
        { '@timestamp': 'yesterday', message: 'bad date' },
        { index: { _index: index } },
        '{"n": 12345678901234567890}',
        { index: {} },
        { message: 'no index anywhere' },
        { index: { _index: index, _id: 'kept' } },
        { message: 'kept' },
      ),
    );
    expect(answer.status).toBe(200);
    const result = JSON.parse(answer.body.toString());
    expect(result.errors).toBe(true);
    const items = result.items.map((item: any) => Object.values(item)[0]);
    expect(items.map((item: any) => [item.status, item.error?.type])).toEqual([
      [400, 'illegal_argument_exception'],
      [400, 'illegal_argument_exception'],
      [400, 'mapper_parsing_exception'],
      [400, 'mapper_parsing_exception'],
      [400, 'mapper_parsing_exception'],
      [400, 'action_request_validation_exception'],
      [201, undefined],
    ]);
    expect(items[3].error.reason).toContain('failed to parse field [@timestamp] of type [date]');
    expect(items[4].error.reason).toContain('payload.n the number 12345678901234567890 cannot be stored exactly');
    await deliver();
    expect((await topicEvents(index)).map((event) => event.event_id)).toEqual(['kept']);
  });

  it('refuses a document nested thousands of levels deep as an item, not with a 500, when its id comes from its content', async () => {
    // Deep enough to parse, deep enough to overflow a recursion that computes its content id.
    const index = uniqueTopic('abyss');
    const abyss = `${'{"a":'.repeat(2_400)}1${'}'.repeat(2_400)}`;
    const answer = await bulk(ndjson({ create: { _index: index } }, abyss, { create: { _index: index } }, { message: 'shallow' }));
    expect(answer.status).toBe(200);
    const { errors, items } = JSON.parse(answer.body.toString());
    expect(errors).toBe(true);
    expect(items[0].create).toMatchObject({ status: 400, error: { type: 'mapper_parsing_exception', reason: 'payload must be nested at most 32 levels deep' } });
    expect(items[1].create.status).toBe(201);
    await deliver();
    expect((await topicEvents(index)).map((event) => event.payload.message)).toEqual(['shallow']);
  });

  it('fails the whole request on a malformed action line, before anything is accepted', async () => {
    const index = uniqueTopic('malformed');
    const answer = await bulk(ndjson({ index: { _index: index } }, { message: 'would be fine' }, '"not an action"', { message: 'x' }));
    expect(answer.status).toBe(400);
    expect(answer.headers['x-elastic-product']).toBe('Elasticsearch');
    expect(JSON.parse(answer.body.toString())).toEqual({
      error: {
        root_cause: [{ type: 'illegal_argument_exception', reason: 'Malformed action/metadata line [3], expected START_OBJECT' }],
        type: 'illegal_argument_exception',
        reason: 'Malformed action/metadata line [3], expected START_OBJECT',
      },
      status: 400,
    });
    const unknown = await bulk(ndjson({ upsert: { _index: index } }, { a: 1 }));
    expect(JSON.parse(unknown.body.toString()).error.reason).toBe('Malformed action/metadata line [1], expected one of index, create, update or delete but found [upsert]');
    expect(await queueCount(queueName())).toBe(0);
  });

  it('says what went wrong in the two mistakes of a bulk sent by hand: newlines stripped (curl -d), gzip without its header', async () => {
    const index = uniqueTopic('byhand');
    const oneLine = await bulk(ndjson({ create: { _index: index } }, { message: 'x' }).replaceAll('\n', ''));
    expect(oneLine.status).toBe(400);
    expect(JSON.parse(oneLine.body.toString()).error.reason).toMatch(/^Malformed action\/metadata line \[1\], not JSON: .* \(each action and each document must end in a newline: with curl, send the body with --data-binary, not -d\)$/);
    const unlabelled = await bulk(gzipSync(ndjson({ create: { _index: index } }, { message: 'x' })));
    expect(unlabelled.status).toBe(400);
    expect(JSON.parse(unlabelled.body.toString()).error.reason).toBe('the body is gzip-compressed but came without Content-Encoding: gzip; send that header, or the body uncompressed');
    const loki = await callRaw(lokiHandler, httpEvent('POST', '/loki/api/v1/push', { bytes: gzipSync('{"streams":[]}'), headers: { 'content-type': 'application/json' } }));
    expect(loki.status).toBe(400);
    expect(JSON.parse(loki.body.toString()).message).toContain('without Content-Encoding: gzip');
    expect(await queueCount(queueName())).toBe(0);
  });

  it('takes gzip and the clients’ versioned media types; refuses others with 415 in Elasticsearch’s terms', async () => {
    const index = uniqueTopic('gz');
    const gz = await bulk(gzipSync(ndjson({ index: { _index: index } }, { message: 'compressed' })), {
      'content-encoding': 'gzip',
      'content-type': 'application/vnd.elasticsearch+x-ndjson; compatible-with=9',
    });
    expect(gz.status).toBe(200);
    const form = await bulk(ndjson({ index: { _index: index } }, { message: 'x' }), { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    expect(form.headers['x-elastic-product']).toBe('Elasticsearch');
    expect(JSON.parse(form.body.toString()).error.type).toBe('media_type_header_exception');
    await deliver();
    expect(await topicEvents(index)).toHaveLength(1);
  });

  it('answers the handshake: GET / gives clients the version document and browsers the console; /_cat/health', async () => {
    const info = await callRaw(consoleHandler, httpEvent('GET', '/', { headers: { accept: 'application/vnd.elasticsearch+json; compatible-with=9' } }));
    expect(info.status).toBe(200);
    expect(info.headers['x-elastic-product']).toBe('Elasticsearch');
    expect(JSON.parse(info.body.toString())).toMatchObject({ version: { number: expect.stringMatching(/^8\.\d+\.\d+$/) }, tagline: 'You Know, for Search' });
    const browser = await callRaw(consoleHandler, httpEvent('GET', '/', { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } }));
    expect(browser.headers['content-type']).toMatch(/^text\/html/);
    const health = await callRaw(healthHandler, httpEvent('GET', '/_cat/health', { query: { v: '' } }));
    expect(health.status).toBe(200);
    expect(health.body.toString()).toMatch(/^epoch timestamp cluster status .*\n\d+ \d\d:\d\d:\d\d log-aggregator (green|yellow) /);
    const json = await callRaw(healthHandler, httpEvent('GET', '/_cat/health', { query: { format: 'json' } }));
    expect(JSON.parse(json.body.toString())).toEqual([expect.objectContaining({ cluster: 'log-aggregator', status: expect.stringMatching(/green|yellow/) })]);
  });

  it('renders backpressure and dependency trouble in Elasticsearch’s terms with Retry-After', () => {
    const event = httpEvent('POST', '/_bulk');
    const backlog = elasticErrors(toHttpError(new BacklogError('the queue is full', 2), 'r1'), event);
    expect(backlog).toMatchObject({ statusCode: 429, headers: { 'retry-after': '2', 'x-elastic-product': 'Elasticsearch' } });
    expect(JSON.parse(backlog.body!).error.type).toBe('es_rejected_execution_exception');
    const down = elasticErrors(toHttpError(new DependencyError('down'), 'r2'), event);
    expect(down).toMatchObject({ statusCode: 503, headers: { 'retry-after': expect.any(String) } });
  });
});

describe('reading them as logs: GET /events?severity=', () => {
  it('keeps the events of that severity or worse, whichever protocol brought them; refuses an unknown level', async () => {
    const topic = uniqueTopic('levels');
    const levels = ['debug', 'info', 'WARNING', 'error', 'CRITICAL'];
    const push = { streams: levels.map((level, i) => ({ stream: { topic, level }, values: [[`17962236840000000${i}0`, `line ${i}`]] })) };
    expect((await loki(Buffer.from(JSON.stringify(push)), { 'content-type': 'application/json' })).status).toBe(204);
    expect((await bulk(ndjson({ index: { _index: topic } }, { message: 'no level at all' }))).status).toBe(200);
    await deliver();
    const lines = async (query: Record<string, string>, path = '/events') =>
      (await callHttp(eventsHandler, httpEvent('GET', path, { query: { topic, ...query } }))).body.events.map((event: any) => event.payload.line ?? event.payload.message);
    expect(await lines({})).toHaveLength(6);
    expect(await lines({ severity: 'warn' })).toEqual(['line 2', 'line 3', 'line 4']);
    expect(await lines({ severity: 'fatal' })).toEqual(['line 4']);
    expect(await lines({ severity: 'trace' })).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
    // The tail shows what was stored at least TAIL_LAG_MS (2 s) ago.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect((await lines({ severity: 'error' }, '/events/tail')).sort()).toEqual(['line 3', 'line 4']);
    const refused = await callHttp(eventsHandler, httpEvent('GET', '/events', { query: { severity: 'loud' } }));
    expect(refused.status).toBe(400);
    expect(refused.body.message).toMatch(/^severity: /);
  });
});

describe('keys on every ingest route', () => {
  const KEY = 'ingest-test-key';
  let saved: string | undefined;
  beforeAll(async () => {
    // config() is read once per process: the handlers see this only through a fresh module registry.
    saved = process.env.PUBLISH_API_KEYS;
  });
  afterAll(() => {
    process.env.PUBLISH_API_KEYS = saved;
  });

  it('needs a publish key, taken as x-api-key, Bearer, Basic (as the password) or ApiKey, on each protocol', async () => {
    process.env.PUBLISH_API_KEYS = KEY;
    await jest.isolateModulesAsync(async () => {
      const { handler: isolatedOtlp } = await import('../../functions/otlp.ts');
      const { handler: isolatedLoki } = await import('../../functions/loki.ts');
      const { handler: isolatedElastic } = await import('../../functions/elastic.ts');
      const records = otlpBody(await sdkRecords([{ body: 'x' }], { 'service.name': uniqueTopic('keyed') }), 'protobuf');
      const callOtlp = (headers: Record<string, string>) => callRaw(isolatedOtlp, httpEvent('POST', '/v1/logs', { bytes: records, headers: { 'content-type': 'application/x-protobuf', ...headers } }));
      const missing = await callOtlp({});
      expect(missing.status).toBe(401);
      expect(decode('google.rpc.Status', missing.body)).toEqual({ code: 16, message: expect.stringContaining('needs a publish key') });
      expect((await callOtlp({ 'x-api-key': 'wrong' })).status).toBe(403);
      expect((await callOtlp({ 'x-api-key': KEY })).status).toBe(200);
      expect((await callOtlp({ authorization: `Bearer ${KEY}` })).status).toBe(200);
      expect((await callOtlp({ authorization: `Basic ${Buffer.from(`anyone:${KEY}`).toString('base64')}` })).status).toBe(200);
      // The key is the password: as the user name with no password, nothing was presented.
      expect((await callOtlp({ authorization: `Basic ${Buffer.from(`${KEY}:`).toString('base64')}` })).status).toBe(401);

      const push = lokiProtobufBody([{ labels: `{job="${uniqueTopic('keyed')}"}`, entries: [{ seconds: 1_796_223_684, line: 'x' }] }]);
      const callLoki = (headers: Record<string, string>) => callRaw(isolatedLoki, httpEvent('POST', '/loki/api/v1/push', { bytes: push, headers: { 'content-type': 'application/x-protobuf', ...headers } }));
      expect((await callLoki({})).status).toBe(401);
      expect((await callLoki({ authorization: `Basic ${Buffer.from(`tenant:${KEY}`).toString('base64')}` })).status).toBe(204);

      const docs = Buffer.from(ndjson({ index: { _index: uniqueTopic('keyed') } }, { message: 'x' }));
      const callElastic = (headers: Record<string, string>) => callRaw(isolatedElastic, httpEvent('POST', '/_bulk', { bytes: docs, headers: { 'content-type': 'application/x-ndjson', ...headers } }));
      const refused = await callElastic({});
      expect(refused.status).toBe(401);
      expect(refused.headers).toMatchObject({ 'x-elastic-product': 'Elasticsearch', 'www-authenticate': expect.stringContaining('Basic') });
      expect(JSON.parse(refused.body.toString()).error.type).toBe('security_exception');
      expect((await callElastic({ authorization: `ApiKey ${KEY}` })).status).toBe(200);
    });
  });
});

describe('protobuf decoding of hostile input', () => {
  /**
   * An ExportLogsServiceRequest whose one record's body nests `levels` maps deep:
   * AnyValue{kvlist_value: KeyValueList{values: [KeyValue{value: AnyValue{…}}]}}. Built from the
   * inside out by sizes, so a deep one takes no more than its own bytes to build.
   */
  const nestedRequest = (levels: number): Buffer => {
    const varintLength = (value: number): number => (value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : 4);
    // Field tags from the innermost out. Per level: KeyValue.value (0x12), KeyValueList.values (0x0a),
    // AnyValue.kvlist_value (0x32); then LogRecord.body, ScopeLogs.log_records, ResourceLogs.scope_logs,
    // ExportLogsServiceRequest.resource_logs.
    const tags: number[] = [];
    for (let level = 0; level < levels; level += 1) tags.push(0x12, 0x0a, 0x32);
    tags.push(0x2a, 0x12, 0x12, 0x0a);
    // lengths[i]: the size of what field i holds, i.e. of every field inside it.
    const lengths: number[] = new Array<number>(tags.length);
    let inner = 0;
    for (let index = 0; index < tags.length; index += 1) {
      lengths[index] = inner;
      inner += 1 + varintLength(inner);
    }
    const out = Buffer.alloc(inner);
    let offset = 0;
    for (let index = tags.length - 1; index >= 0; index -= 1) {
      out[offset++] = tags[index]!;
      let value = lengths[index]!;
      do {
        out[offset++] = (value & 0x7f) | (value >= 0x80 ? 0x80 : 0);
        value = Math.floor(value / 128);
      } while (value > 0);
    }
    return out;
  };

  it('refuses a body nested past protobuf’s recursion limit (100 messages, as protoc) with 400, never 500', async () => {
    for (const levels of [50, 200_000]) {
      const answer = await otlp(nestedRequest(levels));
      expect(answer.status).toBe(400);
      expect(decode('google.rpc.Status', answer.body).message).toBe('the body is not a protobuf ExportLogsServiceRequest: max depth exceeded');
    }
    expect(await queueCount(queueName())).toBe(0);
  });

  it('refuses a JSON record nested past the contract’s 32 levels alone, in partial_success; a body too deep to read whole with 400', async () => {
    const service = uniqueTopic('deep-json');
    const nested = (levels: number): string => {
      let body = '{"stringValue":"bottom"}';
      for (let level = 0; level < levels; level += 1) body = `{"kvlistValue":{"values":[{"key":"k","value":${body}}]}}`;
      return `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"${service}"}}]},"scopeLogs":[{"logRecords":[{"body":${body}},{"body":{"stringValue":"shallow"}}]}]}]}`;
    };
    const abyss = await otlp(Buffer.from(nested(20_000)), { 'content-type': 'application/json' });
    expect(abyss.status).toBe(400);
    expect(JSON.parse(abyss.body.toString()).message).toBe('the body is not valid JSON: it is nested too deeply to read');
    const answer = await otlp(Buffer.from(nested(40)), { 'content-type': 'application/json' });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body.toString()).partialSuccess).toEqual({
      rejectedLogRecords: '1',
      errorMessage: expect.stringContaining('resourceLogs[0].scopeLogs[0].logRecords[0]: resourceLogs[0].scopeLogs[0].logRecords[0].body'),
    });
    await deliver();
    expect((await topicEvents(service)).map((event) => event.payload.body)).toEqual(['shallow']);
  });
});

describe('backpressure through every ingest route', () => {
  it('answers 429 with Retry-After in each protocol’s terms once the queue is full, and queues nothing of what it refused', async () => {
    // The handlers' own services, with the limit lowered: one waiting message fills the queue.
    const config = getServices().config as { MAX_BACKLOG_MESSAGES: number; BACKLOG_CHECK_SECONDS: number };
    const saved = { ...config };
    config.MAX_BACKLOG_MESSAGES = 1;
    config.BACKLOG_CHECK_SECONDS = 0;
    try {
      const topic = uniqueTopic('full');
      const lokiJson = (line: string) =>
        callRaw(lokiHandler, httpEvent('POST', '/loki/api/v1/push', { bytes: Buffer.from(JSON.stringify({ streams: [{ stream: { service_name: topic }, values: [[String(Date.now() * 1e6), line]] }] })), headers: { 'content-type': 'application/json' } }));
      expect((await lokiJson('fills the queue')).status).toBe(204);
      expect(await queueCount(queueName())).toBe(1);

      const refusedLoki = await lokiJson('refused');
      expect(refusedLoki.status).toBe(429);
      expect(refusedLoki.headers['retry-after']).toMatch(/^\d+$/);

      const refusedOtlp = await otlp(Buffer.from(JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'refused' } }] }] }] })), { 'content-type': 'application/json' });
      expect(refusedOtlp.status).toBe(429);
      expect(refusedOtlp.headers['retry-after']).toMatch(/^\d+$/);
      expect(JSON.parse(refusedOtlp.body.toString())).toMatchObject({ code: 8, message: expect.stringContaining('retry later') });

      const refusedBulk = await bulk(ndjson({ create: { _index: topic } }, { message: 'refused' }));
      expect(refusedBulk.status).toBe(429);
      expect(refusedBulk.headers).toMatchObject({ 'retry-after': expect.stringMatching(/^\d+$/), 'x-elastic-product': 'Elasticsearch' });
      expect(JSON.parse(refusedBulk.body.toString()).error.type).toBe('es_rejected_execution_exception');

      expect(await queueCount(queueName())).toBe(1);
    } finally {
      Object.assign(config, saved);
    }
    await deliver();
  });
});
