// The embedded "local cloud": DynamoDB (dynalite on LevelDB) and SQS (fauxqs on SQLite) behind one
// LocalStack-style endpoint, so the app, the AWS CLI and the tests talk to it exactly as they would
// talk to LocalStack on :4566. The endpoint also serves
//   GET  /_meter        what the calls so far would have cost on AWS (meter/meter.ts, docs/cost.md)
//   POST /_meter/reset  starts the meter over (answers what it had counted)
//   GET  /_strict       strict mode's seed, settings and the faults it injected (strict/layer.ts)
import http from 'node:http';
import { once } from 'node:events';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import type { FauxqsServer } from 'fauxqs';
import { Engine } from './dynalite-engine.ts';
import { Meter } from './meter/meter.ts';
import type { Answer } from './strict/answers.ts';
import { FaultCounter } from './strict/faults.ts';
import { FaultRandom } from './strict/random.ts';
import { StrictLayer } from './strict/layer.ts';
import type { StrictSettings } from './strict/settings.ts';

export interface LocalCloudOptions {
  dataDir: string;
  /** Port of the shared endpoint; 0 picks a free one. */
  port: number;
  host?: string;
  region?: string;
  /** Strict mode (CLOUD_STRICT): behave like AWS where the emulators don't. */
  strict?: StrictSettings;
}

export interface LocalCloud {
  endpoint: string;
  port: number;
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  /** The cost meter (absent for an external cloud such as LocalStack). */
  meter?: Meter;
  /** Present in strict mode. */
  strict?: StrictLayer;
  stop(): Promise<void>;
}

const listen = async (server: http.Server, port: number, host: string): Promise<number> => {
  server.listen(port, host);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
};

/** DynamoDB requests carry `X-Amz-Target: DynamoDB_20120810.<Op>`; everything else is SQS. */
const isDynamoDbRequest = (req: http.IncomingMessage): boolean =>
  String(req.headers['x-amz-target'] ?? '').startsWith('DynamoDB');

/**
 * LevelDB's open options for the embedded DynamoDB. A 32 MiB write buffer instead of LevelDB's 4 MiB:
 * every stored event is written four times (item, three indexes) and every batch rewrites the same
 * counter items and their volume-index entries, so a small memtable flushed every few thousand events
 * into level-0 files that compaction then merged again and again. On a table of 140,000 events a
 * 20k / 30% run went from 1,785-1,825 to 2,189-2,267 events/s end to end and from 0.96-1.00 to
 * 0.76-0.78 ms of CPU per event (BENCHMARKS.md), for up to two memtables (~60 MiB) of memory at most.
 * A bigger block cache (32 MiB) measured no better and is left at LevelDB's 8 MiB.
 */
const EMBEDDED_DYNAMODB_LEVEL_OPTIONS = { writeBufferSize: 32 * 1024 * 1024 } as const;

/**
 * dynalite 4.0.0 leaks a LevelDB iterator per query, writes an item and its index entries as separate
 * LevelDB writes (a crash in between leaves them inconsistent), cannot be given LevelDB options, and
 * answers a BatchGetItem with a table read and an item read per key (three times a Query's time for
 * 100 items, which is how a keys-only index's page reads its items);
 * patches/dynalite+4.0.0.patch fixes all four (docs/local-runtime.md). The patch is applied by
 * `npm install` (patch-package, postinstall); an install that skipped scripts would bring these back
 * silently, so the stack refuses to start without it.
 */
const assertDynalitePatched = (): void => {
  const patched = [
    { file: require.resolve('dynalite/db/index.js'), parts: ['iterator.close()', 'options.levelOptions', 'exports.writeItem', 'getMany:'] },
    ...['putItem', 'updateItem', 'deleteItem'].map((action) => ({ file: require.resolve(`dynalite/actions/${action}.js`), parts: ['db.writeItem('] })),
    { file: require.resolve('dynalite/actions/batchGetItem.js'), parts: ['itemDb.getMany('] },
  ];
  const unpatched = patched.filter(({ file, parts }) => !parts.every((part) => readFileSync(file, 'utf8').includes(part)));
  if (unpatched.length > 0) {
    throw new Error(
      `${unpatched.map(({ file }) => file).join(', ')} not patched (patches/dynalite+4.0.0.patch): run ` +
        '`rm -rf node_modules/dynalite && npm install` (npm install applies patches/ through patch-package; `--ignore-scripts` ' +
        'skips that, and an older version of the patch already applied makes the new one fail). Unpatched, the embedded ' +
        'DynamoDB keeps memory and table files for every query it ever answered and can leave index entries without their item after a crash.',
    );
  }
};

