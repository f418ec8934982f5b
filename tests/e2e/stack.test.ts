// End to end over real HTTP: `scripts/start.ts` (what `npm start` runs) with serverless offline, the
// local event source and the embedded cloud, on free ports and a fresh data folder.
import { execFile, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ulid } from 'ulid';
import type { Stats } from '../../lib/api/stats.ts';
import { bundleFolder } from '../../local/stack.ts';
import { holdFetchToContract } from '../support/contract.ts';
import { freePort, projectRoot, spawnScript, stopProcess, waitForLine } from '../support/processes.ts';

jest.setTimeout(240_000);


const PUBLISH_KEY = 'e2e-publish-key';
const ADMIN_KEY = 'e2e-admin-key';
const READ_KEY = 'e2e-read-key';
const CONSOLE_ORIGIN = 'http://console.example';
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'log-aggregator-e2e-'));
let env: Record<string, string>;
let stack: ChildProcess | undefined;
let baseUrl: string;
// Every answer this file's fetch receives from the stack must be one the OpenAPI document describes.
holdFetchToContract(() => baseUrl);

const start = async (): Promise<void> => {
  stack = spawnScript('scripts/start.ts', [], env);
  await waitForLine(stack, /^ready in/, 180_000);
};

const stop = async (): Promise<void> => {
  if (stack) await stopProcess(stack, 'SIGINT');
  stack = undefined;
};

const getJson = async <T>(pathAndQuery: string): Promise<T> => {
  const response = await fetch(`${baseUrl}${pathAndQuery}`, { headers: { 'x-api-key': READ_KEY } });
  expect(response.status).toBe(200);
  return (await response.json()) as T;
};

const post = async (body: unknown, key: string | null = PUBLISH_KEY): Promise<{ status: number; body: any }> => {
  const response = await fetch(`${baseUrl}/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { 'x-api-key': key } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
};

/** Waits until everything received has been processed and the queue is empty. */
const drained = async (expectedProcessed: number): Promise<Stats> => {
  const deadline = Date.now() + 60_000;
  let stats: Stats;
  do {
    stats = await getJson<Stats>('/stats');
    if (stats.processed >= expectedProcessed && stats.queue.visible === 0 && stats.queue.in_flight === 0) return stats;
    await new Promise((resolve) => setTimeout(resolve, 250));
  } while (Date.now() < deadline);
  throw new Error(`not drained within 60s: ${JSON.stringify(stats)}`);
};

const topics = ['orders', 'payments', 'auth', 'search', 'email'];
const makeEvent = (i: number) => ({
  topic: topics[i % topics.length]!,
  event_id: `evt-${i}`,
  timestamp: new Date(Date.UTC(2026, 10, 22, 10, 0, 0) + i * 1000).toISOString(),
  source: `service-${i % 3}`,
  payload: { i, user: { id: `u${i % 17}`, tags: ['a', 'b'], score: i / 7 }, note: 'ünïcødé ✓' },
});

beforeAll(async () => {
  const [cloudPort, httpPort, lambdaPort] = [await freePort(), await freePort(), await freePort()];
  env = {
    DATA_DIR: dataDir,
    CLOUD_PORT: String(cloudPort),
    HTTP_PORT: String(httpPort),
    LAMBDA_PORT: String(lambdaPort),
    STAGE: 'e2e',
    LOG_LEVEL: 'WARN',
    PUBLISH_API_KEYS: `${PUBLISH_KEY},another-publisher`,
    ADMIN_API_KEYS: ADMIN_KEY,
    // The publish key may read too (the publisher checks /stats); reads need one of these or the admin key.
    READ_API_KEYS: `${READ_KEY},${PUBLISH_KEY}`,
    CORS_ORIGINS: CONSOLE_ORIGIN,
  };
  baseUrl = `http://127.0.0.1:${httpPort}`;
  await start();
});

