// What the measured runs would cost on AWS, on demand (docs/cost.md): the local cloud's meter (GET
// /_meter: DynamoDB read and write units by AWS's sizing rules, each index entry included, and SQS
// requests in 64 KB chunks) over one end-to-end run, the processor's and publish's measured durations
// at the memory serverless.yml configures, and the HTTP API requests, priced per million events.
import type { MeterSnapshot } from '../../local/meter/meter.ts';
import type { PublisherReport } from '../../client/publisher/run.ts';

/**
 * AWS list prices, us-east-1, on demand, as in force on PRICES_AS_OF: the date of the most recent
 * change among them (DynamoDB's on-demand throughput, halved on 2024-11-01); the others have been
 * unchanged since before. Arm64 Lambda, as serverless.yml deploys it. Free tiers left out.
 */
export const PRICES_AS_OF = '2024-11-01';
export const PRICES = {
  dynamodbWriteRequestUnit: 0.625 / 1e6,
  dynamodbReadRequestUnit: 0.125 / 1e6,
  /** Standard queue, per request (64 KB chunk). */
  sqsRequest: 0.4 / 1e6,
  lambdaArmGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  /** HTTP API, first 300 million requests a month. */
  httpApiRequest: 1.0 / 1e6,
} as const;

export const resetMeter = async (endpoint: string): Promise<void> => {
  const response = await fetch(`${endpoint}/_meter/reset`, { method: 'POST' });
  if (!response.ok) throw new Error(`POST ${endpoint}/_meter/reset answered ${response.status}`);
};

export const readMeter = async (endpoint: string): Promise<MeterSnapshot> => {
  const response = await fetch(`${endpoint}/_meter`);
  if (!response.ok) throw new Error(`GET ${endpoint}/_meter answered ${response.status}`);
  return (await response.json()) as MeterSnapshot;
};

export interface RunCost {
  events: number;
  stored: number;
  meter: MeterSnapshot;
  /** The processor's invocations in the run: how many, and their durations summed (ms). */
  process: { invocations: number; totalMs: number; memoryMb: number };
  /** Publish requests and their mean duration (ms), seen from the client: an upper bound of the function's. */
  publish: { requests: number; meanMs: number; memoryMb: number };
}

export interface PageCost {
  query: string;
  pages: number;
  readUnitsPerPage: number;
  meanMs: number;
}

/** Reads `pages` pages of a /events query, following its cursor, with the meter reset before: read units per page. */
export const measurePages = async (url: string, endpoint: string, query: Record<string, string>, pages: number, memoryMb: number): Promise<PageCost & { memoryMb: number }> => {
  await resetMeter(endpoint);
  let cursor: string | undefined;
  let read = 0;
  let ms = 0;
  for (; read < pages; read += 1) {
    const started = performance.now();
    const response = await fetch(`${url}/events?${new URLSearchParams({ ...query, ...(cursor ? { cursor } : {}) })}`);
    if (!response.ok) throw new Error(`GET /events answered ${response.status}`);
    const page = (await response.json()) as { next_cursor: string | null };
    ms += performance.now() - started;
    if (!page.next_cursor) {
      read += 1;
      break;
    }
    cursor = page.next_cursor;
  }
  const meter = await readMeter(endpoint);
  return { query: new URLSearchParams(query).toString(), pages: read, readUnitsPerPage: meter.dynamodb.read_units / read, meanMs: ms / read, memoryMb };
};

/** The run's publish requests' mean duration: requests were `concurrency` in flight for the whole publish. */
export const publishCost = (report: PublisherReport, memoryMb: number): RunCost['publish'] => ({
  requests: report.requests,
  meanMs: (report.publish_seconds * 1000 * report.planned.concurrency) / Math.max(1, report.requests),
  memoryMb,
});

const gbSeconds = (ms: number, memoryMb: number): number => (Math.ceil(ms) / 1000) * (memoryMb / 1024);

export interface CostRow {
  what: string;
  perEvent: string;
  perMillion: number;
}

