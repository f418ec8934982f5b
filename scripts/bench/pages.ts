// `npm run bench:pages -- --before <git ref>`: how fast `/events` pages are, and what they cost in
// read units, in this checkout and in an earlier version, measured in one run: both stacks run side by
// side on the same machine, hold the same events (the publisher's seeded workload), and are asked the
// same pages in alternation (A, B, then B, A), so that a machine that is busier for a while slows both.
// The earlier version runs from a git worktree of the ref (in the system's temp folder) that shares
// this checkout's node_modules; it needs the local cloud's meter (`GET /_meter`), which versions from
// the strict-mode work on have.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runPublisher } from '../../client/publisher/run.ts';
import { freePort } from '../../local/ports.ts';
import { projectRoot } from '../../local/service-config.ts';
import { treeCpuSeconds } from './proc.ts';

interface Side {
  name: string;
  dir: string;
  url: string;
  cloud: string;
  stack: ChildProcess;
  dataDir: string;
}

const log = (line: string): void => console.log(line);

const startSide = async (name: string, dir: string): Promise<Side> => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `log-aggregator-pages-${name}-`));
  const [cloudPort, httpPort, lambdaPort] = [await freePort(), await freePort(), await freePort()];
  const stack = spawn(path.join(projectRoot, 'node_modules', '.bin', 'node'), ['--import', 'tsx', '--disable-warning=ExperimentalWarning', 'scripts/start.ts'], {
    cwd: dir,
    env: { ...process.env, DATA_DIR: dataDir, CLOUD_PORT: String(cloudPort), HTTP_PORT: String(httpPort), LAMBDA_PORT: String(lambdaPort), STAGE: `pages-${name}`, LOG_LEVEL: 'WARN' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (/^ready in/m.test(output)) resolve();
    };
    stack.stdout!.on('data', onData);
    stack.stderr!.on('data', onData);
    stack.once('exit', (code) => reject(new Error(`the ${name} stack exited (${code}) before it was ready:\n${output}`)));
  });
  return { name, dir, url: `http://127.0.0.1:${httpPort}`, cloud: `http://127.0.0.1:${cloudPort}`, stack, dataDir };
};

const stopSide = async (side: Side): Promise<void> => {
  if (side.stack.exitCode === null) {
    const exited = new Promise((resolve) => side.stack.once('exit', resolve));
    process.kill(-side.stack.pid!, 'SIGINT');
    await exited;
  }
  rmSync(side.dataDir, { recursive: true, force: true });
};

const meterReads = async (side: Side): Promise<number> => ((await (await fetch(`${side.cloud}/_meter`)).json()) as { dynamodb: { read_units: number } }).dynamodb.read_units;

/**
 * Reads `pages` pages of a query (following the cursor); time per page, read units per page, and the
 * CPU the side's stack (its local cloud and its functions) spent on them: on a machine this size a
 * page is bound by CPU, so that says where the time goes.
 */
const readPages = async (side: Side, route: string, query: Record<string, string>, pages: number): Promise<{ ms: number[]; units: number; /** in all, not per page */ cpuMs: number }> => {
  const before = await meterReads(side);
  const cpuBefore = treeCpuSeconds(side.stack.pid!);
  const ms: number[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < pages; page += 1) {
    const started = performance.now();
    const response = await fetch(`${side.url}${route}?${new URLSearchParams({ ...query, ...(cursor ? { cursor } : {}) })}`);
    if (!response.ok) throw new Error(`${side.name}: ${response.status} ${await response.text()}`);
    const body = (await response.json()) as { next_cursor: string | null };
    ms.push(performance.now() - started);
    if (!body.next_cursor) break;
    cursor = body.next_cursor;
  }
  const cpuMs = (treeCpuSeconds(side.stack.pid!) - cpuBefore) * 1000;
  return { ms, units: ((await meterReads(side)) - before) / ms.length, cpuMs };
};

const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

const QUERIES: Array<{ what: string; route: string; query: Record<string, string> }> = [
  { what: 'one topic, oldest first, 100 a page', route: '/events', query: { topic: 'orders', limit: '100' } },
  { what: 'all topics, newest first, 100 a page', route: '/events', query: { limit: '100' } },
  { what: 'all topics, text search (q), 100 a page', route: '/events', query: { q: 'finished with 500', limit: '100' } },
  { what: 'one topic, a time range and a source', route: '/events', query: { topic: 'payments', source: 'worker-3', from: '2026-01-01T00:00:00Z', limit: '100' } },
  { what: 'the live tail, newest 100', route: '/events/tail', query: { limit: '100' } },
];

