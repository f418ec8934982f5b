// The benchmark's OTLP scenario: log records sent as an instrumented service sends them (the
// OpenTelemetry JS SDK, its batches of 512, the OTLP/HTTP protobuf exporter, gzip), a share of them
// re-emitted with the same `log.record.uid`, measured from the first record emitted until the last
// one is counted, with the counts checked.
import type { Stats } from '../../lib/api/wire.ts';
import { sendWithOtelSdk } from '../../client/publisher/otel.ts';

export interface OtlpRun {
  records: number;
  distinct: number;
  seconds: number;
  /** Records per second, end to end. */
  rate: number;
  exports: number;
  failedRecords: number;
  counted: { received: number; unique: number; duplicates: number };
  exact: boolean;
}

const stats = async (url: string): Promise<Stats> => (await (await fetch(`${url}/stats`)).json()) as Stats;

export const runOtlpEndToEnd = async (options: {
  url: string;
  records: number;
  dupRate: number;
  runId: string;
  log: (line: string) => void;
  drainTimeoutSeconds?: number;
}): Promise<OtlpRun> => {
  const { url, records } = options;
  const distinct = Math.round(records * (1 - options.dupRate));
  const before = await stats(url);
  const started = performance.now();
  let exports = 0;
  let sent = 0;
  let lastShown = started;
  const result = await sendWithOtelSdk({
    url,
    format: 'protobuf',
    records,
    uidPool: distinct,
    runId: options.runId,
    service: 'bench-otlp',
    batchSize: 512,
    gzip: true,
    headers: {},
    onExport: (count) => {
      exports += 1;
      sent += count;
      if (performance.now() - lastShown >= 10_000) {
        lastShown = performance.now();
        options.log(`       ${((performance.now() - started) / 1000).toFixed(0)}s: exported ${sent}/${records} records`);
      }
    },
  });
  const deadline = Date.now() + (options.drainTimeoutSeconds ?? 900) * 1000;
  let after: Stats;
  for (;;) {
    after = await stats(url);
    const done = after.received - before.received >= result.exported && after.queue.visible + after.queue.in_flight + after.queue.delayed === 0;
    if (done || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const seconds = (performance.now() - started) / 1000;
  const counted = {
    received: after.received - before.received,
    unique: after.unique_processed - before.unique_processed,
    duplicates: after.duplicate_dropped - before.duplicate_dropped,
  };
  return {
    records,
    distinct,
    seconds: Math.round(seconds * 10) / 10,
    rate: Math.round(records / seconds),
    exports,
    failedRecords: result.failed,
    counted,
    exact: result.failed === 0 && counted.received === records && counted.unique === distinct && counted.duplicates === records - distinct,
  };
};
