// `npm run bench`: starts the embedded stack on a fresh data folder and measures, in one run,
// (a) the raw ceiling: conditional PutItem/s against the embedded DynamoDB with the processor's SDK
//     client settings, at the processor's put concurrency and above;
// (b) publish acceptance: events/s accepted by POST /publish in batches of 500;
// (c) end-to-end events/s (published until processed) for 20,000 and 200,000 events, 30% duplicates,
//     in batches of 500 with 4 requests in flight;
// (d) single-event publishing: 100,000 requests of one event each, 32 in flight, 30% duplicates:
//     requests/s accepted and events/s end to end (each request becomes its own queue message);
// (e) peak RSS of the stack's processes (sampled over the whole process tree).
// Every run that processes its events checks the counts (unique == distinct, received == unique +
// duplicates). It prints a table and writes BENCHMARKS.md.
// `--skip-large`: a shorter run (about 6 minutes instead of 20-30): no 200k run, and the single-event
// scenario with 10,000 requests instead of 100,000.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import pLimit from 'p-limit';
import { requestHandlerSettings } from '../lib/app/aws.ts';
import { DynamoEventStore } from '../lib/table/events-repo.ts';
import { validatePublishRequest } from '../lib/core/publish-request.ts';
import { PUT_CONCURRENCY } from '../lib/core/processor.ts';
import type { Stats } from '../lib/api/stats.ts';
import { generateWorkload } from '../client/publisher/generate.ts';
import { runPublisher, type PublisherReport } from '../client/publisher/run.ts';
import { freePort } from '../local/ports.ts';
import { projectRoot } from '../local/service-config.ts';

const log = (line: string): void => console.log(line);

/** Resident set size (kB) of a process and all its descendants, from /proc. */
const treeRssKb = (rootPid: number): number => {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  let total = 0;
  const pending = [rootPid];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    try {
      const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      total += Number(rss?.[1] ?? 0);
    } catch {
      // gone
    }
    pending.push(...(children.get(pid) ?? []));
  }
  return total;
};

let stackOutput = '';

