// The shippers people run, over real HTTP to the whole stack (scripts/start.ts: the local gateway,
// serverless offline, the event source, the embedded cloud): the OpenTelemetry JS SDK with its OTLP
// protobuf and JSON exporters, winston-loki (snappy-compressed protobuf), the official Elasticsearch
// client's bulk helper, and rsyslog's omelasticsearch from Debian. Each sends with the publish key the
// way it can (Bearer, x-api-key, Basic, ApiKey), and every count must come out exact, also when a proxy
// between a client and the aggregator drops answers after the aggregator stored the batch.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Client } from '@elastic/elasticsearch';
import winston from 'winston';
import LokiTransport from 'winston-loki';
import type { Stats } from '../../lib/api/wire.ts';
import { decodeMessage } from '../../lib/ingest/protobuf.ts';
import { holdFetchToContract } from '../support/contract.ts';
import { freePort, spawnScript, stopProcess, waitForLine } from '../support/processes.ts';
import { rsyslogAvailable, startRsyslog } from '../support/rsyslog.ts';

jest.setTimeout(300_000);

const KEY = 'shipper-key';
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'log-aggregator-protocols-'));
let stack: ChildProcess | undefined;
let baseUrl: string;
// Every answer this file's fetch receives from the stack must be one the OpenAPI document describes.
holdFetchToContract(() => baseUrl);
/** Events each test expects to have been received so far, summed: /stats is global. */
let expected = { received: 0, unique: 0, duplicate: 0 };

const getJson = async <T>(pathAndQuery: string): Promise<T> => {
  const response = await fetch(`${baseUrl}${pathAndQuery}`);
  expect(response.status).toBe(200);
  return (await response.json()) as T;
};

/** Waits until the queue is drained and `received` reached what was sent, then checks every count. */
const expectCounts = async (add: { received: number; unique: number; duplicate: number }): Promise<void> => {
  expected = { received: expected.received + add.received, unique: expected.unique + add.unique, duplicate: expected.duplicate + add.duplicate };
  // Longer than the queue's visibility timeout (180 s): a message whose invocation runs out of time on a
  // starved machine comes back after it and is counted then.
  const deadline = Date.now() + 200_000;
  let stats: Stats;
  do {
    stats = await getJson<Stats>('/stats');
    if (stats.received >= expected.received && stats.queue.visible + stats.queue.in_flight === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 300));
  } while (Date.now() < deadline);
  expect({ received: stats.received, unique: stats.unique_processed, duplicate: stats.duplicate_dropped, dlq: stats.queue.dlq }).toEqual({ ...expected, dlq: 0 });
};