/** Per million events received, at the run's shape (its batch size and duplicate rate). */
export const costPerMillionEvents = (run: RunCost): CostRow[] => {
  const scale = 1e6 / run.events;
  const { dynamodb, sqs } = run.meter;
  const processGbs = gbSeconds(run.process.totalMs, run.process.memoryMb);
  const publishGbs = run.publish.requests * gbSeconds(run.publish.meanMs, run.publish.memoryMb);
  return [
    { what: 'DynamoDB writes (on-demand write request units)', perEvent: `${(dynamodb.write_units / run.events).toFixed(2)} WRU`, perMillion: dynamodb.write_units * scale * PRICES.dynamodbWriteRequestUnit },
    { what: 'DynamoDB reads (on-demand read request units)', perEvent: `${(dynamodb.read_units / run.events).toFixed(2)} RRU`, perMillion: dynamodb.read_units * scale * PRICES.dynamodbReadRequestUnit },
    { what: 'SQS requests (64 KB chunks)', perEvent: `${(sqs.billed_requests / run.events).toFixed(4)}`, perMillion: sqs.billed_requests * scale * PRICES.sqsRequest },
    {
      what: `Lambda: process, ${run.process.memoryMb} MB, ${run.process.invocations} invocations, ${(run.process.totalMs / 1000).toFixed(1)} s`,
      perEvent: `${((processGbs / run.events) * 1e3).toFixed(3)} mGB-s`,
      perMillion: (processGbs * PRICES.lambdaArmGbSecond + run.process.invocations * PRICES.lambdaRequest) * scale,
    },
    {
      what: `Lambda: publish, ${run.publish.memoryMb} MB, ${run.publish.requests} requests of ${run.publish.meanMs.toFixed(0)} ms`,
      perEvent: `${((publishGbs / run.events) * 1e3).toFixed(3)} mGB-s`,
      perMillion: (publishGbs * PRICES.lambdaArmGbSecond + run.publish.requests * PRICES.lambdaRequest) * scale,
    },
    { what: 'API Gateway HTTP API (publish requests)', perEvent: `${(run.publish.requests / run.events).toFixed(4)}`, perMillion: run.publish.requests * scale * PRICES.httpApiRequest },
  ];
};

const dollars = (value: number): string => `$${value.toFixed(value < 0.1 ? 4 : 2)}`;

/** The BENCHMARKS.md section. */
export const costMarkdown = (run: RunCost, pages: PageCost[], shape: string, source: string): string[] => {
  const rows = costPerMillionEvents(run);
  const total = rows.reduce((sum, row) => sum + row.perMillion, 0);
  const { dynamodb } = run.meter;
  const indexes = Object.entries(dynamodb.indexes)
    .filter(([, usage]) => usage.write_units > 0)
    .map(([name, usage]) => `${name.split('/')[1]} ${(usage.write_units / run.events).toFixed(2)}`)
    .join(', ');
  return [
    '## What an event costs on AWS',
    '',
    `Measured by ${source}. Metered by the local cloud (GET /_meter, docs/cost.md) over ${shape}: ${run.events.toLocaleString('en-US')} events received, ` +
      `${run.stored.toLocaleString('en-US')} stored. AWS list prices, us-east-1, on demand, as of ${PRICES_AS_OF} (scripts/bench/cost.ts), free tiers left out.`,
    '',
    '| measure | value |',
    '|---|---:|',
    `| write units per stored event (all writes of the run / events stored) | ${(dynamodb.write_units / run.stored).toFixed(2)} |`,
    `| write units per event received | ${(dynamodb.write_units / run.events).toFixed(2)} |`,
    `| of which index entries, per event received | ${indexes} |`,
    `| read units per event received (processing: key reads, folds) | ${(dynamodb.read_units / run.events).toFixed(2)} |`,
    ...pages.map((page) => `| read units per /events page (\`${page.query}\`, ${page.pages} pages, ${page.meanMs.toFixed(0)} ms each) | ${page.readUnitsPerPage.toFixed(2)} |`),
    `| SQS requests per 1,000 events received (64 KB chunks) | ${((run.meter.sqs.billed_requests / run.events) * 1000).toFixed(1)} |`,
    '',
    '| per million events received | per event | cost |',
    '|---|---:|---:|',
    ...rows.map((row) => `| ${row.what} | ${row.perEvent} | ${dollars(row.perMillion)} |`),
    `| **total** | | **${dollars(total)}** |`,
    '',
    'Not included: storage ($0.25 per GB-month; each stored event is its item, two keys-only index entries and a share of a tail item,',
    'tests/handlers/cost.test.ts prints the bytes), the queries people make, CloudWatch Logs, data transfer.',
    'Lambda durations are the local ones (publish: seen from the client, so an upper bound), on this 2-core machine.',
    '',
  ];
};

/**
 * Puts the cost section into a BENCHMARKS.md in place of the one there, or before the hand-written
 * analysis ("## Where the time goes"), or at the end. `npm run bench -- --cost-only` writes only this.
 */
export const withCostSection = (text: string, section: string[]): string => {
  const heading = section[0]!;
  const body = `${section.join('\n')}\n`;
  const start = text.indexOf(`${heading}\n`);
  if (start >= 0) {
    const next = text.indexOf('\n## ', start + heading.length);
    return text.slice(0, start) + body + (next >= 0 ? text.slice(next + 1) : '');
  }
  const analysis = text.indexOf('## Where the time goes');
  return analysis >= 0 ? `${text.slice(0, analysis)}${body}\n${text.slice(analysis)}` : `${text.trimEnd()}\n\n${body}`;
};
