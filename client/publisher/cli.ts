// The publisher's command line (`npm run publisher -- ...`, `npx logagg publish ...`): load the
// aggregator with realistic events and duplicates, then report rates, latencies and whether the
// counts add up.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { SingleBar, Presets } from 'cli-progress';
import { defaultApiKey, resolveUrl } from '../cli/http.ts';
import { runPublisher, type PublisherReport } from './run.ts';

const HELP = `usage: npm run publisher -- [options]   (or: npx logagg publish [options])

  --events N          events to send, duplicates included      (default 20000)
  --dup-rate R        share of events that repeat earlier ones (default 0.3)
  --topics N          topics to spread events over             (default 5)
  --batch N           events per HTTP request                  (default 500)
  --concurrency N     requests in flight                       (default 4)
  --url URL           the aggregator's HTTP API  (default $LOGAGG_URL, else http://127.0.0.1:$HTTP_PORT,
                      else the stack running from $DATA_DIR, .data: npm start writes where it listens)
  --api-key KEY       sent as x-api-key when publishing needs a key (default $LOGAGG_API_KEY)
  --seed N            makes the workload reproducible          (default 1)
  --run-id ID         prefix of event ids; a new one per run, so runs do not dedup against each other
  --retries N         retries per request on 5xx, 429 and connection errors (default 10)
  --no-wait           do not wait for the backlog to drain
  --drain-timeout S   seconds to wait for the backlog          (default 300)
  --json              print the report as JSON (no progress bar)
  -h, --help

The report compares the aggregator's /stats before and after the run, so it is exact only when
nothing else publishes at the same time. Exit code 1 if events were refused or a check fails.`;

/** A command-line mistake: exit code 2. */
export class UsageError extends Error {}

const number = (value: string | undefined, name: string, check: (n: number) => boolean): number => {
  const parsed = Number(value);
  if (value === undefined || !Number.isFinite(parsed) || !check(parsed)) {
    throw new UsageError(`--${name} ${value ?? ''} is not valid; see --help`);
  }
  return parsed;
};

const printReport = (report: PublisherReport): void => {
  const yes = (value: boolean | null): string => (value === null ? 'n/a' : value ? 'yes' : 'NO');
  const lines = [
    '',
    `sent          ${report.sent_events} events in ${report.requests} requests (${report.retries} retries)`,
    `accepted      ${report.accepted_events}${report.rejected_events ? `   refused ${report.rejected_events}` : ''}`,
    `planned       ${report.planned.distinct} distinct + ${report.planned.duplicates} duplicates over ${report.planned.topics} topics`,
    `publish       ${report.publish_rate} events/s  (${report.publish_seconds}s)`,
    `latency       p50 ${report.latency_ms.p50} ms   p95 ${report.latency_ms.p95} ms   p99 ${report.latency_ms.p99} ms   max ${report.latency_ms.max} ms (per request of ${report.planned.batch})`,
  ];
  if (report.aggregator) {
    lines.push(
      `end to end    ${report.end_to_end_rate ?? '-'} events/s  (${report.end_to_end_seconds ?? 'not drained'}s until processed)`,
      `aggregator    received ${report.aggregator.received}   unique ${report.aggregator.unique}   duplicates ${report.aggregator.duplicates}   dlq ${report.aggregator.dlq}`,
      `check         received == unique + duplicates: ${yes(report.invariants.received_equals_unique_plus_duplicates)}`,
      `check         unique == distinct events sent:  ${yes(report.invariants.unique_equals_distinct)}`,
    );
  }
  console.log(lines.join('\n'));
};

export const publisherMain = async (args: string[]): Promise<void> => {
  const { values } = parseArgs({
    args,
    options: {
      events: { type: 'string', default: '20000' },
      'dup-rate': { type: 'string', default: '0.3' },
      topics: { type: 'string', default: '5' },
      batch: { type: 'string', default: '500' },
      concurrency: { type: 'string', default: '4' },
      url: { type: 'string' },
      'api-key': { type: 'string' },
      seed: { type: 'string', default: '1' },
      'run-id': { type: 'string' },
      retries: { type: 'string', default: '10' },
      'no-wait': { type: 'boolean', default: false },
      'drain-timeout': { type: 'string', default: '300' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const events = number(values.events, 'events', (n) => Number.isInteger(n) && n > 0);
  const { url, found } = await resolveUrl(values.url);
  if (found) console.error(`publishing to ${found}: ${url}`);
  const bar = values.json ? undefined : new SingleBar({ format: 'publishing [{bar}] {percentage}% | {value}/{total} events accepted | {eta}s left' }, Presets.shades_classic);
  bar?.start(events, 0);
  const report = await runPublisher({
    url: url.replace(/\/$/, ''),
    ...((values['api-key'] ?? defaultApiKey()) ? { apiKey: values['api-key'] ?? defaultApiKey()! } : {}),
    events,
    dupRate: number(values['dup-rate'], 'dup-rate', (n) => n >= 0 && n < 1),
    topics: number(values.topics, 'topics', (n) => Number.isInteger(n) && n > 0),
    batch: number(values.batch, 'batch', (n) => Number.isInteger(n) && n > 0 && n <= 10_000),
    concurrency: number(values.concurrency, 'concurrency', (n) => Number.isInteger(n) && n > 0),
    seed: number(values.seed, 'seed', Number.isInteger),
    runId: values['run-id'] ?? randomBytes(4).toString('hex'),
    retries: number(values.retries, 'retries', (n) => Number.isInteger(n) && n >= 0),
    wait: !values['no-wait'],
    drainTimeoutSeconds: number(values['drain-timeout'], 'drain-timeout', (n) => n > 0),
    onProgress: (accepted) => bar?.update(accepted),
    onNote: (line) => console.error(`\n${line}`),
  });
  bar?.stop();
  if (!values.json) {
    if (!report.drained && !values['no-wait']) console.log('waiting for the backlog to drain timed out');
    printReport(report);
  } else {
    console.log(JSON.stringify(report));
  }
  const failed =
    report.rejected_events > 0 ||
    report.invariants.received_equals_unique_plus_duplicates === false ||
    report.invariants.unique_equals_distinct === false;
  process.exitCode = failed ? 1 : 0;
};
