// `npm run bench`: starts the embedded stack on a fresh data folder and measures, in one run,
// (a) the raw ceiling: conditional PutItem/s against the embedded DynamoDB with the processor's SDK
//     client settings, at the processor's put concurrency and above;
// (b) publish acceptance: events/s accepted by POST /publish in batches of 500;
// (c) end-to-end events/s (published until processed) for 20,000 and 200,000 events, 30% duplicates,
//     in batches of 500 with 4 requests in flight;
// (d) single-event publishing: 100,000 requests of one event each, 32 in flight, 30% duplicates:
//     requests/s accepted and events/s end to end (concurrent requests share queue messages,
//     lib/queue/coalesce.ts; the bench reports how many messages they became);
// (f) OTLP ingestion: 20,000 log records through the OpenTelemetry SDK (batches of 512, OTLP/HTTP
//     protobuf, gzip), 30% re-emitted with the same log.record.uid, end to end, each run right after
//     a 20k JSON API run (alternated pairs), against the target of 0.8x the JSON API's events/s;
// (e) peak PSS of the stack's processes (sampled over the whole process tree), the CPU seconds the
//     functions' process and the local cloud's process use in each end-to-end run, and the duration
//     of every processor invocation against its timeout (from the event source's log), in one 20k
//     run with a busy loop on one of the two cores too.
// Every run that processes its events checks the counts (unique == distinct, received == unique +
// duplicates). It prints a table and writes BENCHMARKS.md.
// (f) what it would cost on AWS (scripts/bench/cost.ts): the local cloud's meter over the first 20k run
//     and over /events pages, priced per million events.
// `--skip-large`: a shorter run (about 6 minutes instead of 20-30): no 200k run, and the single-event
// scenario with 10,000 requests instead of 100,000. `--cost-only`: only (f) (a few minutes), written
// into BENCHMARKS.md's cost section.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { readStackFile } from '../local/running-stack.ts';
import { loadServiceConfig, memoryOf, projectRoot } from '../local/service-config.ts';
import { costMarkdown, measurePages, publishCost, readMeter, resetMeter, withCostSection, type PageCost, type RunCost } from './bench/cost.ts';
import { runOtlpEndToEnd, type OtlpRun } from './bench/otlp.ts';
import { processCpuSeconds, processTree } from './bench/proc.ts';

const log = (line: string): void => console.log(line);

interface MemoryKb {
  rss: number;
  /** Proportional set size: shared pages divided among the processes that map them. */
  pss: number;
  /** PSS of anonymous memory (heaps, native allocations). */
  pssAnon: number;
  /** PSS of file pages: mostly dynalite's LevelDB table files, which it maps into memory to read them. */
  pssFile: number;
  /** PSS of the functions' process (serverless offline) and of the local cloud's process. */
  functions: number;
  cloud: number;
}

/** Memory (kB) of a process and all its descendants, from /proc/<pid>/smaps_rollup. */
const treeMemoryKb = (rootPid: number): MemoryKb => {
  const total: MemoryKb = { rss: 0, pss: 0, pssAnon: 0, pssFile: 0, functions: 0, cloud: 0 };
  for (const pid of processTree(rootPid)) {
    try {
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? 0);
      total.rss += field('Rss');
      total.pss += field('Pss');
      if (pid === rootPid) total.cloud += field('Pss');
      else if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('offline')) total.functions += field('Pss');
      total.pssAnon += field('Pss_Anon');
      total.pssFile += field('Pss_File');
    } catch {
      // gone
    }
  }
  return total;
};

interface CpuSnapshot {
  /** serverless offline: every function. */
  functions: number;
  /** The stack's own process: dynalite, fauxqs, the gateway and the event source. */
  cloud: number;
  /** Every process of the stack. */
  stack: number;
  /** This process: the publisher and the ceiling's client. */
  own: number;
  /** All CPUs of the machine, busy time. */
  machine: number;
}

const cpuSnapshot = (stackPid: number): CpuSnapshot => {
  let functions = 0;
  let stack = 0;
  for (const pid of processTree(stackPid)) {
    const seconds = processCpuSeconds(pid);
    stack += seconds;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('offline')) functions += seconds;
    } catch {
      // gone
    }
  }
  // /proc/stat: user nice system idle iowait irq softirq steal, in ticks of 1/100 s
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const machine = (user! + nice! + system! + irq! + softirq! + steal!) / 100;
  const { user: ownUser, system: ownSystem } = process.cpuUsage();
  return { functions, cloud: processCpuSeconds(stackPid), stack, own: (ownUser + ownSystem) / 1e6, machine };
};

interface CpuUse {
  functions: number;
  cloud: number;
  /** CPU seconds used meanwhile by processes that are neither the stack nor the benchmark: disturbance. */
  other: number;
}

