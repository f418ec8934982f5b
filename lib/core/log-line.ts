// How an event reads as a log line: its message and its severity, found in the payload shapes the
// ingest protocols produce (lib/ingest: OTLP `body` and `severity_*`, Loki `line` and labels,
// Elasticsearch documents' `message`/`log.level`) and in the fields people commonly log by hand
// (`message`, `msg`, `level`). One definition, used by the `severity` filter of GET /events, by
// `logagg` and by the web console, so all three agree on what "error" means.
//
// Pure and free of imports: the web console bundles it.

/** Severities from least to most severe (OpenTelemetry's six ranges). */
export const SEVERITIES = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const isSeverity = (value: string): value is Severity => (SEVERITIES as readonly string[]).includes(value);

export const severityRank = (severity: Severity): number => SEVERITIES.indexOf(severity);

/** OpenTelemetry's SeverityNumber: 1-4 trace, 5-8 debug, 9-12 info, 13-16 warn, 17-20 error, 21-24 fatal. */
export const severityOfNumber = (value: unknown): Severity | undefined =>
  typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 24 ? SEVERITIES[Math.floor((value - 1) / 4)] : undefined;

/**
 * A level's name as loggers write it, in any case: trace, debug, info(rmational), notice, warn(ing),
 * err(or), crit(ical), alert, emerg(ency), fatal, panic; syslog's numeric levels 0-7 as text too.
 * OpenTelemetry's short names with a digit (`INFO2`, `ERROR3`) count as their range.
 */
export const severityOfText = (value: unknown): Severity | undefined => {
  if (typeof value !== 'string') return undefined;
  const raw = value.trim().toLowerCase();
  const text = /^\d+$/.test(raw) ? raw : raw.replace(/\d+$/, '');
  if (/^[0-7]$/.test(text)) return (['fatal', 'fatal', 'fatal', 'error', 'warn', 'info', 'info', 'debug'] as const)[Number(text)];
  if (text.startsWith('trace')) return 'trace';
  if (text.startsWith('debug') || text === 'dbg') return 'debug';
  if (text.startsWith('info') || text === 'notice' || text === 'inf') return 'info';
  if (text.startsWith('warn') || text === 'wrn') return 'warn';
  if (text.startsWith('err') || text === 'eror') return 'error';
  if (['fatal', 'crit', 'critical', 'alert', 'emerg', 'emergency', 'panic', 'ftl'].includes(text)) return 'fatal';
  return undefined;
};

const record = (value: unknown): Record<string, unknown> | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export interface LogLine {
  /** The human-readable message, when the payload has one. */
  message?: string;
  severity?: Severity;
  /** The severity as the sender wrote it (`ERROR`, `warning`, `E`), when it did. */
  severityText?: string;
}

/**
 * The message and severity of a payload. Fields are looked for in this order:
 * - message: `body` (OpenTelemetry; a structured body is shown as compact JSON), `line` (Loki),
 *   `message`, `msg`, `log` (Fluent Bit), `MESSAGE` (journald);
 * - severity: `severity_text` / `severity_number` (OpenTelemetry), the labels or structured metadata
 *   `level`, `detected_level`, `severity` (Loki), `log.level` as one key or nested (ECS), `level`,
 *   `severity`, `loglevel`, `PRIORITY` (journald, syslog's 0-7).
 */
export const logLine = (payload: Record<string, unknown>): LogLine => {
  const body = payload.body;
  const message =
    typeof body === 'string'
      ? body
      : body !== undefined && body !== null && 'severity_number' in payload
        ? JSON.stringify(body)
        : (text(payload.line) ?? text(payload.message) ?? text(payload.msg) ?? text(payload.log) ?? text(payload.MESSAGE));
  const labels = record(payload.labels);
  const metadata = record(payload.structured_metadata);
  const candidates: unknown[] = [
    payload.severity_text,
    labels?.level,
    labels?.detected_level,
    labels?.severity,
    metadata?.level,
    metadata?.detected_level,
    payload['log.level'],
    record(payload.log)?.level,
    payload.level,
    payload.severity,
    payload.loglevel,
    payload.PRIORITY,
  ];
  let severityText: string | undefined;
  let severity: Severity | undefined;
  for (const candidate of candidates) {
    const found = severityOfText(candidate);
    if (found) {
      severity = found;
      severityText = candidate as string;
      break;
    }
  }
  severity ??= severityOfNumber(payload.severity_number);
  return {
    ...(message !== undefined ? { message } : {}),
    ...(severity !== undefined ? { severity } : {}),
    ...(severityText !== undefined ? { severityText } : {}),
  };
};
