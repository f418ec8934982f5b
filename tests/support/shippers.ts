// Requests as the shippers' own libraries build them, for handler tests: OTLP from the OpenTelemetry
// JS SDK's log records through its own protobuf and JSON serializers (the ones its exporters send
// with), and Loki pushes through winston-loki's protobuf definition and snappy compression.
import { createRequire } from 'node:module';
import { SeverityNumber } from '@opentelemetry/api';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { compress as snappyCompress } from 'snappyjs';

export interface SdkRecord {
  body?: unknown;
  severityNumber?: SeverityNumber;
  severityText?: string;
  attributes?: Record<string, unknown>;
  /** Epoch milliseconds, or an HrTime [seconds, nanoseconds] for nanosecond precision. */
  timestamp?: number | [number, number];
  eventName?: string;
}

/** Log records as the OpenTelemetry SDK makes them, from a logger of the given resource and scope. */
export const sdkRecords = async (
  records: SdkRecord[],
  resource: Record<string, string> = { 'service.name': 'checkout' },
  scope = { name: 'checkout-logger', version: '1.0.0' },
): Promise<ReadableLogRecord[]> => {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource: resourceFromAttributes(resource), processors: [new SimpleLogRecordProcessor({ exporter })] });
  const logger = provider.getLogger(scope.name, scope.version);
  for (const record of records) logger.emit(record as Parameters<typeof logger.emit>[0]);
  await provider.forceFlush();
  const finished = [...exporter.getFinishedLogRecords()];
  await provider.shutdown();
  return finished;
};

/** An ExportLogsServiceRequest as the SDK's exporters encode it. */
export const otlpBody = (records: ReadableLogRecord[], format: 'protobuf' | 'json'): Buffer =>
  Buffer.from((format === 'protobuf' ? ProtobufLogsSerializer : JsonLogsSerializer).serializeRequest(records)!);

const requireFromHere = createRequire(__filename);
// winston-loki's protobufjs module for Loki's PushRequest (the definition that client sends with).
const { logproto } = requireFromHere('winston-loki/src/proto') as {
  logproto: { PushRequest: { fromObject(value: unknown): unknown; encode(message: unknown): { finish(): Uint8Array } } };
};

export interface LokiStream {
  labels: string;
  entries: Array<{ seconds: number; nanos?: number; line: string }>;
}

/** A snappy-compressed protobuf PushRequest, as winston-loki (and Promtail) send it. */
export const lokiProtobufBody = (streams: LokiStream[]): Buffer => {
  const message = logproto.PushRequest.fromObject({
    streams: streams.map((stream) => ({
      labels: stream.labels,
      entries: stream.entries.map((entry) => ({ timestamp: { seconds: entry.seconds, nanos: entry.nanos ?? 0 }, line: entry.line })),
    })),
  });
  return Buffer.from(snappyCompress(logproto.PushRequest.encode(message).finish()));
};