const topicEvents = async (topic: string): Promise<any[]> => {
  const events: any[] = [];
  let cursor: string | null = null;
  do {
    const page: { events: any[]; next_cursor: string | null } = await getJson(`/events?topic=${topic}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    events.push(...page.events);
    cursor = page.next_cursor;
  } while (cursor);
  return events;
};

/**
 * The OpenTelemetry SDK and its OTLP exporter in a process of their own (`npm run otel`,
 * client/publisher/otel.ts): the exporter loads its HTTP transport with a dynamic import, which
 * jest's module sandbox refuses.
 */
const otel = async (url: string, args: string[]): Promise<{ exported: number; failed: number }> => {
  const child = spawnScript('scripts/otel.ts', ['--url', url, '--json', ...args], {});
  const line = await waitForLine(child, /^\{"exported"/, 120_000);
  await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(undefined)));
  return JSON.parse(line) as { exported: number; failed: number };
};

beforeAll(async () => {
  const [cloudPort, httpPort, lambdaPort] = [await freePort(), await freePort(), await freePort()];
  stack = spawnScript('scripts/start.ts', [], {
    DATA_DIR: dataDir,
    CLOUD_PORT: String(cloudPort),
    HTTP_PORT: String(httpPort),
    LAMBDA_PORT: String(lambdaPort),
    STAGE: 'protocols',
    LOG_LEVEL: 'WARN',
    PUBLISH_API_KEYS: KEY,
  });
  await waitForLine(stack, /^ready in/, 180_000);
  baseUrl = `http://127.0.0.1:${httpPort}`;
});

afterAll(async () => {
  if (stack) await stopProcess(stack, 'SIGINT');
  if (!process.env.KEEP_DATA) rmSync(dataDir, { recursive: true, force: true });
});

describe('OpenTelemetry JS SDK', () => {
  it('protobuf exporter (gzip, Bearer key): 1,300 records in batches of 512, 300 re-emitted with the same log.record.uid, count exactly', async () => {
    const result = await otel(baseUrl, ['--records', '1300', '--uids', '1000', '--service', 'checkout', '--api-key', KEY, '--run-id', 'p']);
    expect(result).toEqual({ exported: 1_300, failed: 0 });
    await expectCounts({ received: 1_300, unique: 1_000, duplicate: 300 });
    const stored = await topicEvents('checkout');
    expect(stored).toHaveLength(1_000);
    expect(stored[0]).toMatchObject({ source: 'checkout-1', payload: { severity_text: expect.any(String), scope: { name: 'checkout', version: '1.0.0' } } });
  });

  it('JSON exporter, uncompressed: records without ids get content ids and are stored once each', async () => {
    const result = await otel(baseUrl, ['--format', 'json', '--no-gzip', '--records', '200', '--uids', '0', '--service', 'billing svc', '--api-key', KEY]);
    expect(result).toEqual({ exported: 200, failed: 0 });
    await expectCounts({ received: 200, unique: 200, duplicate: 0 });
    const stored = await topicEvents('billing_svc');
    expect(stored).toHaveLength(200);
    expect(stored.every((event) => /^[0-9a-f]{32}$/.test(event.event_id))).toBe(true);
  });

  it('a proxy that forwards each of the first batches, then answers 503: the exporter resends what was stored, and it counts once more as duplicates', async () => {
    // The stand-in here is the network, not the aggregator: the proxy forwards the whole request and
    // receives the aggregator's real answer, then tells the client 503 instead (an answer lost on the
    // way back). How many records each forwarded request held is read from the request itself.
    let dropped = 0;
    let forwardedRecords = 0;
    const proxy = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', async () => {
        const body = Buffer.concat(chunks);
        const headers = Object.fromEntries(
          Object.entries(req.headers).filter(([name]) => !['host', 'content-length', 'transfer-encoding', 'connection'].includes(name)),
        ) as Record<string, string>;
        const upstream = await fetch(`${baseUrl}${req.url}`, { method: 'POST', headers, body });
        const answer = Buffer.from(await upstream.arrayBuffer());
        const request = decodeMessage(
          'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest',
          req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body,
        ) as any;
        forwardedRecords += request.resourceLogs.flatMap((r: any) => r.scopeLogs).flatMap((scope: any) => scope.logRecords).length;
        if (upstream.status === 200 && dropped < 2) {
          dropped += 1;
          res.writeHead(503, { 'retry-after': '0', 'content-type': 'application/x-protobuf' });
          res.end();
          return;
        }
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/x-protobuf' });
        res.end(answer);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
      // Every record carries a log.record.uid here; the next test leaves them out (content ids).
      const result = await otel(proxyUrl, ['--records', '500', '--batch', '100', '--service', 'retried', '--api-key', KEY]);
      expect(result).toEqual({ exported: 500, failed: 0 });
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
    expect(dropped).toBe(2);
    // Two batches went through twice: everything forwarded was received, 500 of it unique.
    expect(forwardedRecords).toBe(700);
    await expectCounts({ received: 700, unique: 500, duplicate: 200 });
    expect(await topicEvents('retried')).toHaveLength(500);
  });

  it('a proxy that forwards the first batches without ids, then answers 503: content ids dedup the resend', async () => {
    let dropped = 0;
    const proxy = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', async () => {
        const headers = Object.fromEntries(
          Object.entries(req.headers).filter(([name]) => !['host', 'content-length', 'transfer-encoding', 'connection'].includes(name)),
        ) as Record<string, string>;
        const upstream = await fetch(`${baseUrl}${req.url}`, { method: 'POST', headers, body: Buffer.concat(chunks) });
        const answer = Buffer.from(await upstream.arrayBuffer());
        const lose = upstream.status === 200 && dropped < 1;
        if (lose) dropped += 1;
        res.writeHead(lose ? 503 : upstream.status, { 'content-type': 'application/json', ...(lose ? { 'retry-after': '0' } : {}) });
        res.end(lose ? '' : answer);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
      const result = await otel(proxyUrl, ['--format', 'json', '--records', '100', '--uids', '0', '--service', 'retried-json', '--api-key', KEY]);
      expect(result).toEqual({ exported: 100, failed: 0 });
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
    expect(dropped).toBe(1);
    await expectCounts({ received: 200, unique: 100, duplicate: 100 });
    expect(await topicEvents('retried-json')).toHaveLength(100);
  });
});

describe('winston-loki', () => {
  it('pushes snappy-compressed protobuf with Basic auth; labels become topic and source', async () => {
    const transport = new LokiTransport({
      host: baseUrl,
      basicAuth: `promtail:${KEY}`,
      labels: { job: 'payments', host: 'pay-1' },
      json: false,
      batching: true,
      interval: 0.2,
      replaceTimestamp: false,
      gracefulShutdown: false,
      onConnectionError: (error: unknown) => {
        throw error;
      },
    });
    const logger = winston.createLogger({ transports: [transport] });
    for (let i = 0; i < 100; i += 1) logger.log({ level: i % 10 === 0 ? 'error' : 'info', message: `payment ${i} settled` });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await (transport as unknown as { flush(): Promise<void> }).flush();
    logger.close();
    await expectCounts({ received: 100, unique: 100, duplicate: 0 });
    const stored = await topicEvents('payments');
    expect(stored).toHaveLength(100);
    expect(stored.filter((event) => event.payload.labels.level === 'error')).toHaveLength(10);
    expect(stored[0]).toMatchObject({ source: 'pay-1', payload: { line: expect.stringMatching(/^payment \d+ settled/) } });
  });
});

describe('Elasticsearch', () => {
  it('the official client reads the handshake and sends with its bulk helper (ApiKey); a resent bulk counts as duplicates', async () => {
    const client = new Client({ node: baseUrl, auth: { apiKey: KEY } });
    // Every document of every bulk request the client sends, its own resends included (its transport
    // resends a whole request that timed out): each one that reached the stack counts as received.
    let sent = 0;
    client.diagnostic.on('request', (error, event) => {
      const params = event?.meta.request.params;
      if (!error && params?.path.endsWith('/_bulk')) sent += String(params.body).trim().split('\n').length / 2;
    });
    const info = await client.info();
    expect(info.version.number).toMatch(/^8\./);
    const documents = Array.from({ length: 300 }, (_, i) => ({ '@timestamp': new Date(Date.UTC(2026, 11, 2, 9, 0, i)).toISOString(), message: `GET /item/${i} 200`, 'log.level': 'info' }));
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const result = await client.helpers.bulk({ datasource: documents, onDocument: () => ({ create: { _index: 'web-access-2026.12.02' } }), flushBytes: 16_000 });
      expect(result).toMatchObject({ total: 300, successful: 300, failed: 0 });
    }
    await client.close();
    expect(sent).toBeGreaterThanOrEqual(600);
    await expectCounts({ received: sent, unique: 300, duplicate: sent - 300 });
    expect(await topicEvents('web-access')).toHaveLength(300);
  });

  it('a browser asking for / still gets the console', async () => {
    const response = await fetch(`${baseUrl}/`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
  });

  const rsyslogIt = rsyslogAvailable() || process.env.REQUIRE_RSYSLOG === '1' ? it : it.skip;
  if (!rsyslogAvailable()) {
    console.warn(
      process.env.REQUIRE_RSYSLOG === '1'
        ? 'rsyslog with omelasticsearch is required here (REQUIRE_RSYSLOG=1) but missing: apt-get install rsyslog rsyslog-elasticsearch'
        : 'skipping the rsyslog test: apt-get install rsyslog rsyslog-elasticsearch to run it',
    );
  }
  rsyslogIt("rsyslog's omelasticsearch (Debian) ships syslog over TCP to /_bulk with Basic auth, exactly once each", async () => {
    const rsyslog = await startRsyslog({ bulkUrl: baseUrl, index: 'syslog-2026.12.02', key: KEY });
    try {
      await rsyslog.send(Array.from({ length: 50 }, (_, i) => `<11>1 2026-12-02T12:00:${String(i).padStart(2, '0')}.000Z web-9 billing - - - disk ${i} almost full`));
      await expectCounts({ received: 50, unique: 50, duplicate: 0 });
    } finally {
      await rsyslog.stop();
    }
    const stored = await topicEvents('syslog');
    expect(stored).toHaveLength(50);
    expect(stored[0]).toMatchObject({ source: 'web-9', timestamp: '2026-12-02T12:00:00.000Z', payload: { severity: 'err', program: 'billing', message: 'disk 0 almost full' } });
  });
});
