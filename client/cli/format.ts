// How events and numbers look at a terminal: one line per event, colour only when the output is a
// terminal that wants it. An event that reads as a log line (lib/core/log-line.ts: the OpenTelemetry,
// Loki and Elasticsearch shapes, or a payload with a message) prints as one: time, severity, topic,
// source, message. Any other prints its payload as compact JSON.
import { logLine, type Severity } from '../../lib/core/log-line.ts';

export interface PrintedEvent {
  topic: string;
  event_id: string;
  timestamp: string;
  source: string;
  payload: unknown;
}

export interface Style {
  dim: (text: string) => string;
  bold: (text: string) => string;
  accent: (text: string) => string;
  severity: (severity: Severity | undefined, text: string) => string;
}

const wrap = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;

/** Colour when writing to a terminal, unless NO_COLOR is set (https://no-color.org). */
/** Terminal colours by severity: grey for trace and debug, green info, yellow warn, red error, red on white fatal. */
const SEVERITY_COLOURS: Record<Severity, (text: string) => string> = {
  trace: wrap(2, 22),
  debug: wrap(2, 22),
  info: wrap(32, 39),
  warn: wrap(33, 39),
  error: wrap(31, 39),
  fatal: (text) => `\u001b[1;31;47m${text}\u001b[0m`,
};

export const styleFor = (stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): Style =>
  stream.isTTY && env.NO_COLOR === undefined && env.TERM !== 'dumb'
    ? { dim: wrap(2, 22), bold: wrap(1, 22), accent: wrap(36, 39), severity: (severity, text) => (severity ? SEVERITY_COLOURS[severity](text) : text) }
    : { dim: (text) => text, bold: (text) => text, accent: (text) => text, severity: (_severity, text) => text };

/** Severities as a fixed-width column (`ERROR`, `WARN `), so messages line up. */
const severityColumn = (severity: Severity | undefined): string => (severity ?? '-').toUpperCase().padEnd(5);

export const eventLine = (event: PrintedEvent, style: Style): string => {
  const payload = (event.payload ?? {}) as Record<string, unknown>;
  const line = typeof payload === 'object' ? logLine(payload) : {};
  if (line.message !== undefined) {
    // One line per event: a multi-line message (a stack trace) shows its line breaks as ⏎.
    const message = line.message.replace(/\r?\n/g, ' ⏎ ');
    return `${style.dim(event.timestamp)}  ${style.severity(line.severity, severityColumn(line.severity))}  ${style.accent(event.topic)}  ${style.bold(event.source)}  ${message}`;
  }
  return `${style.dim(event.timestamp)}  ${style.accent(event.topic)}  ${style.bold(event.source)}  ${event.event_id}  ${JSON.stringify(event.payload)}`;
};
