// `npm run otel -- [options]`: sends log records to the aggregator through the OpenTelemetry JS SDK
// and its OTLP/HTTP exporter, as an instrumented service would (client/publisher/otel.ts).
import { parseArgs } from 'node:util';
import { defaultApiKey, resolveUrl } from '../client/cli/http.ts';
import { sendWithOtelSdk } from '../client/publisher/otel.ts';
import type { Stats } from '../lib/api/wire.ts';

const HELP = `usage: npm run otel -- [options]

  --records N     log records to emit                               (default 100)
  --uids N        distinct log.record.uid values; records past N re-emit earlier ones,
                  which count as duplicates; 0 sends no uid          (default: --records)
  --format F      protobuf or json                                  (default protobuf)
  --service NAME  service.name, which becomes the topic             (default otel-demo)
  --batch N       records per export (the SDK's default is 512)     (default 512)
  --no-gzip       send uncompressed
  --url URL       the aggregator (default $LOGAGG_URL, else $HTTP_PORT, else the stack running from $DATA_DIR)
  --api-key KEY   sent as Authorization: Bearer (default $LOGAGG_API_KEY)
  --run-id ID     prefix of the uids                                (default: a new one per run)
  --wait          then wait until the aggregator has counted them (received grew by as many, queue empty)
  --json          print the result as JSON`;

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '100' },
      uids: { type: 'string' },
      format: { type: 'string', default: 'protobuf' },
      service: { type: 'string', default: 'otel-demo' },
      batch: { type: 'string', default: '512' },
      'no-gzip': { type: 'boolean', default: false },
      url: { type: 'string' },
      'api-key': { type: 'string' },
      'run-id': { type: 'string', default: Date.now().toString(36) },
      wait: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const records = Number(values.records);
  const uids = values.uids === undefined ? records : Number(values.uids);
  const batch = Number(values.batch);
  if (![records, uids, batch].every((value) => Number.isInteger(value) && value >= 0) || batch === 0 || !['protobuf', 'json'].includes(values.format)) {
    console.error('invalid option; see --help');
    process.exit(2);
  }
  const { url, found } = await resolveUrl(values.url);
  if (found && !values.json) console.error(`using ${found}`);
  const key = values['api-key'] ?? defaultApiKey();
  const stats = async (): Promise<Stats> => {
    const response = await fetch(`${url}/stats`, key ? { headers: { 'x-api-key': key } } : {});
    if (!response.ok) throw new Error(`GET /stats answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as Stats;
  };
  const before = values.wait ? await stats() : undefined;
  let done = 0;
  const result = await sendWithOtelSdk({
    url,
    format: values.format as 'protobuf' | 'json',
    records,
    uidPool: uids,
    runId: values['run-id'],
    service: values.service,
    batchSize: batch,
    gzip: !values['no-gzip'],
    headers: key ? { authorization: `Bearer ${key}` } : {},
    onExport: (count) => {
      done += count;
      if (!values.json) process.stderr.write(`\rexported ${done} of ${records} records`);
    },
  });
  if (values.json) console.log(JSON.stringify(result));
  else {
    process.stderr.write('\n');
    console.log(
      `${result.exported} records exported to ${url}/v1/logs as service ${values.service}${result.failed ? `; ${result.failed} FAILED (see the exporter's messages above)` : ''}`,
    );
  }
  if (result.failed > 0) process.exit(1);
  if (before) {
    // Counted when processed, a moment after the export was answered: wait for `received` to move.
    const deadline = Date.now() + 120_000;
    for (;;) {
      const now = await stats();
      const counted = now.received - before.received;
      if (counted >= result.exported && now.queue.visible + now.queue.in_flight === 0) {
        if (!values.json) console.log(`counted: ${counted} received, ${now.unique_processed - before.unique_processed} unique, ${now.duplicate_dropped - before.duplicate_dropped} duplicate`);
        break;
      }
      if (Date.now() > deadline) throw new Error(`not counted within 120 s: ${counted} of ${result.exported} received so far (npx logagg stats shows the queue)`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
};

main().catch((error: unknown) => {
  console.error(`otel failed: ${(error as Error).message}`);
  process.exit(1);
});
