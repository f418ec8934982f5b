// The publisher: sends a generated workload in batches with bounded concurrency, retries what failed
// (exponential backoff with jitter on 5xx, 429 and connection errors), waits for the backlog to drain
// and reports rates, latencies and whether the aggregator's counts add up.
import pLimit from 'p-limit';
import { generateWorkload, type GeneratedEvent } from './generate.ts';
import type { Stats } from '../../lib/api/stats.ts';

export interface PublisherOptions {
  url: string;
  /** Sent as x-api-key when the aggregator requires a publish key (PUBLISH_API_KEYS). */
  apiKey?: string;
  events: number;
  dupRate: number;
  topics: number;
  batch: number;
  concurrency: number;
  seed: number;
  runId: string;
  retries: number;
  wait: boolean;
  drainTimeoutSeconds: number;
  onProgress?: (accepted: number, total: number) => void;
  onNote?: (line: string) => void;
}


export interface PublisherReport {
  url: string;
  planned: { events: number; distinct: number; duplicates: number; topics: number; batch: number; concurrency: number };
  sent_events: number;
  accepted_events: number;
  rejected_events: number;
  requests: number;
  retries: number;
  publish_seconds: number;
  publish_rate: number;
  latency_ms: { p50: number; p95: number; p99: number; max: number };
  drained: boolean;
  end_to_end_seconds: number | null;
  end_to_end_rate: number | null;
  aggregator: { received: number; unique: number; duplicates: number; dlq: number } | null;
  invariants: { received_equals_unique_plus_duplicates: boolean | null; unique_equals_distinct: boolean | null };
}

/** The aggregator refused the key: no retry will change that. */
export class KeyRefusedError extends Error {}

/** A failure worth retrying: the server or the network, not the request. */
class RetryableError extends Error {}

const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

const fetchStats = async (url: string, apiKey: string | undefined): Promise<Stats> => {
  const response = await fetch(`${url}/stats`, { headers: apiKey ? { 'x-api-key': apiKey } : {} });
  // A refused key will not be accepted on a retry: say so at once.
  if (response.status === 401 || response.status === 403) {
    throw new KeyRefusedError(`GET /stats answered ${response.status}: ${(await response.text()).slice(0, 200)}; pass a key that may read with --api-key`);
  }
  if (response.status !== 200) throw new RetryableError(`GET /stats answered ${response.status}`);
  return (await response.json()) as Stats;
};

/** Stats, retried while the aggregator is unreachable (it may be restarting). */
const statsWhenUp = async (url: string, apiKey: string | undefined, deadline: number): Promise<Stats> => {
  for (;;) {
    try {
      return await fetchStats(url, apiKey);
    } catch (error) {
      if (error instanceof KeyRefusedError) throw error;
      if (Date.now() > deadline) throw new Error(`the aggregator at ${url} does not answer: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
};

export const runPublisher = async (options: PublisherOptions): Promise<PublisherReport> => {
  const { default: pRetry, AbortError } = await import('p-retry');
  const note = options.onNote ?? (() => undefined);
  const before = await statsWhenUp(options.url, options.apiKey, Date.now() + 30_000);
  const workload = generateWorkload({
    events: options.events,
    dupRate: options.dupRate,
    topics: options.topics,
    seed: options.seed,
    runId: options.runId,
  });
  const batches: GeneratedEvent[][] = [];
  for (let start = 0; start < workload.events.length; start += options.batch) {
    batches.push(workload.events.slice(start, start + options.batch));
  }

  const latencies: number[] = [];
  let sent = 0;
  let accepted = 0;
  let rejected = 0;
  let requests = 0;
  let retries = 0;
  const limit = pLimit(options.concurrency);
  const started = performance.now();

  const send = async (events: GeneratedEvent[]): Promise<void> => {
    const body = JSON.stringify({ events });
    await pRetry(
      async () => {
        requests += 1;
        sent += events.length;
        const attemptStarted = performance.now();
        let response: Response;
        try {
          response = await fetch(`${options.url}/publish`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}) },
            body,
          });
        } catch (error) {
          throw new RetryableError(`connection failed: ${(error as Error).cause ?? (error as Error).message}`);
        }
        const text = await response.text();
        if (response.status === 202) {
          latencies.push(performance.now() - attemptStarted);
          accepted += (JSON.parse(text) as { accepted: number }).accepted;
          options.onProgress?.(accepted, workload.events.length);
          return;
        }
        if (response.status >= 500 || response.status === 429) throw new RetryableError(`${response.status} ${text.slice(0, 200)}`);
        throw new AbortError(`${response.status} ${text.slice(0, 500)}`);
      },
      {
        retries: options.retries,
        factor: 2,
        minTimeout: 100,
        maxTimeout: 5_000,
        randomize: true,
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
          if (retriesLeft > 0 && error instanceof RetryableError) {
            retries += 1;
            if (attemptNumber === 1 || attemptNumber % 5 === 0) note(`retrying a batch (attempt ${attemptNumber + 1}): ${error.message}`);
          }
        },
        shouldRetry: ({ error }) => error instanceof RetryableError,
      },
    ).catch((error: Error) => {
      rejected += events.length;
      note(`a batch of ${events.length} events was not accepted: ${error.message}`);
    });
  };

  await Promise.all(batches.map((events) => limit(() => send(events))));
  const publishSeconds = (performance.now() - started) / 1000;

  let drained = false;
  let after: Stats | null = null;
  let endToEnd: number | null = null;
  if (options.wait) {
    const deadline = Date.now() + options.drainTimeoutSeconds * 1000;
    for (;;) {
      after = await statsWhenUp(options.url, options.apiKey, deadline);
      const processed = after.processed - before.processed;
      if (processed >= accepted && after.queue.visible === 0 && after.queue.in_flight === 0) {
        drained = true;
        endToEnd = (performance.now() - started) / 1000;
        break;
      }
      if (Date.now() > deadline) {
        note(`the backlog did not drain within ${options.drainTimeoutSeconds}s (processed ${processed} of ${accepted})`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  const sorted = [...latencies].sort((a, b) => a - b);
  const delta = after
    ? {
        received: after.received - before.received,
        unique: after.unique_processed - before.unique_processed,
        duplicates: after.duplicate_dropped - before.duplicate_dropped,
        dlq: after.queue.dlq,
      }
    : null;
  return {
    url: options.url,
    planned: {
      events: workload.events.length,
      distinct: workload.distinct,
      duplicates: workload.duplicates,
      topics: workload.topics.length,
      batch: options.batch,
      concurrency: options.concurrency,
    },
    sent_events: sent,
    accepted_events: accepted,
    rejected_events: rejected,
    requests,
    retries,
    publish_seconds: round(publishSeconds, 3),
    publish_rate: round(accepted / publishSeconds, 0),
    latency_ms: { p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1) ?? 0) },
    drained,
    end_to_end_seconds: endToEnd === null ? null : round(endToEnd, 3),
    end_to_end_rate: endToEnd === null ? null : round(accepted / endToEnd, 0),
    aggregator: delta,
    invariants: {
      received_equals_unique_plus_duplicates: delta && drained ? delta.received === delta.unique + delta.duplicates : null,
      unique_equals_distinct: delta && drained ? delta.unique === workload.distinct : null,
    },
  };
};