afterAll(async () => {
  await stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the aggregator over HTTP', () => {
  const distinct = Array.from({ length: 700 }, (_, i) => makeEvent(i));
  // 300 repeats of earlier events, spread over the run.
  const repeats = Array.from({ length: 300 }, (_, i) => makeEvent((i * 7) % 700));

  it('stores 700 distinct events of 1,000 published and counts 300 duplicates', async () => {
    const all = [...distinct.slice(0, 400), ...repeats.slice(0, 100), ...distinct.slice(400), ...repeats.slice(100)];
    for (let start = 0; start < all.length; start += 250) {
      const answer = await post({ events: all.slice(start, start + 250) });
      expect(answer).toEqual({ status: 202, body: { accepted: 250, messages: 1, receipt: expect.any(String) } });
    }
    const stats = await drained(1000);
    expect(stats).toMatchObject({ received: 1000, unique_processed: 700, duplicate_dropped: 300, processed: 1000 });
    expect(stats.queue.dlq).toBe(0);
    expect([...stats.top_topics].sort((a, b) => a.topic.localeCompare(b.topic))).toEqual(
      [...topics].sort().map((topic) => ({ topic, received: 200, unique: 140, duplicate: 60 })),
    );
    for (const topic of topics) {
      expect(await getJson(`/topics/${topic}`)).toMatchObject({ topic, received: 200, unique: 140, duplicate: 60 });
    }
    // The per-minute history holds the same counts.
    const series = await getJson<{ points: Array<{ received: number; unique: number; duplicate: number }> }>('/stats/series?step=600');
    const sum = (field: 'received' | 'unique' | 'duplicate') => series.points.reduce((total, point) => total + point[field], 0);
    expect([sum('received'), sum('unique'), sum('duplicate')]).toEqual([1000, 700, 300]);
    // Every invocation of the processor is logged with its duration and the function's timeout
    // (serverless.yml: 30 s), which is what `npm run bench` reports; none ran into the timeout.
    const invocations = readFileSync(path.join(dataDir, 'logs', 'invocations.log'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { ms: number; timeout_ms: number; records: number });
    expect(invocations.reduce((sum, invocation) => sum + invocation.records, 0)).toBeGreaterThanOrEqual(4);
    for (const invocation of invocations) {
      expect(invocation.timeout_ms).toBe(30_000);
      expect(invocation.ms).toBeGreaterThan(0);
      expect(invocation.ms).toBeLessThan(invocation.timeout_ms);
    }
  });

  it('returns every event once, in event-time order, with its payload intact', async () => {
    const byId = new Map(distinct.map((event) => [event.event_id, event]));
    let total = 0;
    for (const topic of topics) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { events: Array<{ event_id: string; timestamp: string; payload: unknown; source: string }>; next_cursor: string | null } =
          await getJson(`/events?topic=${topic}&limit=50${cursor ? `&cursor=${cursor}` : ''}`);
        for (const event of page.events) {
          const sent = byId.get(event.event_id)!;
          expect(event.payload).toEqual(sent.payload);
          expect(event.source).toBe(sent.source);
          expect(event.timestamp).toBe(sent.timestamp);
          seen.push(event.event_id);
        }
        cursor = page.next_cursor;
      } while (cursor);
      const expected = distinct.filter((event) => event.topic === topic).map((event) => event.event_id);
      expect(seen).toEqual(expected);
      total += seen.length;
    }
    expect(total).toBe(700);
  });

  it('finds events by payload over HTTP: text and fields, across pages', async () => {
    const expected = distinct.filter((event) => event.topic === 'orders' && event.payload.user.id === 'u3').map((event) => event.event_id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { events: Array<{ event_id: string }>; next_cursor: string | null; examined: number } = await getJson(
        `/events?topic=orders&payload.user.id=u3&limit=7${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.examined).toBeGreaterThan(0);
      seen.push(...page.events.map((event) => event.event_id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(expected);
    const text = await getJson<{ events: Array<{ event_id: string }> }>(`/events?q=${encodeURIComponent('ÜNÏCØDÉ')}&limit=5`);
    expect(text.events).toHaveLength(5);
  });

  it('answers bad input over HTTP with 400, 413 and 422', async () => {
    expect((await post('{nope')).status).toBe(400);
    const invalid = await post([makeEvent(1), { ...makeEvent(2), timestamp: 'yesterday' }]);
    expect(invalid.status).toBe(422);
    expect(invalid.body.issues).toEqual([{ index: 1, field: 'timestamp', message: expect.stringMatching(/RFC 3339/) }]);
    expect((await post({ events: [{ pad: 'x'.repeat(5 * 1024 * 1024) }] })).status).toBe(413);
    expect((await getJson<Stats>('/stats')).received).toBe(1000);
  });

  it('serves one event by topic and id over HTTP, whatever characters the id has', async () => {
    const odd = { ...makeEvent(9_999), event_id: 'a b/c%d?é#1' };
    expect((await post(odd)).status).toBe(202);
    await drained(1001);
    const found = await getJson<{ event_id: string; payload: unknown }>(`/events/${odd.topic}/${encodeURIComponent(odd.event_id)}`);
    expect(found).toMatchObject({ event_id: odd.event_id, payload: odd.payload });
    expect((await fetch(`${baseUrl}/events/${odd.topic}/missing`, { headers: { 'x-api-key': READ_KEY } })).status).toBe(404);
    const listed = await getJson<{ topics: Array<{ topic: string; unique: number }> }>('/topics');
    expect(listed.topics.map((entry) => entry.topic)).toEqual([...topics].sort());
    expect(listed.topics.find((entry) => entry.topic === odd.topic)?.unique).toBe(141);
    expect(await (await fetch(`${baseUrl}/metrics`, { headers: { 'x-api-key': READ_KEY } })).text()).toMatch(/^# HELP log_aggregator_events_received_total/m);
  });

  it('refuses to publish without a valid key, and accepts either configured key', async () => {
    expect(await post(makeEvent(1), null)).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    expect(await post(makeEvent(1), 'guess')).toMatchObject({ status: 403, body: { error: 'forbidden' } });
    const bearer = await fetch(`${baseUrl}/publish`, {
      method: 'POST',
      headers: { authorization: 'Bearer another-publisher' },
      body: JSON.stringify(makeEvent(1)),
    });
    expect(bearer.status).toBe(202);
    await drained(1002);
  });

  it('keeps administration behind the admin key: redrive and purging a topic', async () => {
    const admin = (method: string, path: string, key?: string) =>
      fetch(`${baseUrl}${path}`, { method, headers: key ? { 'x-api-key': key } : {} });
    expect((await admin('POST', '/admin/redrive')).status).toBe(401);
    expect((await admin('POST', '/admin/redrive', PUBLISH_KEY)).status).toBe(403);
    const redriven = await admin('POST', '/admin/redrive', ADMIN_KEY);
    expect({ status: redriven.status, body: await redriven.json() }).toEqual({ status: 200, body: { moved: 0, beyond_horizon: 0 } });

    expect((await post({ ...makeEvent(5), topic: 'scratch' })).status).toBe(202);
    await drained(1003);
    expect((await getJson<{ events: unknown[] }>('/events?topic=scratch')).events).toHaveLength(1);
    expect((await admin('DELETE', '/admin/topics/scratch', PUBLISH_KEY)).status).toBe(403);
    const purged = await admin('DELETE', '/admin/topics/scratch', ADMIN_KEY);
    expect(await purged.json()).toEqual({ topic: 'scratch', deleted: 1, more: false });
    expect((await getJson<{ events: unknown[] }>('/events?topic=scratch')).events).toHaveLength(0);
  });

  it('keeps everything across a restart, and a re-sent event then counts as a duplicate', async () => {
    // A follower's tail position from before the restart still follows afterwards.
    const before = await getJson<{ next_cursor: string }>('/events/tail?topic=payments&limit=1');
    expect(existsSync(path.join(dataDir, 'endpoints.json'))).toBe(true);
    await stop();
    // A stopped stack leaves no address behind for the clients to find.
    expect(existsSync(path.join(dataDir, 'endpoints.json'))).toBe(false);
    await start();
    const after = await getJson<Stats>('/stats');
    expect(after).toMatchObject({ received: 1003, unique_processed: 702, duplicate_dropped: 301 });
    expect((await getJson<{ ok: boolean }>('/health')).ok).toBe(true);

    expect((await post(makeEvent(123))).status).toBe(202);
    const stats = await drained(1004);
    expect(stats).toMatchObject({ received: 1004, unique_processed: 702, duplicate_dropped: 302 });

    expect((await post({ ...makeEvent(5_000), topic: 'payments', event_id: 'after-restart', timestamp: '2001-01-01T00:00:00Z' })).status).toBe(202);
    await drained(1005);
    const followed = await getJson<{ events: Array<{ event_id: string }> }>(`/events/tail?topic=payments&wait=10&cursor=${before.next_cursor}`);
    expect(followed.events.map((event) => event.event_id)).toEqual(['after-restart']);
  });

  describe('the local gateway in front of the functions', () => {
    // First: since the restart above, nothing has called the topics function yet.
    it('turns a function that cannot load into a JSON 502, and /health into a 503 naming it, until it loads again', async () => {
      // The functions load their bundles on first use: take the topics function's bundle away before
      // anything has called it, as a concurrent `serverless package` used to.
      const workFolder = path.join(bundleFolder(dataDir, 'e2e', Number(env.HTTP_PORT)), '.build', 'functions');
      const bundle = readdirSync(workFolder).find((file) => file === 'topics.js')!;
      renameSync(path.join(workFolder, bundle), path.join(workFolder, `${bundle}.away`));
      try {
        const failed = await fetch(`${baseUrl}/topics`, { headers: { 'x-api-key': READ_KEY } });
        expect(failed.status).toBe(502);
        expect(await failed.json()).toMatchObject({ error: 'function_failed', message: expect.stringMatching(/the topics function failed/) });
        const health = await fetch(`${baseUrl}/health`);
        expect(health.status).toBe(503);
        expect(await health.json()).toMatchObject({ ok: false, checks: { functions: { ok: false, error: { topics: expect.any(String) } } } });
      } finally {
        renameSync(path.join(workFolder, `${bundle}.away`), path.join(workFolder, bundle));
      }
      expect((await fetch(`${baseUrl}/topics`, { headers: { 'x-api-key': READ_KEY } })).status).toBe(200);
      expect((await fetch(`${baseUrl}/health`)).status).toBe(200);
    });
    it('answers unknown routes with a JSON 404 and wrong methods with a JSON 405 and Allow', async () => {
      const unknown = await fetch(`${baseUrl}/nope`);
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toMatchObject({ error: 'not_found' });
      const wrong = await fetch(`${baseUrl}/publish`);
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get('allow')).toBe('POST');
      expect(await wrong.json()).toMatchObject({ error: 'method_not_allowed' });
    });

    it('sends CORS headers to the configured origin only, never with credentials', async () => {
      const allowed = await fetch(`${baseUrl}/health`, { headers: { origin: CONSOLE_ORIGIN } });
      expect(allowed.headers.get('access-control-allow-origin')).toBe(CONSOLE_ORIGIN);
      expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
      const other = await fetch(`${baseUrl}/health`, { headers: { origin: 'http://evil.example' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      expect(other.headers.get('access-control-allow-credentials')).toBeNull();
      const preflight = await fetch(`${baseUrl}/stats`, { method: 'OPTIONS', headers: { origin: CONSOLE_ORIGIN, 'access-control-request-method': 'GET' } });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-headers')).toMatch(/x-api-key/);
    });

    it('keeps every read behind a read key when READ_API_KEYS is set; health stays open', async () => {
      expect((await fetch(`${baseUrl}/stats`)).status).toBe(401);
      expect((await fetch(`${baseUrl}/events?limit=1`, { headers: { 'x-api-key': 'guess' } })).status).toBe(403);
      expect((await fetch(`${baseUrl}/topics`, { headers: { 'x-api-key': ADMIN_KEY } })).status).toBe(200);
      expect((await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${READ_KEY}` } })).status).toBe(200);
      expect((await fetch(`${baseUrl}/health`)).status).toBe(200);
    });

  });

  it('keeps answering while `serverless package` runs in the same checkout', async () => {
    // Packaging empties serverless-esbuild's work folder (.esbuild in the checkout) when it is done;
    // the running stack's bundles must not be in it. The real command, as a developer would run it
    // (artifacts into a temporary folder instead of the checkout's .serverless).
    const before = (await getJson<Stats>('/stats')).received;
    expect((await post({ ...makeEvent(7_000), topic: 'packaged', event_id: 'before-package' })).status).toBe(202);
    await drained(before + 1);
    const artifacts = mkdtempSync(path.join(os.tmpdir(), 'log-aggregator-e2e-package-'));
    try {
      const environment = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_') && key !== 'ESBUILD_WORK_FOLDER'));
      await promisify(execFile)(process.execPath, ['node_modules/serverless/bin/serverless.js', 'package', '--stage', 'e2e', '--package', artifacts], {
        cwd: projectRoot,
        env: { ...environment, SLS_TELEMETRY_DISABLED: '1', HOME: artifacts },
      });
      expect(readdirSync(artifacts).filter((file) => file.endsWith('.zip')).length).toBeGreaterThan(0);
    } finally {
      rmSync(artifacts, { recursive: true, force: true });
    }
    // Every function still loads: each route once, and an event goes all the way through the processor.
    const answers: Record<string, number> = {};
    for (const route of ['/stats', '/stats/series', '/events?limit=1', '/events/tail?limit=1', '/events/packaged/before-package', '/topics', '/topics/packaged', '/metrics', '/health', '/', '/openapi.json']) {
      answers[route] = (await fetch(`${baseUrl}${route}`, { headers: { 'x-api-key': READ_KEY } })).status;
    }
    expect(answers).toEqual({
      '/stats': 200,
      '/stats/series': 200,
      '/events?limit=1': 200,
      '/events/tail?limit=1': 200,
      '/events/packaged/before-package': 200,
      '/topics': 200,
      '/topics/packaged': 200,
      '/metrics': 200,
      '/health': 200,
      '/': 200,
      '/openapi.json': 200,
    });
    expect((await post({ ...makeEvent(7_001), topic: 'packaged', event_id: 'after-package' })).status).toBe(202);
    await drained(before + 2);
    expect(await getJson('/topics/packaged')).toMatchObject({ received: 2, unique: 2 });
  });

  describe('the command line (npx logagg)', () => {
    const cli = (args: string[], extraEnv: Record<string, string> = {}) =>
      spawnSync(process.execPath, [path.join(projectRoot, 'bin', 'logagg.cjs'), ...args], {
        cwd: projectRoot,
        encoding: 'utf8',
        env: { ...process.env, LOGAGG_URL: baseUrl, LOGAGG_API_KEY: READ_KEY, NO_COLOR: '1', ...extraEnv },
        timeout: 60_000,
      });
    const ndjson = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { event_id: string; topic: string });

    it('queries with filters, pages through everything with --all, and prints NDJSON with --json', () => {
      const expected = distinct.filter((event) => event.topic === 'auth' && event.payload.user.id === 'u5').map((event) => event.event_id);
      const all = cli(['query', '--topic', 'auth', '--where', 'payload.user.id=u5', '--all', '--json']);
      expect(all.status).toBe(0);
      expect(ndjson(all.stdout).map((event) => event.event_id)).toEqual(expected);
      const some = cli(['search', '--grep', 'ÜNÏCØDÉ', '--limit', '3', '--json']);
      expect(ndjson(some.stdout)).toHaveLength(3);
      // Human lines: time, topic, source, id, compact payload; no colour outside a terminal.
      const human = cli(['query', '--topic', 'auth', '--limit', '1']);
      expect(human.stdout).toMatch(/^2026-11-22T10:00:02\.000Z {2}auth {2}service-2 {2}evt-2 {2}\{"i":2,/);
      expect(human.stdout).not.toMatch(/\u001b\[/);
    });

    it('tails the newest events, and shows stats and topics', () => {
      const tail = cli(['tail', '-n', '3', '--topic', 'email', '--json']);
      expect(tail.status).toBe(0);
      expect(ndjson(tail.stdout).every((event) => event.topic === 'email')).toBe(true);
      expect(ndjson(tail.stdout)).toHaveLength(3);
      const stats = cli(['stats', '--json']);
      expect(JSON.parse(stats.stdout)).toMatchObject({ unique_processed: expect.any(Number), top_topics: expect.any(Array) });
      expect(cli(['stats']).stdout).toMatch(/^received +\d+/m);
      expect(cli(['topics']).stdout).toMatch(/^auth +\d+ received/m);
    });

    it('exits with codes scripts can rely on, and says what to do next', () => {
      const usage = cli(['query', '--where', 'level=error']);
      expect(usage.status).toBe(2);
      expect(usage.stderr).toMatch(/payload\.<field>=<value>/);
      expect(cli(['query', '--from', 'yesterday']).status).toBe(2);
      expect(cli(['nonsense']).status).toBe(2);
      const down = cli(['stats'], { LOGAGG_URL: 'http://127.0.0.1:9' });
      expect(down.status).toBe(3);
      expect(down.stderr).toMatch(/npm start/);
      const denied = cli(['stats', '--api-key', 'wrong']);
      expect(denied.status).toBe(4);
      expect(denied.stderr).toMatch(/403: the key does not grant reading\. Pass a key with --api-key or LOGAGG_API_KEY/);
      expect(cli(['stats'], { LOGAGG_API_KEY: '' }).status).toBe(4);
      const refused = cli(['publish', '--events', '10', '--no-wait', '--json'], { LOGAGG_API_KEY: READ_KEY });
      expect(refused.status).toBe(1);
      expect(JSON.parse(refused.stdout.trim().split('\n').at(-1)!)).toMatchObject({ accepted_events: 0, rejected_events: 10 });
      expect(cli(['publish', '--events', '10', '--no-wait'], { LOGAGG_API_KEY: 'nobody' }).status).toBe(4);
      const published = cli(['publish', '--events', '10', '--dup-rate', '0', '--no-wait', '--json', '--run-id', 'cli'], { LOGAGG_API_KEY: PUBLISH_KEY });
      expect(published.status).toBe(0);
      expect(JSON.parse(published.stdout.trim().split('\n').at(-1)!)).toMatchObject({ accepted_events: 10 });
    });

    it('finds the running stack from its data folder, says which it uses, and says when none runs', () => {
      // No address given: the clients read the stack's endpoints.json in DATA_DIR.
      const unset = { LOGAGG_URL: '', HTTP_PORT: '', CLOUD_PORT: '', AWS_ENDPOINT_URL: '', STAGE: '' };
      const found = cli(['stats', '--json'], { ...unset, DATA_DIR: dataDir });
      expect(found.status).toBe(0);
      expect(JSON.parse(found.stdout)).toMatchObject({ received: expect.any(Number) });
      expect(found.stderr).toContain(`logagg: the aggregator running from ${dataDir} (stage e2e, pid `);
      expect(found.stderr).toContain(baseUrl);
      const published = cli(['publish', '--events', '5', '--dup-rate', '0', '--no-wait', '--json', '--run-id', 'found'], { ...unset, DATA_DIR: dataDir, LOGAGG_API_KEY: PUBLISH_KEY });
      expect(published.status).toBe(0);
      expect(published.stderr).toContain(`publishing to the aggregator running from ${dataDir}`);
      // Unset, not empty: the AWS SDK reads AWS_ENDPOINT_URL itself.
      const redriveEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !(key in unset)));
      const redrive = (dir: string) =>
        spawnSync(process.execPath, ['--import', 'tsx', 'scripts/redrive.ts'], { cwd: projectRoot, encoding: 'utf8', env: { ...redriveEnv, DATA_DIR: dir }, timeout: 60_000 });
      const redriven = redrive(dataDir);
      expect({ status: redriven.status, stderr: redriven.stderr }).toEqual({ status: 0, stderr: '' });
      expect(redriven.stdout).toContain(`using http://127.0.0.1:${env.CLOUD_PORT} (the aggregator running from ${dataDir} (stage e2e`);
      expect(redriven.stdout).toMatch(/redriving log-aggregator-e2e-events-dlq -> log-aggregator-e2e-events .*\nmoved 0 message/);

      // Nothing there, a stack that has stopped, one whose process lives on but does not answer.
      const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'log-aggregator-e2e-nostack-'));
      try {
        const none = cli(['stats'], { ...unset, DATA_DIR: elsewhere });
        expect(none.status).toBe(3);
        expect(none.stderr).toContain(`no aggregator is running from ${elsewhere} (there is no ${elsewhere}/endpoints.json). Start it with \`npm start\``);
        const noRedrive = redrive(elsewhere);
        expect(noRedrive.status).toBe(1);
        expect(noRedrive.stderr).toMatch(/no aggregator is running from .*Start it with `npm start`/);
        const file = JSON.parse(readFileSync(path.join(dataDir, 'endpoints.json'), 'utf8')) as Record<string, unknown>;
        const gone = spawnSync(process.execPath, ['-e', '']).pid;
        writeFileSync(path.join(elsewhere, 'endpoints.json'), JSON.stringify({ ...file, pid: gone }));
        expect(cli(['stats'], { ...unset, DATA_DIR: elsewhere }).stderr).toContain(`(pid ${gone}) has stopped. Start it with \`npm start\``);
        writeFileSync(path.join(elsewhere, 'endpoints.json'), JSON.stringify({ ...file, pid: process.pid, http: 'http://127.0.0.1:9', cloud: 'http://127.0.0.1:9' }));
        const silent = cli(['stats'], { ...unset, DATA_DIR: elsewhere });
        expect(silent.status).toBe(3);
        expect(silent.stderr).toContain(`(pid ${process.pid}) does not answer at http://127.0.0.1:9`);
        expect(redrive(elsewhere).stderr).toContain(`(pid ${process.pid}) does not answer at http://127.0.0.1:9`);
      } finally {
        rmSync(elsewhere, { recursive: true, force: true });
      }
    });

    it('waits for a publish to be counted: the 202 names its receipt, GET /receipts and logagg wait follow it', async () => {
      const response = await fetch(`${baseUrl}/publish`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': PUBLISH_KEY },
        body: JSON.stringify([{ ...makeEvent(8_000), topic: 'receipts', event_id: 'r-1' }, { ...makeEvent(8_001), topic: 'receipts', event_id: 'r-2' }]),
      });
      const answer = (await response.json()) as { receipt: string };
      expect(response.status).toBe(202);
      expect(response.headers.get('location')).toBe(`/receipts/${answer.receipt}`);
      // The publisher's own key may ask (a read key or the admin key too); no key, or another, may not.
      const ask = (key?: string) => fetch(`${baseUrl}${response.headers.get('location')}?wait=20`, { headers: key ? { 'x-api-key': key } : {} });
      const waited = await ask(PUBLISH_KEY);
      expect({ status: waited.status, body: await waited.json() }).toEqual({ status: 200, body: { receipt: answer.receipt, counted: true, messages: 1, counted_messages: 1 } });
      expect(await getJson('/topics/receipts')).toMatchObject({ received: 2, unique: 2 });
      expect((await ask(READ_KEY)).status).toBe(200);
      expect((await ask(ADMIN_KEY)).status).toBe(200);
      expect((await ask()).status).toBe(401);
      expect((await ask('guess')).status).toBe(403);
      const waitedByCli = cli(['wait', answer.receipt, '--timeout', '30'], { LOGAGG_API_KEY: PUBLISH_KEY });
      expect({ status: waitedByCli.status, stdout: waitedByCli.stdout }).toEqual({ status: 0, stdout: 'counted: 1 of 1 message(s)\n' });
      expect(cli(['wait', 'not-a-receipt']).status).toBe(2);
      const never = cli(['wait', ulid(), '--timeout', '1'], { LOGAGG_API_KEY: PUBLISH_KEY });
      expect({ status: never.status, stdout: never.stdout }).toEqual({ status: 1, stdout: 'not counted yet: 0 of 1 message(s)\n' });
      expect(never.stderr).toMatch(/not counted within 1s/);
    });

    it('prints bash and zsh completion scripts', () => {
      expect(cli(['completion'], { SHELL: '/bin/bash' }).stdout).toMatch(/complete -o bashdefault -o default -F _logagg_yargs_completions logagg/);
      expect(cli(['completion'], { SHELL: '/bin/zsh' }).stdout).toMatch(/^#compdef logagg/);
    });
  });
});