const main = async (): Promise<void> => {
  const { values } = parseArgs({ options: { before: { type: 'string' }, events: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '5' }, pages: { type: 'string', default: '5' } } });
  if (!values.before) throw new Error('name the earlier version: --before <git ref> (a branch, tag or commit)');
  const sha = execFileSync('git', ['rev-parse', '--short', values.before], { cwd: projectRoot, encoding: 'utf8' }).trim();
  const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: projectRoot, encoding: 'utf8' }).trim();
  const beforeDir = path.join(os.tmpdir(), `log-aggregator-before-${sha}`);
  if (!existsSync(beforeDir)) {
    log(`pages: checking out ${values.before} (${sha}) into ${beforeDir} ...`);
    execFileSync('git', ['worktree', 'add', '--detach', beforeDir, sha], { cwd: projectRoot, stdio: 'ignore' });
    symlinkSync(path.join(projectRoot, 'node_modules'), path.join(beforeDir, 'node_modules'));
  }
  const events = Number(values.events);
  log(`pages: starting both stacks (before: ${sha}, after: ${head}) ...`);
  const sides = [await startSide('before', beforeDir), await startSide('after', projectRoot)];
  try {
    for (const side of sides) {
      log(`pages: ${side.name}: publishing the same ${events} events (seeded workload, 30% duplicates) and waiting for them to be processed ...`);
      await runPublisher({ url: side.url, events, dupRate: 0.3, topics: 5, batch: 500, concurrency: 4, seed: 42, runId: 'pages', retries: 10, wait: true, drainTimeoutSeconds: 1800 });
    }
    const rounds = Number(values.rounds);
    const results = new Map<string, { ms: number[]; units: number[]; cpuMs: number[] }>();
    for (let round = 0; round < rounds; round += 1) {
      log(`pages: round ${round + 1} of ${rounds}`);
      // Alternated: before first in even rounds, after first in odd ones.
      const order = round % 2 === 0 ? sides : [...sides].reverse();
      for (const { what, route, query } of QUERIES) {
        for (const side of order) {
          const key = `${what}|${side.name}`;
          const result = await readPages(side, route, query, Number(values.pages));
          const entry = results.get(key) ?? { ms: [], units: [], cpuMs: [] };
          entry.ms.push(...result.ms);
          entry.units.push(result.units);
          entry.cpuMs.push(result.cpuMs);
          results.set(key, entry);
        }
      }
    }
    const rows = QUERIES.map(({ what }) => {
      const [before, after] = ['before', 'after'].map((name) => results.get(`${what}|${name}`)!);
      return {
        what,
        beforeMs: median(before!.ms),
        afterMs: median(after!.ms),
        beforeUnits: median(before!.units),
        afterUnits: median(after!.units),
        // /proc counts in ticks of 10 ms: CPU over all the rounds' pages, not a median of a few pages.
        beforeCpu: sum(before!.cpuMs) / before!.ms.length,
        afterCpu: sum(after!.cpuMs) / after!.ms.length,
      };
    });
    log('');
    log(`| /events page (median of ${rounds} rounds x up to ${values.pages} pages) | before ${sha}: ms | after ${head}: ms | change | before: CPU ms | after: CPU ms | before: read units | after: read units |`);
    log('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const row of rows) {
      const change = `${row.afterMs >= row.beforeMs ? '+' : ''}${(((row.afterMs - row.beforeMs) / row.beforeMs) * 100).toFixed(0)}%`;
      log(`| ${row.what} | ${row.beforeMs.toFixed(1)} | ${row.afterMs.toFixed(1)} | ${change} | ${row.beforeCpu.toFixed(1)} | ${row.afterCpu.toFixed(1)} | ${row.beforeUnits.toFixed(1)} | ${row.afterUnits.toFixed(1)} |`);
    }
    log("(CPU ms: what the side's stack, its local cloud and its functions, spent per page over all rounds, from /proc)");
    log(`\nreproduce: npm run bench:pages -- --before ${values.before} --events ${events} --rounds ${rounds} --pages ${values.pages}`);
  } finally {
    for (const side of sides) await stopSide(side);
  }
};

main().catch((error: unknown) => {
  console.error(`bench:pages failed: ${(error as Error).message}`);
  process.exit(1);
});
