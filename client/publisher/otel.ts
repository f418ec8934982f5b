// Logs sent the way a service instrumented with OpenTelemetry sends them: the OpenTelemetry JS SDK's
// LoggerProvider with a BatchLogRecordProcessor (batches of 512 by default) and the OTLP/HTTP
// exporter, protobuf or JSON. `npm run otel` uses it to try the aggregator as a service would, the
// benchmark to measure OTLP ingestion, and the end-to-end tests to drive the real exporter (in a
// process of its own: the exporter loads its transport with a dynamic import, which jest's module
// sandbox cannot run).
import { OTLPLogExporter as JsonExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtobufExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';

export interface OtelSendOptions {
  /** The aggregator's base URL; records go to `<url>/v1/logs`. */
  url: string;
  format: 'protobuf' | 'json';
  records: number;
  /**
   * Distinct `log.record.uid` values: record i carries uid i while i < uidPool, and after that an
   * earlier one again (a re-emitted record, which must count as a duplicate). 0: no uid at all (the
   * aggregator derives ids from content).
   */
  uidPool: number;
  /** Prefix of the uids, so that runs do not deduplicate against each other. */
  runId: string;
  service: string;
  batchSize: number;
  gzip: boolean;
  headers: Record<string, string>;
  /** Called after every export with the records it held and whether the exporter reported success. */
  onExport?: (records: number, ok: boolean) => void;
}

const LEVELS = [
  { number: 9, text: 'INFO' },
  { number: 9, text: 'INFO' },
  { number: 9, text: 'INFO' },
  { number: 5, text: 'DEBUG' },
  { number: 13, text: 'WARN' },
  { number: 17, text: 'ERROR' },
] as const;

export const sendWithOtelSdk = async (options: OtelSendOptions): Promise<{ exported: number; failed: number }> => {
  const Exporter = options.format === 'protobuf' ? ProtobufExporter : JsonExporter;
  const exporter = new Exporter({
    url: `${options.url.replace(/\/$/, '')}/v1/logs`,
    headers: options.headers,
    ...(options.gzip ? { compression: 'gzip' as never } : {}),
  });
  let exported = 0;
  let failed = 0;
  const send = exporter.export.bind(exporter);
  exporter.export = (records, done) =>
    send(records, (result) => {
      // ExportResultCode.SUCCESS is 0.
      if (result.code === 0) exported += records.length;
      else failed += records.length;
      options.onExport?.(records.length, result.code === 0);
      done(result);
    });
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': options.service, 'service.instance.id': `${options.service}-1`, 'host.name': 'localhost' }),
    processors: [
      new BatchLogRecordProcessor({ exporter, maxExportBatchSize: options.batchSize, maxQueueSize: Math.max(2048, options.records), scheduledDelayMillis: 200 }),
    ],
  });
  const logger = provider.getLogger(options.service, '1.0.0');
  for (let i = 0; i < options.records; i += 1) {
    const n = options.uidPool === 0 || i < options.uidPool ? i : (i * 7919) % options.uidPool;
    const level = LEVELS[n % LEVELS.length]!;
    logger.emit({
      body: `order ${n} ${level.number >= 17 ? 'failed: card declined' : 'processed'} in ${(n * 37) % 900} ms`,
      severityNumber: level.number,
      severityText: level.text,
      attributes: {
        ...(options.uidPool > 0 ? { 'log.record.uid': `${options.runId}-${n}` } : {}),
        'order.id': `o-${n}`,
        'http.route': '/orders/{id}',
        'user.id': `u-${n % 97}`,
      },
    });
  }
  await provider.forceFlush();
  await provider.shutdown();
  return { exported, failed };
};
