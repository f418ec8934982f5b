// Chaos: 20,000 events with 30% duplicates over 5 topics, published by the retrying publisher while
// the whole stack (emulators, serverless offline, event source) is killed with SIGKILL three times
// (while publishing, and while only processing is left) and restarted on the same data. After the
// backlog drains, every count must be exact, `received` included.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { generateWorkload } from '../../client/publisher/generate.ts';
import type { PublisherReport } from '../../client/publisher/run.ts';
import type { Stats } from '../../lib/api/stats.ts';
import { freePort, spawnScript, stopProcess, waitForLine } from '../support/processes.ts';
import { strictMode } from '../support/strict.ts';

jest.setTimeout(15 * 60_000);

const WORKLOAD = { events: 20_000, dupRate: 0.3, topics: 5, seed: 7, runId: 'chaos' };


const dataDir = mkdtempSync(path.join(os.tmpdir(), 'log-aggregator-chaos-'));
let env: Record<string, string>;
let ports: { cloud: number; http: number; lambda: number };
let stack: ChildProcess | undefined;
const log = (line: string): void => {
  process.stderr.write(`[chaos] ${line}\n`);
};

const portFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });

const startStack = async (): Promise<void> => {
  // After a SIGKILL the children notice their parent is gone within half a second; wait for the ports.
  for (const port of Object.values(ports)) {
    for (let tries = 0; !(await portFree(port)); tries += 1) {
      if (tries > 100) throw new Error(`port ${port} still busy`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  stack = spawnScript('scripts/start.ts', [], env);
  await waitForLine(stack, /^ready in/, 180_000);
};

const stats = async (): Promise<Stats | undefined> => {
  try {
    const response = await fetch(`http://127.0.0.1:${ports.http}/stats`);
    return response.status === 200 ? ((await response.json()) as Stats) : undefined;
  } catch {
    return undefined;
  }
};

const BATCH = 250;

/**
 * Waits until at least `count` events have entered the queue: those counted (processed) plus those
 * still in it (one message per request of BATCH small events). `received` alone lags behind publishing.
 */
const waitForPublished = async (count: number): Promise<void> => {
  for (;;) {
    const current = await stats();
    if (current && current.received + BATCH * (current.queue.visible + current.queue.in_flight + current.queue.delayed) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/** Every event item, counted and listed through the AWS endpoint, as a user would with the aws CLI. */
const scanEventKeys = async (): Promise<Set<string>> => {
  const dynamo = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${ports.cloud}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const keys = new Set<string>();
  let ExclusiveStartKey: Record<string, any> | undefined;
  do {
    const page = await dynamo.send(
      new ScanCommand({
        TableName: 'log-aggregator-chaos-events',
        FilterExpression: 'attribute_exists(topic)',
        ProjectionExpression: 'pk',
        ExclusiveStartKey,
      }),
    );
    for (const item of page.Items ?? []) keys.add(item.pk!.S!);
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  dynamo.destroy();
  return keys;
};

beforeAll(async () => {
  ports = { cloud: await freePort(), http: await freePort(), lambda: await freePort() };
  env = {
    DATA_DIR: dataDir,
    CLOUD_PORT: String(ports.cloud),
    HTTP_PORT: String(ports.http),
    LAMBDA_PORT: String(ports.lambda),
    STAGE: 'chaos',
    LOG_LEVEL: 'ERROR',
  };
  await startStack();
});

afterAll(async () => {
  if (stack) await stopProcess(stack, 'SIGINT');
  if (!process.env.KEEP_DATA) rmSync(dataDir, { recursive: true, force: true });
});

it('keeps every count exact while the whole stack is killed three times mid-run', async () => {
  const publisher = spawnScript(
    'scripts/publisher.ts',
    [
      '--events', String(WORKLOAD.events),
      '--dup-rate', String(WORKLOAD.dupRate),
      '--topics', String(WORKLOAD.topics),
      '--seed', String(WORKLOAD.seed),
      '--run-id', WORKLOAD.runId,
      '--batch', String(BATCH),
      '--concurrency', '4',
      '--retries', '40',
      // The test waits for the drain itself, so that the last kill can come after publishing ended.
      '--no-wait',
      '--url', `http://127.0.0.1:${ports.http}`,
      '--json',
    ],
    {},
  );
  let output = '';
  publisher.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  publisher.stderr!.on('data', (chunk: Buffer) => log(`publisher: ${chunk.toString().trim()}`));
  const publisherDone = new Promise<number | null>((resolve) => publisher.once('exit', resolve));

  const killAndRestart = async (kill: number, when: string): Promise<void> => {
    log(`SIGKILL ${kill} of the whole stack ${when}`);
    await stopProcess(stack!, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await startStack();
    log(`restarted after SIGKILL ${kill}`);
  };
  // Two kills while the publisher is sending (and the processor processing)...
  for (const [kill, published] of [[1, 4_000], [2, 11_000]] as const) {
    await waitForPublished(published);
    await killAndRestart(kill, `with ${published}+ events published, while publishing`);
  }
  const exitCode = await publisherDone;
  const report = JSON.parse(output.trim().split('\n').at(-1)!) as PublisherReport;
  log(`publisher report: ${JSON.stringify(report)}`);
  expect(report.rejected_events).toBe(0);
  expect(report.accepted_events).toBe(WORKLOAD.events);
  // The kills did hit the publisher: it had to retry requests the dead stack did not answer.
  expect(report.retries).toBeGreaterThan(0);
  // ...and one when everything is published and only processing is left.
  const backlog = (await stats())!;
  expect(backlog.received).toBeLessThan(WORKLOAD.events);
  await killAndRestart(3, `with publishing done and ${WORKLOAD.events - backlog.received}+ events still to process`);

  let final = (await stats())!;
  const deadline = Date.now() + 600_000;
  while (!(final && final.queue.visible === 0 && final.queue.in_flight === 0 && final.received >= report.accepted_events)) {
    if (Date.now() > deadline) throw new Error(`the backlog did not drain: ${JSON.stringify(final)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    final = (await stats())!;
  }
  log(`final stats: ${JSON.stringify(final)}`);
  const workload = generateWorkload(WORKLOAD);
  const distinct = new Set(workload.events.map((event) => `${event.topic}#${event.event_id}`));

  // Each distinct event stored exactly once, nothing lost, nothing extra.
  expect(final.unique_processed).toBe(distinct.size);
  const stored = await scanEventKeys();
  expect(stored.size).toBe(distinct.size);
  expect([...distinct].filter((key) => !stored.has(key))).toEqual([]);

  // Every event that entered the queue counted exactly once: received is unique + duplicate, with no
  // tolerance. How many entered is between the events accepted (202) and the events sent: a request
  // whose answer was lost in a kill may have been queued and then sent again by the publisher.
  const deliveries = final.unique_processed + final.duplicate_dropped;
  expect(final.processed).toBe(deliveries);
  expect(final.received).toBe(deliveries);
  expect(deliveries).toBeGreaterThanOrEqual(report.accepted_events);
  expect(deliveries).toBeLessThanOrEqual(report.sent_events);

  // Per-topic counts add up to the totals (5 topics: all of them are among the top topics).
  expect(final.top_topics).toHaveLength(WORKLOAD.topics);
  for (const field of ['received', 'unique', 'duplicate'] as const) {
    expect(final.top_topics.reduce((sum, topic) => sum + topic[field], 0)).toBe(
      field === 'received' ? final.received : field === 'unique' ? final.unique_processed : final.duplicate_dropped,
    );
  }

  expect(final.queue).toMatchObject({ visible: 0, in_flight: 0, dlq: 0 });
  expect(exitCode).not.toBeNull();

  // In strict mode (npm run test:strict) all of this held while AWS's faults were injected: the stack
  // says so, and its local cloud counted them (since the last restart).
  if (strictMode()) {
    const health = (await (await fetch(`http://127.0.0.1:${ports.http}/health`)).json()) as { notice?: string };
    expect(health.notice).toMatch(/strict mode \(CLOUD_STRICT_SEED=\d+\)/);
    const { faults } = (await (await fetch(`http://127.0.0.1:${ports.cloud}/_strict`)).json()) as { faults: Record<string, number> };
    log(`strict mode injected since the last restart: ${JSON.stringify(faults)}`);
    for (const kind of ['dynamodb_throttled', 'unprocessed_keys', 'index_changes_delayed', 'short_receives']) expect(faults[kind]).toBeGreaterThan(0);
  }
});