const cpuSince = (before: CpuSnapshot, after: CpuSnapshot): CpuUse => ({
  functions: after.functions - before.functions,
  cloud: after.cloud - before.cloud,
  other: Math.max(0, after.machine - before.machine - (after.stack - before.stack) - (after.own - before.own)),
});

/** Messages the processor failed (and left to the queue to deliver again), from the functions' log. */
const processorFailures = (dataDir: string): number => {
  try {
    return (readFileSync(path.join(dataDir, 'logs', 'offline.log'), 'utf8').match(/"message":"(record failed|fold failed)/g) ?? []).length;
  } catch {
    return 0;
  }
};

let stackOutput = '';

const startStack = async (env: Record<string, string>): Promise<ChildProcess> => {
  // The same node flags as `npm start` (package.json).
  const child = spawn(process.execPath, ['--max-old-space-size=512', '--max-semi-space-size=32', '--import', 'tsx', '--disable-warning=ExperimentalWarning', 'scripts/start.ts'], {
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
  /** CPU used meanwhile by processes that are neither the stack nor the benchmark, in cores. */
  otherCores?: number;
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
      maxAttempts: 4,
      requestHandler: requestHandlerSettings('batch'),
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

/** How the publisher sends: events per request, requests in flight, retries per request. */
interface Shape {
  batch: number;
  concurrency: number;
  retries: number;
}
const BATCHED: Shape = { batch: 500, concurrency: 4, retries: 10 };
/**
 * One event per request, 32 in flight. This run publishes faster than it processes, so the queue
 * reaches its backlog limit and publish answers 429 until processing catches up: the publisher keeps
 * retrying (exponential backoff up to 5 s), as a client facing backpressure should, instead of
 * giving up after 10 tries.
 */
const SINGLE: Shape = { batch: 1, concurrency: 32, retries: 200 };

const median = <T>(items: T[], value: (item: T) => number): T =>
  [...items].sort((a, b) => value(a) - value(b))[Math.floor(items.length / 2)]!;

const fetchStats = async (url: string): Promise<Stats> => (await (await fetch(`${url}/stats`)).json()) as Stats;

/** Waits until /stats shows an empty queue (a message leaves it only once its counts are folded); returns the seconds it took. */
const waitForDrain = async (url: string, timeoutSeconds: number): Promise<number> => {
  const started = performance.now();
  let lastShown = started;
  for (;;) {
    const stats = await fetchStats(url);
    if (stats.queue.visible === 0 && stats.queue.in_flight === 0) return (performance.now() - started) / 1000;
    if (performance.now() - lastShown >= 15_000) {
      lastShown = performance.now();
      log(`       ${((lastShown - started) / 1000).toFixed(0)}s: draining, ${stats.queue.visible + stats.queue.in_flight} messages in the queue`);
    }
    if ((performance.now() - started) / 1000 > timeoutSeconds) throw new Error('the backlog did not drain');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
};

interface Invocations {
  count: number;
  p50: number;
  p99: number;
  max: number;
  /** Invocations that ran into the function's timeout (serverless offline answers with an error). */
  timeouts: number;
  timeoutMs: number;
  /** Every invocation's duration, summed (Lambda bills them). */
  totalMs: number;
}

/** The processor's invocations that ended between two instants, from the event source's log (local/stack.ts). */
const invocationsBetween = (dataDir: string, from: number, to: number): Invocations => {
  let lines: string[] = [];
  try {
    lines = readFileSync(path.join(dataDir, 'logs', 'invocations.log'), 'utf8').split('\n').filter(Boolean);
  } catch {
    // no invocation yet
  }
  const entries = lines
    .map((line) => JSON.parse(line) as { at: string; ms: number; timeout_ms: number; error?: string })
    .filter((entry) => Date.parse(entry.at) >= from && Date.parse(entry.at) <= to);
  const durations = entries.map((entry) => entry.ms).sort((a, b) => a - b);
  const at = (q: number): number => durations[Math.min(durations.length - 1, Math.floor(q * durations.length))] ?? 0;
  return {
    count: durations.length,
    p50: at(0.5),
    p99: at(0.99),
    max: durations.at(-1) ?? 0,
    // serverless offline answers "[504] - Lambda timeout." when the handler runs past its timeout.
    timeouts: entries.filter((entry) => /timed? ?out/i.test(entry.error ?? '') || entry.ms >= entry.timeout_ms).length,
    timeoutMs: entries[0]?.timeout_ms ?? 0,
    totalMs: durations.reduce((sum, ms) => sum + ms, 0),
  };
};

const machine = (): string => {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} cores (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
};

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      'skip-large': { type: 'boolean', default: false },
      'cost-only': { type: 'boolean', default: false },
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
  let peak: MemoryKb = { rss: 0, pss: 0, pssAnon: 0, pssFile: 0, functions: 0, cloud: 0 };
  const sampleMemory = (): void => {
    const now = treeMemoryKb(stack.pid!);
    if (now.pss > peak.pss) peak = now;
  };
  const sampler = setInterval(sampleMemory, 500);

  try {

    const publish = (events: number, runId: string, wait: boolean, shape: Shape = BATCHED) => {
      const started = performance.now();
      let lastShown = started;
      let retryNotes = 0;
      let lastRetryShown = 0;
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
        retries: shape.retries,
        wait,
        drainTimeoutSeconds: 1800,
        onProgress: (accepted, total) => {
          if (accepted === total) publishing = false;
          // A line at most every 10 s, and one when all are accepted.
          if (total >= 20_000 && (performance.now() - lastShown >= 10_000 || accepted === total)) {
            lastShown = performance.now();
            log(`       ${elapsed()}: published ${accepted}/${total} events`);
          }
        },
        onNote: (line) => {
          // Retries (a 429 while the queue is over its backlog limit, say) are summed up, not listed.
          if (!line.startsWith('retrying')) return log(`       ${line}`);
          retryNotes += 1;
          if (performance.now() - lastRetryShown >= 10_000) {
            lastRetryShown = performance.now();
            log(`       ${elapsed()}: ${retryNotes} request(s) retried so far, e.g. ${line.slice(0, 160)}`);
          }
        },
      }).finally(() => clearInterval(ticker));
    };

    log('bench: warming up (2,000 events through the whole pipeline) ...');
    await publish(2_000, 'bench-warmup', true);

    // (f) The cost meter over one 20k end-to-end run, and over /events pages.
    const cloudEndpoint = readStackFile(dataDir)?.cloud;
    if (!cloudEndpoint) throw new Error(`the stack wrote no endpoints.json into ${dataDir}: it did not start, or it writes another format (local/running-stack.ts)`);
    const service = await loadServiceConfig({ stage: 'bench' });
    let meteredRun: RunCost | undefined;
    const metered = async (run: () => Promise<PublisherReport>): Promise<PublisherReport> => {
      await resetMeter(cloudEndpoint);
      const startedAt = Date.now();
      const before = await fetchStats(url);
      const report = await run();
      const after = await fetchStats(url);
      const invocations = invocationsBetween(dataDir, startedAt, Date.now() + 1000);
      meteredRun = {
        events: after.received - before.received,
        stored: after.unique_processed - before.unique_processed,
        meter: await readMeter(cloudEndpoint),
        process: { invocations: invocations.count, totalMs: invocations.totalMs, memoryMb: memoryOf(service, 'process') },
        publish: publishCost(report, memoryOf(service, 'publish')),
      };
      log(`       metered: ${(meteredRun.meter.dynamodb.write_units / meteredRun.stored).toFixed(2)} write units per stored event, ${(meteredRun.meter.dynamodb.read_units / meteredRun.events).toFixed(2)} read units per event`);
      return report;
    };
    const measurePageCosts = async (): Promise<PageCost[]> => {
      log('bench: (f) read units per /events page ...');
      const memory = memoryOf(service, 'events');
      return [await measurePages(url, cloudEndpoint, { topic: 'orders', limit: '100' }, 20, memory), await measurePages(url, cloudEndpoint, { limit: '100' }, 20, memory)];
    };
    const costShape = 'the first 20k run (batches of 500, 4 in flight, 30% duplicates, 5 topics)';
    if (values['cost-only']) {
      log('bench: (f) 20,000 events, 30% duplicates, batches of 500, 4 in flight, end to end, metered ...');
      await metered(() => publish(20_000, 'bench-cost', true));
      const section = costMarkdown(meteredRun!, await measurePageCosts(), costShape, `\`npm run bench -- --cost-only\` on ${new Date().toISOString().slice(0, 10)}, commit ${commitOf()}`);
      for (const line of section) log(line);
      writeFileSync(values.out!, withCostSection(readFileSync(values.out!, 'utf8'), section));
      log(`\nwrote the cost section of ${path.relative(process.cwd(), values.out!)}`);
      return;
    }

    const otherCoresOf = new Map<PublisherReport, number>();
    /** Publishes `runs` runs with the event source paused, then resumes it and measures the drain; checks the counts. */
    const publishPaused = async (runs: number, events: number, shape: Shape, label: string) => {
      const before = await fetchStats(url);
      await toggleEventSource(stack, 'paused');
      const reports: PublisherReport[] = [];
      for (let run = 1; run <= runs; run += 1) {
        const cpuBefore = cpuSnapshot(stack.pid!);
        const report = await publish(events, `bench-${label}-${run}`, false, shape);
        otherCoresOf.set(report, cpuSince(cpuBefore, cpuSnapshot(stack.pid!)).other / report.publish_seconds);
        reports.push(report);
        log(
          `       run ${run}: ${report.publish_rate} events/s (${report.requests} requests, p50 ${report.latency_ms.p50} ms, ${report.retries} retries; ` +
            `other processes ${otherCoresOf.get(report)!.toFixed(2)} cores)`,
        );
      }
      const total = runs * events;
      // How many messages the requests became (concurrent requests share messages: lib/queue/coalesce.ts).
      const queuedMessages = (await fetchStats(url)).queue.visible;
      const cpuBefore = cpuSnapshot(stack.pid!);
      const failuresBefore = processorFailures(dataDir);
      const drainStarted = performance.now();
      await toggleEventSource(stack, 'resumed');
      const drainSeconds = await waitForDrain(url, 1800);
      const drainRate = Math.round(total / ((performance.now() - drainStarted) / 1000));
      const cpu = { ...cpuSince(cpuBefore, cpuSnapshot(stack.pid!)), failures: processorFailures(dataDir) - failuresBefore };
      log(
        `       backlog of ${total.toLocaleString('en-US')} events drained in ${drainSeconds.toFixed(1)}s (${drainRate} events/s); CPU: functions ${cpu.functions.toFixed(1)} s, ` +
          `local cloud ${cpu.cloud.toFixed(1)} s; other processes ${(cpu.other / drainSeconds).toFixed(2)} cores; ${cpu.failures} message(s) failed and retried`,
      );
      // Counts checked once the backlog is processed, as every other run's are.
      const after = await fetchStats(url);
      const counted = {
        received: after.received - before.received,
        unique: after.unique_processed - before.unique_processed,
        duplicates: after.duplicate_dropped - before.duplicate_dropped,
      };
      const accepted = reports.reduce((sum, report) => sum + report.accepted_events, 0);
      const distinct = reports.reduce((sum, report) => sum + report.planned.distinct, 0);
      const exact = accepted === total && counted.received === accepted && counted.unique === distinct && counted.received === counted.unique + counted.duplicates;
      log(`       counted: received ${counted.received}, unique ${counted.unique} (${distinct} distinct sent), duplicates ${counted.duplicates}: ${exact ? 'exact' : 'NOT EXACT'}`);
      return { reports, drainSeconds, drainRate, exact, cpu, queuedMessages };
    };

    // The publish path takes a few dozen requests to warm up (JIT): the first run is reported as
    // cold, and the median of the next three is compared with the target.
    log('bench: (b) publish acceptance, 4 x 20,000 events in batches of 500, processing paused ...');
    const batched = await publishPaused(4, 20_000, BATCHED, 'acceptance');
    const acceptanceRuns = batched.reports;
    const coldAcceptance = acceptanceRuns[0]!;
    const acceptance = median(acceptanceRuns.slice(1), (report) => report.publish_rate);
    const drainRate = batched.drainRate;

    // The ceiling is measured on the same path the processor uses to reach DynamoDB.
    const endpoint = readStackFile(dataDir)!.dynamodb;
    const table = 'log-aggregator-bench-events';
    const ceilings: CeilingResult[] = [];
    for (const concurrency of [PUT_CONCURRENCY, PUT_CONCURRENCY * 4, PUT_CONCURRENCY * 8]) {
      log(`bench: (a) raw ceiling, 10,000 conditional puts at concurrency ${concurrency} ...`);
      const before = cpuSnapshot(stack.pid!);
      const result = await measureCeiling(endpoint, table, concurrency, 10_000);
      result.otherCores = cpuSince(before, cpuSnapshot(stack.pid!)).other / result.seconds;
      ceilings.push(result);
      log(`       ${result.rate} puts/s (other processes ${result.otherCores.toFixed(2)} cores)`);
    }
    const ceiling = Math.max(...ceilings.map((result) => result.rate));

    const runs: Array<{ name: string; report: PublisherReport }> = [];
    const cpuOf = new Map<PublisherReport, CpuUse & { failures: number }>();
    const invocationsOf = new Map<PublisherReport, Invocations>();
    const runE2e = async (events: number, index: number, shape: Shape = BATCHED): Promise<PublisherReport> => {
      const cpuBefore = cpuSnapshot(stack.pid!);
      const failuresBefore = processorFailures(dataDir);
      const startedAt = Date.now();
      const report = await publish(events, `bench-${events}-${shape.batch}-${index}`, true, shape);
      const cpu = { ...cpuSince(cpuBefore, cpuSnapshot(stack.pid!)), failures: processorFailures(dataDir) - failuresBefore };
      cpuOf.set(report, cpu);
      const invocations = invocationsBetween(dataDir, startedAt, Date.now() + 1000);
      invocationsOf.set(report, invocations);
      log(
        `       ${invocations.count} invocations of the processor: p50 ${invocations.p50} ms, p99 ${invocations.p99} ms, max ${invocations.max} ms ` +
          `(timeout ${invocations.timeoutMs} ms); ${invocations.timeouts} timed out`,
      );
      log(
        `       CPU: functions ${cpu.functions.toFixed(1)} s, local cloud ${cpu.cloud.toFixed(1)} s (${((cpu.functions * 1000) / events).toFixed(2)} + ${((cpu.cloud * 1000) / events).toFixed(2)} ms per event); ` +
          `other processes ${(cpu.other / (report.end_to_end_seconds ?? 1)).toFixed(2)} cores; ${cpu.failures} message(s) failed and retried`,
      );
      const exact = report.drained && report.invariants.unique_equals_distinct && report.invariants.received_equals_unique_plus_duplicates;
      log(
        `       end to end ${report.end_to_end_rate} events/s in ${report.end_to_end_seconds}s (publishing meanwhile at ${report.publish_rate} events/s, ` +
          `${report.requests} requests, ${report.retries} retries); counts ${exact ? 'exact' : 'NOT EXACT'}`,
      );
      return report;
    };
    // Three 20k runs (single runs vary by about 15% here), the median is reported. Each is followed by
    // a 20k OTLP run, so that the two protocols are compared in alternated pairs on the same machine.
    const otlpRuns: Array<OtlpRun & { pairedWith: PublisherReport; cpu: CpuUse }> = [];
    for (let index = 0; index < 3; index += 1) {
      log(`bench: (c) 20,000 events, 30% duplicates, batches of 500, 4 in flight, end to end ...`);
      const run = (): Promise<PublisherReport> => runE2e(20_000, index);
      const json = index === 0 ? await metered(run) : await run();
      runs.push({ name: `20k / 30% #${index + 1}`, report: json });
      log(`bench: (f) 20,000 OTLP log records (OpenTelemetry SDK, batches of 512, protobuf, gzip), 30% re-emitted, end to end ...`);
      const cpuBefore = cpuSnapshot(stack.pid!);
      const otlp = await runOtlpEndToEnd({ url, records: 20_000, dupRate: 0.3, runId: `bench-otlp-${index}`, log });
      const cpu = cpuSince(cpuBefore, cpuSnapshot(stack.pid!));
      otlpRuns.push({ ...otlp, pairedWith: json, cpu });
      log(
        `       end to end ${otlp.rate} records/s in ${otlp.seconds}s (${otlp.exports} exports); ${(((cpu.functions + cpu.cloud) * 1000) / otlp.records).toFixed(2)} ms CPU per record; ` +
          `${(otlp.rate / (json.end_to_end_rate ?? 1)).toFixed(2)}x the JSON run before it; counts ${otlp.exact ? 'exact' : `NOT EXACT (${JSON.stringify(otlp.counted)})`}`,
      );
    }
    // The same run with a CPU hog on one of the two cores: the processor must still finish every
    // invocation well inside its timeout (the issue that made a 20k run take 193 s).
    log('bench: (c) 20,000 events, 30% duplicates, with a CPU hog (a busy loop) on one core, end to end ...');
    const hog = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    let hogRun: PublisherReport;
    try {
      hogRun = await runE2e(20_000, runs.length);
    } finally {
      hog.kill('SIGKILL');
    }
    runs.push({ name: `20k / 30% with a CPU hog on one core #${runs.length + 1}`, report: hogRun });
    // Single-event publishing: one event per request (so one queue message and one message record per
    // event), before the 200k run so that it meets about the same table size as the 20k runs. First
    // what publish and processing each manage alone (processing paused, then the backlog drained, well
    // under the queue's backlog limit), then the 100,000 requests end to end.
    const pausedSingleRequests = 20_000;
    log(`bench: (d) ${pausedSingleRequests.toLocaleString('en-US')} requests of one event, 32 in flight, processing paused, then drained ...`);
    const pausedSingle = await publishPaused(1, pausedSingleRequests, SINGLE, 'single-acceptance');
    // One request at a time never shares a message: each event is its own message, as every request is
    // on Lambda (one request per container). Its drain is what processing one-event messages costs.
    const lambdaLikeRequests = 5_000;
    log(`bench: (d) ${lambdaLikeRequests.toLocaleString('en-US')} requests of one event, one at a time (one message each, as on Lambda), processing paused, then drained ...`);
    const lambdaLike = await publishPaused(1, lambdaLikeRequests, { batch: 1, concurrency: 1, retries: 10 }, 'single-one-at-a-time');
    const singleRequests = values['skip-large'] ? 10_000 : 100_000;
    log(`bench: (d) ${singleRequests.toLocaleString('en-US')} requests of one event, 30% duplicates, 32 in flight, end to end ...`);
    const single = await runE2e(singleRequests, runs.length, SINGLE);
    runs.push({ name: `single events, ${singleRequests / 1000}k requests / 30%, 32 in flight #${runs.length + 1}`, report: single });
    if (!values['skip-large']) {
      log(`bench: (c) 200,000 events, 30% duplicates, batches of 500, 4 in flight, end to end ...`);
      runs.push({ name: `200k / 30% #${runs.length + 1}`, report: await runE2e(200_000, runs.length) });
    }
    const pageCosts = await measurePageCosts();
    clearInterval(sampler);
    sampleMemory();

    const small = median(runs.filter(({ report }) => report !== hogRun && report.planned.events === 20_000 && report.planned.batch === 500).map(({ report }) => report), (report) => report.end_to_end_rate ?? 0);
    const cpuPerEvent = (report: PublisherReport): number => {
      const cpu = cpuOf.get(report)!;
      return ((cpu.functions + cpu.cloud) * 1000) / report.accepted_events;
    };
    const verdict = (met: boolean): string => (met ? 'met' : 'MISSED');
    const hogInvocations = invocationsOf.get(hogRun)!;
    const large = runs.find(({ report }) => report.planned.events === 200_000 && report.planned.batch === 500)?.report;
    const e2e = small.end_to_end_rate ?? 0;
    const rows: Array<[string, string, string, string]> = [
      ['raw ceiling: conditional PutItem/s (best of ' + ceilings.map((c) => c.concurrency).join(', ') + ' in flight)', String(ceiling), '', ''],
      ['publish acceptance, first 20k after start (cold), processing paused (events/s)', String(coldAcceptance.publish_rate), '', ''],
      ['publish acceptance, median of the next 3 x 20k, processing paused (events/s)', String(acceptance.publish_rate), '>= 10,000', acceptance.publish_rate >= 10_000 ? 'met' : 'MISSED'],
      ['backlog drain, 80k queued events (events/s)', String(drainRate), '', ''],
      ['publish acceptance while processing, in the median 20k run (events/s)', String(small.publish_rate), '>= 10,000', verdict(small.publish_rate >= 10_000)],
      ['end to end, 20k / 30%, median of 3 (events/s)', String(e2e), '>= 2,000', verdict(e2e >= 2_000)],
      ['CPU per event end to end, all stack processes, median 20k run (ms)', cpuPerEvent(small).toFixed(2), '<= 1.0', verdict(cpuPerEvent(small) <= 1.0)],
      ['end to end / raw ceiling, 20k', (e2e / ceiling).toFixed(2), '>= 0.70', e2e / ceiling >= 0.7 ? 'met' : 'MISSED'],
      [`single events: requests/s accepted, processing paused (${pausedSingleRequests.toLocaleString('en-US')} requests, 32 in flight)`, String(pausedSingle.reports[0]!.publish_rate), '', ''],
      [`single events: backlog drain, ${pausedSingleRequests.toLocaleString('en-US')} queued events in ${pausedSingle.queuedMessages.toLocaleString('en-US')} messages (events/s)`, String(pausedSingle.drainRate), '', ''],
      [`single events sent one at a time (one message each, as on Lambda): backlog drain, ${lambdaLike.queuedMessages.toLocaleString('en-US')} messages (events/s)`, String(lambdaLike.drainRate), '', ''],
      [`single events: requests/s accepted while processing (${singleRequests.toLocaleString('en-US')} requests, 32 in flight)`, String(single.publish_rate), '', ''],
      [`single events: end to end, ${singleRequests.toLocaleString('en-US')} requests / 30% (events/s)`, String(single.end_to_end_rate ?? 0), '>= 600', verdict((single.end_to_end_rate ?? 0) >= 600)],
      ['single events: CPU per event end to end, all stack processes (ms)', cpuPerEvent(single).toFixed(2), '<= 3.0', verdict(cpuPerEvent(single) <= 3)],
      [
        `processor invocations in the CPU-hog run: p99 / timeout (${hogInvocations.count} invocations, p99 ${hogInvocations.p99} ms, timeout ${hogInvocations.timeoutMs} ms)`,
        (hogInvocations.p99 / Math.max(1, hogInvocations.timeoutMs)).toFixed(3),
        '<= 0.333',
        verdict(hogInvocations.p99 * 3 <= hogInvocations.timeoutMs),
      ],
      ['processor invocations that timed out, all runs', String(runs.reduce((sum, { report }) => sum + invocationsOf.get(report)!.timeouts, 0)), '0', verdict(runs.every(({ report }) => invocationsOf.get(report)!.timeouts === 0))],
      ['single events: end to end / raw ceiling', ((single.end_to_end_rate ?? 0) / ceiling).toFixed(2), '', ''],
    ];
    if (large) {
      rows.push(
        ['publish acceptance while processing, 200k run (events/s)', String(large.publish_rate), '', ''],
        ['end to end, 200k / 30% (events/s)', String(large.end_to_end_rate ?? 0), '', ''],
        ['end to end / raw ceiling, 200k', ((large.end_to_end_rate ?? 0) / ceiling).toFixed(2), '>= 0.70', (large.end_to_end_rate ?? 0) / ceiling >= 0.7 ? 'met' : 'MISSED'],
        ['CPU per event end to end, all stack processes, 200k run (ms)', cpuPerEvent(large).toFixed(2), '<= 1.2', verdict(cpuPerEvent(large) <= 1.2)],
      );
    }
    const otlpMedian = median(otlpRuns, (run) => run.rate);
    const otlpRatio = otlpMedian.rate / Math.max(1, e2e);
    const otlpCpu = ((otlpMedian.cpu.functions + otlpMedian.cpu.cloud) * 1000) / otlpMedian.records;
    rows.push(
      ['OTLP/protobuf end to end, 20k records / 30% re-emitted, median of 3 (records/s)', String(otlpMedian.rate), '', ''],
      ['OTLP / JSON API end to end, median OTLP run over median 20k JSON run', otlpRatio.toFixed(2), '>= 0.80', verdict(otlpRatio >= 0.8)],
      ['OTLP CPU per record end to end, all stack processes, median run (ms)', otlpCpu.toFixed(2), '', ''],
    );
    const mib = (kb: number): string => String(Math.round(kb / 1024));
    rows.push(
      [`peak PSS of the stack's processes${large ? ' (through the 200k run)' : ''} (MiB)`, mib(peak.pss), '<= 400', verdict(peak.pss / 1024 <= 400)],
      ['  of which anonymous memory (heaps, native allocations) (MiB)', mib(peak.pssAnon), '', ''],
      ["  of which file pages (dynalite's LevelDB tables mapped to read them, binaries) (MiB)", mib(peak.pssFile), '', ''],
      ['  of which the functions\' process (serverless offline) (MiB)', mib(peak.functions), '', ''],
      ["  of which the local cloud's process (dynalite, fauxqs, gateway, event source) (MiB)", mib(peak.cloud), '', ''],
      ['RSS at that peak (MiB)', mib(peak.rss), '', ''],
    );
    const correct =
      batched.exact &&
      otlpRuns.every((run) => run.exact) &&
      pausedSingle.exact &&
      lambdaLike.exact &&
      runs.every(({ report }) => report.invariants.unique_equals_distinct && report.invariants.received_equals_unique_plus_duplicates && report.drained);
    const width = Math.max(...rows.map((row) => row[0].length));
    log('');
    for (const [name, value, target, verdict] of rows) log(`${name.padEnd(width)}  ${value.padStart(8)}  ${target.padEnd(9)} ${verdict}`);
    log(`counts exact in every run, the acceptance backlog included (unique == distinct, received == unique + duplicates): ${correct ? 'yes' : 'NO'}`);

    const commit = commitOf();
    const markdown = [
      '# Benchmarks',
      '',
      `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}, commit ${commit}.`,
      '',
      `Machine: ${machine()}.`,
      '',
      'The stack is the embedded default (`npm start`: dynalite, fauxqs, serverless offline, the local event',
      'source) on a fresh data folder, warmed up with 2,000 events. The publisher sends batches of 500 with',
      '4 requests in flight, except in the single-event runs (one event per request, 32 requests in flight,',
      'or one request at a time). One 20k run has a busy loop on one of the two cores meanwhile.',
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
      '| puts in flight | puts | seconds | puts/s | other processes (cores) |',
      '|---:|---:|---:|---:|---:|',
      ...ceilings.map((c) => `| ${c.concurrency} | ${c.puts} | ${c.seconds} | ${c.rate} | ${(c.otherCores ?? 0).toFixed(2)} |`),
      '',
      '## Publish acceptance runs (processing paused)',
      '',
      '| run | requests | events/s | p50 ms | p95 ms | p99 ms | retries | other processes (cores) |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...acceptanceRuns.map(
        (r, i) =>
          `| 20k in batches of 500, ${i + 1}${i === 0 ? ' (cold)' : ''} | ${r.requests} | ${r.publish_rate} | ${r.latency_ms.p50} | ${r.latency_ms.p95} | ${r.latency_ms.p99} | ${r.retries} | ${otherCoresOf.get(r)!.toFixed(2)} |`,
      ),
      ...pausedSingle.reports.map(
        (r) =>
          `| ${pausedSingleRequests / 1000}k single events, 32 in flight | ${r.requests} | ${r.publish_rate} | ${r.latency_ms.p50} | ${r.latency_ms.p95} | ${r.latency_ms.p99} | ${r.retries} | ${otherCoresOf.get(r)!.toFixed(2)} |`,
      ),
      ...lambdaLike.reports.map(
        (r) =>
          `| ${lambdaLikeRequests / 1000}k single events, one at a time | ${r.requests} | ${r.publish_rate} | ${r.latency_ms.p50} | ${r.latency_ms.p95} | ${r.latency_ms.p99} | ${r.retries} | ${otherCoresOf.get(r)!.toFixed(2)} |`,
      ),
      '',
      '## Backlog drains (processing alone)',
      '',
      '| backlog | seconds | events/s | functions CPU s | local cloud CPU s | other processes (cores) | messages failed and retried |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...[
        [`${acceptanceRuns.length * 20_000} events in messages of 500`, batched] as const,
        [`${pausedSingleRequests} one-event requests in ${pausedSingle.queuedMessages} messages`, pausedSingle] as const,
        [`${lambdaLikeRequests} one-event requests sent one at a time, in ${lambdaLike.queuedMessages} messages`, lambdaLike] as const,
      ].map(
        ([name, d]) =>
          `| ${name} | ${d.drainSeconds.toFixed(1)} | ${d.drainRate} | ${d.cpu.functions.toFixed(1)} | ${d.cpu.cloud.toFixed(1)} | ${(d.cpu.other / d.drainSeconds).toFixed(2)} | ${d.cpu.failures} |`,
      ),
      '',
      '## Runs',
      '',
      '| run | requests | retries | accepted events | publish s | publish events/s | p50 ms | p95 ms | p99 ms | end-to-end s | end-to-end events/s | counts exact |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
      ...runs.map(
        ({ name, report }) =>
          `| ${name} | ${report.requests} | ${report.retries} | ${report.accepted_events} | ${report.publish_seconds} | ${report.publish_rate} | ${report.latency_ms.p50} | ${report.latency_ms.p95} | ${report.latency_ms.p99} | ${report.end_to_end_seconds} | ${report.end_to_end_rate} | ${report.drained && report.invariants.unique_equals_distinct && report.invariants.received_equals_unique_plus_duplicates ? 'yes' : 'NO'} |`,
      ),
      '',
      'Latencies are per request (500 events, or one in the single-event run). In the single-event run',
      'publish events/s is also requests/s. Requests include retries; a retry follows a 429 (the queue',
      'holds more messages than the backlog limit, 50,000 by default) or a 5xx.',
      '',
      '## OTLP ingestion, in pairs with the JSON API',
      '',
      'Each OTLP run follows a 20k JSON API run on the same stack: 20,000 log records emitted through the',
      'OpenTelemetry JS SDK (`BatchLogRecordProcessor`, batches of 512) and exported by its OTLP/HTTP',
      'protobuf exporter with gzip (one export in flight, as the SDK sends), 6,000 of them re-emitted',
      'with the `log.record.uid` of an earlier one; from the first record emitted until the last is counted.',
      '',
      '| pair | JSON API events/s | OTLP records/s | OTLP / JSON | exports | OTLP CPU ms/record | counts exact |',
      '|---|---:|---:|---:|---:|---:|---|',
      ...otlpRuns.map(
        (run, i) =>
          `| ${i + 1} | ${run.pairedWith.end_to_end_rate} | ${run.rate} | ${(run.rate / (run.pairedWith.end_to_end_rate ?? 1)).toFixed(2)} | ${run.exports} | ${(((run.cpu.functions + run.cpu.cloud) * 1000) / run.records).toFixed(2)} | ${run.exact ? 'yes' : 'NO'} |`,
      ),
      '',
      '## CPU per run',
      '',
      'CPU seconds used during each end-to-end run by the functions\' process (serverless offline: publish,',
      'process, stats) and by the local cloud\'s process (dynalite, fauxqs, the gateway, the event source),',
      'read from /proc; the machine has 2 cores, so 2 CPU seconds per second is everything. "Other',
      'processes" is the machine\'s busy time that was neither the stack nor the benchmark, in cores on',
      'average: anything above a few hundredths means something else ran and the run was disturbed.',
      '"Failed and retried" counts messages the processor gave back to the queue (its warnings); each',
      'comes back only after the queue\'s visibility timeout. The invocation columns are the processor\'s',
      'invocations by the local event source during the run (from its log, `logs/invocations.log`), and',
      'how many ran into the function\'s timeout.',
      '',
      '| run | wall s | functions CPU s | local cloud CPU s | functions ms/event | local cloud ms/event | total ms/event | other processes (cores) | messages failed and retried | invocations | p50 ms | p99 ms | max ms | timed out |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...runs.map(({ name, report }) => {
        const cpu = cpuOf.get(report)!;
        const perEvent = (seconds: number): string => ((seconds * 1000) / report.accepted_events).toFixed(2);
        const inv = invocationsOf.get(report)!;
        return `| ${name} | ${report.end_to_end_seconds} | ${cpu.functions.toFixed(1)} | ${cpu.cloud.toFixed(1)} | ${perEvent(cpu.functions)} | ${perEvent(cpu.cloud)} | ${perEvent(cpu.functions + cpu.cloud)} | ${(cpu.other / (report.end_to_end_seconds ?? 1)).toFixed(2)} | ${cpu.failures} | ${inv.count} | ${inv.p50} | ${inv.p99} | ${inv.max} | ${inv.timeouts} |`;
      }),
      '',
      ...(meteredRun ? costMarkdown(meteredRun, pageCosts, costShape, `\`npm run bench\` on ${new Date().toISOString().slice(0, 10)}, commit ${commit}`) : []),
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

const commitOf = (): string => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: projectRoot }).toString().trim();
  } catch {
    return 'unknown';
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