export const startLocalCloud = async (options: LocalCloudOptions): Promise<LocalCloud> => {
  assertDynalitePatched();
  const host = options.host ?? '127.0.0.1';
  const dynamoDir = path.join(options.dataDir, 'dynamodb');
  const sqsDir = path.join(options.dataDir, 'sqs');
  mkdirSync(dynamoDir, { recursive: true });
  mkdirSync(sqsDir, { recursive: true });

  const meter = new Meter();
  const faults = new FaultCounter();
  const lagRandom = new FaultRandom(options.strict?.seed ?? 0);
  const engine = new Engine(
    meter,
    options.strict ? { faults, indexLagMs: options.strict.indexLagMs, pageBytes: options.strict.pageBytes, random: () => lagRandom.next('index-lag') } : undefined,
  );
  const dynamo: http.Server = dynalite({
    path: dynamoDir,
    levelOptions: EMBEDDED_DYNAMODB_LEVEL_OPTIONS,
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...engine.dynaliteOptions(),
  });
  const dynamoPort = await listen(dynamo, 0, '127.0.0.1');
  await engine.ready();

  // fauxqs builds queue URLs from the request's Host header, so URLs read :<gateway port> when
  // asked through the gateway. It is ESM-only (no "require" export): load it with a dynamic import.
  const { startFauxqs } = await import('fauxqs');
  const sqs: FauxqsServer = await startFauxqs({
    port: 0,
    logger: false,
    host: 'localhost',
    defaultRegion: options.region ?? 'us-east-1',
    dataDir: sqsDir,
  });
  const strict = options.strict ? new StrictLayer(options.strict, faults, engine, sqs) : undefined;
  strict?.start();

  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const upstream = (port: number, req: http.IncomingMessage, body: Buffer): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers, 'content-length': String(body.length) };
      delete headers['transfer-encoding'];
      const request = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers, agent }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const answerHeaders: Record<string, string> = {};
          for (const [name, value] of Object.entries(response.headers)) {
            if (value !== undefined && name !== 'transfer-encoding' && name !== 'connection' && name !== 'keep-alive') answerHeaders[name] = String(value);
          }
          resolve({ status: response.statusCode ?? 502, headers: answerHeaders, body: Buffer.concat(chunks) });
        });
        response.on('error', reject);
      });
      request.on('error', reject);
      request.end(body);
    });
  const readBody = async (req: http.IncomingMessage): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const sendJson = (res: http.ServerResponse, status: number, payload: unknown): void => {
    const text = JSON.stringify(payload, null, 2);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  /** As before strict mode: the request streamed to the emulator and its answer streamed back. */
  const pipe = (req: http.IncomingMessage, res: http.ServerResponse, port: number): void => {
    const request = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers, agent }, (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
      upstreamRes.pipe(res);
    });
    request.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `local cloud upstream failed: ${error.message}` }));
    });
    req.pipe(request);
  };

  const serve = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/_meter' && req.method === 'GET') return sendJson(res, 200, meter.snapshot());
    if (path === '/_meter/reset' && req.method === 'POST') return sendJson(res, 200, meter.reset());
    if (path === '/_strict' && req.method === 'GET') return sendJson(res, 200, strict?.status() ?? { enabled: false });
    const isDynamoDb = isDynamoDbRequest(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    // SQS's JSON protocol is read for the meter (payload sizes); its old query protocol is only piped.
    const sqsJson = !isDynamoDb && target.startsWith('AmazonSQS.');
    const port = isDynamoDb ? dynamoPort : sqs.port;
    if (!sqsJson && !(strict && isDynamoDb)) return pipe(req, res, port);
    const body = await readBody(req);
    const operation = target.slice(target.indexOf('.') + 1);
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      // Not JSON: the emulator answers it as it would anyway.
      input = {};
    }
    const forward = (changed?: Record<string, unknown>): Promise<Answer> => upstream(port, req, changed ? Buffer.from(JSON.stringify(changed)) : body);
    const answer = strict ? await strict.handle(isDynamoDb ? 'dynamodb' : 'sqs', operation, input, forward) : await forward();
    if (sqsJson && answer.status === 200) {
      let output: Record<string, unknown> | undefined;
      try {
        output = operation === 'ReceiveMessage' ? (JSON.parse(answer.body.toString('utf8')) as Record<string, unknown>) : undefined;
      } catch {
        output = undefined;
      }
      meter.sqs(operation, input, output);
    }
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  };

  const gateway = http.createServer();
  gateway.on('request', (req, res) => {
    serve(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `local cloud failed: ${(error as Error).message}` }));
    });
  });
  const port = await listen(gateway, options.port, host);

  return {
    endpoint: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    port,
    dynamodbEndpoint: `http://127.0.0.1:${dynamoPort}`,
    sqsEndpoint: `http://127.0.0.1:${sqs.port}`,
    meter,
    ...(strict ? { strict } : {}),
    async stop() {
      gateway.closeAllConnections();
      await new Promise<void>((resolve) => gateway.close(() => resolve()));
      agent.destroy();
      await strict?.stop();
      engine.stop();
      await sqs.stop();
      dynamo.closeAllConnections();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    },
  };
};