const startStack = async (env: Record<string, string>): Promise<ChildProcess> => {
  // The same node flags as `npm start` (package.json).
  const child = spawn(process.execPath, ['--max-old-space-size=512', '--import', 'tsx', '--disable-warning=ExperimentalWarning', 'scripts/start.ts'], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      stackOutput += chunk.toString();
      if (/^ready in/m.test(output)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the stack exited (${code}) before it was ready:\n${output}`)));
  });
  return child;
};

/** Pauses or resumes the stack's event source (SIGUSR2, see scripts/start.ts) and waits for the ack. */
const toggleEventSource = async (stack: ChildProcess, expect: 'paused' | 'resumed'): Promise<void> => {
  const seen = (stackOutput.match(new RegExp(`event source ${expect}`, 'g')) ?? []).length;
  stack.kill('SIGUSR2');
  const deadline = Date.now() + 10_000;
  while ((stackOutput.match(new RegExp(`event source ${expect}`, 'g')) ?? []).length === seen) {
    if (Date.now() > deadline) throw new Error(`the stack did not acknowledge: event source ${expect}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

interface CeilingResult {
  concurrency: number;
  puts: number;
  seconds: number;
  rate: number;
}

/**
 * Conditional PutItem through the processor's own store code (the same items, indexes included, the
 * same client settings) at a given concurrency: what the table can take when nothing else runs.
 */
const measureCeiling = async (endpoint: string, table: string, concurrency: number, puts: number): Promise<CeilingResult> => {
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 5,
      requestHandler: requestHandlerSettings(),
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  const store = new DynamoEventStore(client, table);
  const events = validatePublishRequest(
    generateWorkload({ events: puts, dupRate: 0, topics: 5, seed: concurrency, runId: `ceiling-${concurrency}` }).events,
  );
  const limit = pLimit(concurrency);
  const storedAt = new Date().toISOString();
  const started = performance.now();
  await Promise.all(events.map(({ event }, index) => limit(() => store.putIfAbsent(event, `01BENCH00000000000000000000:${index}`, storedAt))));
  const seconds = (performance.now() - started) / 1000;
  client.destroy();
  return { concurrency, puts, seconds: Number(seconds.toFixed(2)), rate: Math.round(puts / seconds) };
};

const median = <T>(items: T[], value: (item: T) => number): T =>
  [...items].sort((a, b) => value(a) - value(b))[Math.floor(items.length / 2)]!;

const fetchStats = async (url: string): Promise<Stats> => (await (await fetch(`${url}/stats`)).json()) as Stats;

/** Waits until /stats shows an empty queue (a message leaves it only once its counts are folded); returns the seconds it took. */
const waitForDrain = async (url: string, timeoutSeconds: number): Promise<number> => {
  const started = performance.now();
  for (;;) {
    const stats = await fetchStats(url);
    if (stats.queue.visible === 0 && stats.queue.in_flight === 0) return (performance.now() - started) / 1000;
    if ((performance.now() - started) / 1000 > timeoutSeconds) throw new Error('the backlog did not drain');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
};

const machine = (): string => {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} cores (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
};

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      'skip-large': { type: 'boolean', default: false },
      out: { type: 'string', default: path.join(projectRoot, 'BENCHMARKS.md') },
    },
  });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'log-aggregator-bench-'));
  const ports = { cloud: await freePort(), http: await freePort(), lambda: await freePort() };
  const env = {
    DATA_DIR: dataDir,
    CLOUD_PORT: String(ports.cloud),
    HTTP_PORT: String(ports.http),
    LAMBDA_PORT: String(ports.lambda),
    STAGE: 'bench',
    LOG_LEVEL: 'WARN',
  };
  const url = `http://127.0.0.1:${ports.http}`;
  log(`bench: ${machine()}`);
  log(`bench: starting the stack on a fresh data folder (${dataDir}) ...`);
  const stack = await startStack(env);
  let peakRssKb = 0;
  const sampler = setInterval(() => {
    peakRssKb = Math.max(peakRssKb, treeRssKb(stack.pid!));
  }, 250);

  try {

    const publish = (events: number, runId: string, wait: boolean, shape: { batch: number; concurrency: number } = { batch: 500, concurrency: 4 }) => {
      let lastShown = 0;
      const started = performance.now();
      const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(0)}s`;
      // While a long run publishes and drains, a line every 15 s shows how far processing is.
      let baseline: number | undefined;
      let publishing = true;
      void fetchStats(url).then((stats) => (baseline ??= stats.processed), () => undefined);
      const ticker = wait
        ? setInterval(() => {
            void fetchStats(url).then(
              (stats) => {
                if (baseline === undefined) return;
                const queued = stats.queue.visible + stats.queue.in_flight;
                log(`       ${elapsed()}: ${publishing ? 'publishing; ' : ''}processed ${stats.processed - baseline}/${events} events, ${queued} messages in the queue`);
              },
              () => undefined,
            );
          }, 15_000)
        : undefined;
      return runPublisher({
        url,
        events,
        dupRate: 0.3,
        topics: 5,
        batch: shape.batch,
        concurrency: shape.concurrency,
        seed: events,
        runId,
        retries: 10,
        wait,
        drainTimeoutSeconds: 1800,
        onProgress: (accepted, total) => {
          if (accepted === total) publishing = false;
          if (total >= 20_000 && (accepted - lastShown >= total / 10 || accepted === total)) {
            lastShown = accepted;
            log(`       ${elapsed()}: published ${accepted}/${total} events`);
          }
        },
        onNote: (line) => log(`       ${line}`),
      }).finally(() => clearInterval(ticker));
    };

    log('bench: warming up (2,000 events through the whole pipeline) ...');
    await publish(2_000, 'bench-warmup', true);

    // The publish path takes a few dozen requests to warm up (JIT): the first run is reported as
    // cold, and the median of the next three is compared with the target.
    log('bench: (b) publish acceptance, 4 x 20,000 events in batches of 500, processing paused ...');
    const beforeAcceptance = await fetchStats(url);
    await toggleEventSource(stack, 'paused');
    const acceptanceRuns: PublisherReport[] = [];
    for (let run = 1; run <= 4; run += 1) {
      acceptanceRuns.push(await publish(20_000, `bench-acceptance-${run}`, false));
      log(`       run ${run}: ${acceptanceRuns.at(-1)!.publish_rate} events/s (p50 ${acceptanceRuns.at(-1)!.latency_ms.p50} ms)`);
    }
    const coldAcceptance = acceptanceRuns[0]!;
    const acceptance = median(acceptanceRuns.slice(1), (report) => report.publish_rate);
    const drainStarted = performance.now();
    await toggleEventSource(stack, 'resumed');
    const drainSeconds = await waitForDrain(url, 1800);
    const drainRate = Math.round(80_000 / ((performance.now() - drainStarted) / 1000));
    log(`       backlog of 80,000 drained in ${drainSeconds.toFixed(1)}s (${drainRate} events/s)`);
    // The acceptance runs' counts, checked once their backlog is processed, as every other run's are.
    const afterAcceptance = await fetchStats(url);
    const drained = {
      received: afterAcceptance.received - beforeAcceptance.received,
      unique: afterAcceptance.unique_processed - beforeAcceptance.unique_processed,
      duplicates: afterAcceptance.duplicate_dropped - beforeAcceptance.duplicate_dropped,
    };
    const acceptanceAccepted = acceptanceRuns.reduce((sum, report) => sum + report.accepted_events, 0);
    const acceptanceDistinct = acceptanceRuns.reduce((sum, report) => sum + report.planned.distinct, 0);
    const acceptanceExact =
      drained.received === acceptanceAccepted && drained.unique === acceptanceDistinct && drained.received === drained.unique + drained.duplicates;
    log(`       counted: received ${drained.received}, unique ${drained.unique} (${acceptanceDistinct} distinct sent), duplicates ${drained.duplicates}: ${acceptanceExact ? 'exact' : 'NOT EXACT'}`);

    // The ceiling is measured on the same path the processor uses to reach DynamoDB.
    const endpoint = (JSON.parse(readFileSync(path.join(dataDir, 'endpoints.json'), 'utf8')) as { dynamodb: string }).dynamodb;
    const table = 'log-aggregator-bench-events';
    const ceilings: CeilingResult[] = [];
    for (const concurrency of [PUT_CONCURRENCY, PUT_CONCURRENCY * 4, PUT_CONCURRENCY * 8]) {
      log(`bench: (a) raw ceiling, 10,000 conditional puts at concurrency ${concurrency} ...`);
      ceilings.push(await measureCeiling(endpoint, table, concurrency, 10_000));
      log(`       ${ceilings.at(-1)!.rate} puts/s`);
    }
    const ceiling = Math.max(...ceilings.map((result) => result.rate));

    const runs: Array<{ name: string; report: PublisherReport }> = [];
    const runE2e = async (events: number, index: number, shape?: { batch: number; concurrency: number }): Promise<PublisherReport> => {
      const report = await publish(events, `bench-${events}-${shape?.batch ?? 500}-${index}`, true, shape);
      const exact = report.drained && report.invariants.unique_equals_distinct && report.invariants.received_equals_unique_plus_duplicates;
      log(
        `       end to end ${report.end_to_end_rate} events/s in ${report.end_to_end_seconds}s (publishing meanwhile at ${report.publish_rate} events/s, ` +
          `${report.requests} requests, ${report.retries} retries); counts ${exact ? 'exact' : 'NOT EXACT'}`,
      );
      return report;
    };
    // Three 20k runs (single runs vary by about 15% here), the median is reported.
    for (let index = 0; index < 3; index += 1) {
      log(`bench: (c) 20,000 events, 30% duplicates, batches of 500, 4 in flight, end to end ...`);
      runs.push({ name: `20k / 30% #${index + 1}`, report: await runE2e(20_000, index) });
    }
    // Single-event publishing: one event per request (so one queue message and one message record per
    // event), before the 200k run so that it meets about the same table size as the 20k runs.
    const singleRequests = values['skip-large'] ? 10_000 : 100_000;
    log(`bench: (d) ${singleRequests.toLocaleString('en-US')} requests of one event, 30% duplicates, 32 in flight, end to end ...`);
    const single = await runE2e(singleRequests, runs.length, { batch: 1, concurrency: 32 });
    runs.push({ name: `single events, ${singleRequests / 1000}k requests / 30%, 32 in flight #${runs.length + 1}`, report: single });
    if (!values['skip-large']) {
      log(`bench: (c) 200,000 events, 30% duplicates, batches of 500, 4 in flight, end to end ...`);
      runs.push({ name: `200k / 30% #${runs.length + 1}`, report: await runE2e(200_000, runs.length) });
    }
    clearInterval(sampler);
    peakRssKb = Math.max(peakRssKb, treeRssKb(stack.pid!));

    const small = median(runs.filter(({ report }) => report.planned.events === 20_000 && report.planned.batch === 500).map(({ report }) => report), (report) => report.end_to_end_rate ?? 0);
    const large = runs.find(({ report }) => report.planned.events === 200_000 && report.planned.batch === 500)?.report;
    const e2e = small.end_to_end_rate ?? 0;
    const rows: Array<[string, string, string, string]> = [
      ['raw ceiling: conditional PutItem/s (best of ' + ceilings.map((c) => c.concurrency).join(', ') + ' in flight)', String(ceiling), '', ''],
      ['publish acceptance, first 20k after start (cold), processing paused (events/s)', String(coldAcceptance.publish_rate), '', ''],
      ['publish acceptance, median of the next 3 x 20k, processing paused (events/s)', String(acceptance.publish_rate), '>= 10,000', acceptance.publish_rate >= 10_000 ? 'met' : 'MISSED'],
      ['publish acceptance while processing, median 20k run (events/s)', String(small.publish_rate), '', ''],
      ['backlog drain, 80k queued events (events/s)', String(drainRate), '', ''],
      ['end to end, 20k / 30%, median of 3 (events/s)', String(e2e), '>= 1,000', e2e >= 1_000 ? 'met' : 'MISSED'],
      ['end to end / raw ceiling, 20k', (e2e / ceiling).toFixed(2), '>= 0.70', e2e / ceiling >= 0.7 ? 'met' : 'MISSED'],
      [`single events: requests/s accepted while processing (${singleRequests.toLocaleString('en-US')} requests, 32 in flight)`, String(single.publish_rate), '', ''],
      ['single events: end to end (events/s)', String(single.end_to_end_rate ?? 0), '', ''],
      ['single events: end to end / raw ceiling', ((single.end_to_end_rate ?? 0) / ceiling).toFixed(2), '', ''],
    ];
    if (large) {
      rows.push(
        ['publish acceptance while processing, 200k run (events/s)', String(large.publish_rate), '', ''],
        ['end to end, 200k / 30% (events/s)', String(large.end_to_end_rate ?? 0), '', ''],
        ['end to end / raw ceiling, 200k', ((large.end_to_end_rate ?? 0) / ceiling).toFixed(2), '>= 0.70', (large.end_to_end_rate ?? 0) / ceiling >= 0.7 ? 'met' : 'MISSED'],
      );
    }
    rows.push([
      `peak RSS of the stack's processes${large ? ' (through the 200k run)' : ''} (MiB)`,
      String(Math.round(peakRssKb / 1024)),
      '<= 1,024',
      peakRssKb / 1024 <= 1024 ? 'met' : 'MISSED',
    ]);
    const correct =
      acceptanceExact &&
      runs.every(({ report }) => report.invariants.unique_equals_distinct && report.invariants.received_equals_unique_plus_duplicates && report.drained);
    const width = Math.max(...rows.map((row) => row[0].length));
    log('');
    for (const [name, value, target, verdict] of rows) log(`${name.padEnd(width)}  ${value.padStart(8)}  ${target.padEnd(9)} ${verdict}`);
    log(`counts exact in every run, the acceptance backlog included (unique == distinct, received == unique + duplicates): ${correct ? 'yes' : 'NO'}`);

    const commit = (() => {
      try {
        return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: projectRoot }).toString().trim();
      } catch {
        return 'unknown';
      }
    })();
    const markdown = [
      '# Benchmarks',
      '',
      `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}, commit ${commit}.`,
      '',
      `Machine: ${machine()}.`,
      '',
      'The stack is the embedded default (`npm start`: dynalite, fauxqs, serverless offline, the local event',
      'source) on a fresh data folder, warmed up with 2,000 events. The publisher sends batches of 500 with',
      '4 requests in flight, except in the single-event run (one event per request, 32 requests in flight).',
      'Publish acceptance is measured with the event source paused (the functions share one process, so',
      'processing slows publishing down); the end-to-end runs publish and process at the same time, from',
      'the first request until the last event is counted. All runs use 5 topics and 30% duplicates.',
      '',
      '| measure | value | target | |',
      '|---|---:|---|---|',
      ...rows.map(([name, value, target, verdict]) => `| ${name} | ${value} | ${target} | ${verdict} |`),
      '',
      `Counts exact in every run, the acceptance runs' backlog included (unique == distinct, received == unique + duplicates): ${correct ? 'yes' : 'no'}.`,
      '',
      '## Raw ceiling by concurrency',
      '',
      '| puts in flight | puts | seconds | puts/s |',
      '|---:|---:|---:|---:|',
      ...ceilings.map((c) => `| ${c.concurrency} | ${c.puts} | ${c.seconds} | ${c.rate} |`),
      '',
      '## Publish acceptance runs (processing paused)',
      '',
      '| run | events/s | p50 ms | p95 ms | p99 ms |',
      '|---:|---:|---:|---:|---:|',
      ...acceptanceRuns.map((r, i) => `| ${i + 1}${i === 0 ? ' (cold)' : ''} | ${r.publish_rate} | ${r.latency_ms.p50} | ${r.latency_ms.p95} | ${r.latency_ms.p99} |`),
      '',
      '## Runs',
      '',
      '| run | requests | accepted events | publish s | publish events/s | p50 ms | p95 ms | p99 ms | end-to-end s | end-to-end events/s | counts exact |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
      ...runs.map(
        ({ name, report }) =>
          `| ${name} | ${report.requests} | ${report.accepted_events} | ${report.publish_seconds} | ${report.publish_rate} | ${report.latency_ms.p50} | ${report.latency_ms.p95} | ${report.latency_ms.p99} | ${report.end_to_end_seconds} | ${report.end_to_end_rate} | ${report.drained && report.invariants.unique_equals_distinct && report.invariants.received_equals_unique_plus_duplicates ? 'yes' : 'NO'} |`,
      ),
      '',
      'Latencies are per request (500 events, or one in the single-event run). In the single-event run',
      'publish events/s is also requests/s.',
      '',
    ].join('\n');
    writeFileSync(values.out!, markdown + (existingAnalysis(values.out!) ?? ''));
    log(`\nwrote ${path.relative(process.cwd(), values.out!)}`);
  } finally {
    clearInterval(sampler);
    stack.kill('SIGINT');
    await new Promise((resolve) => stack.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
};

/** Keeps the hand-written analysis (everything from "## Where the time goes") across runs. */
const existingAnalysis = (file: string): string | undefined => {
  try {
    const text = readFileSync(file, 'utf8');
    const at = text.indexOf('## Where the time goes');
    return at >= 0 ? `\n${text.slice(at)}` : undefined;
  } catch {
    return undefined;
  }
};

main().catch((error: unknown) => {
  console.error(`bench failed: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
