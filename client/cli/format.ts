// How events and numbers look at a terminal: one line per event (time, topic, source, compact
// payload), colour only when the output is a terminal that wants it.
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
}

const wrap = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;

/** Colour when writing to a terminal, unless NO_COLOR is set (https://no-color.org). */
export const styleFor = (stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): Style =>
  stream.isTTY && env.NO_COLOR === undefined && env.TERM !== 'dumb'
    ? { dim: wrap(2, 22), bold: wrap(1, 22), accent: wrap(36, 39) }
    : { dim: (text) => text, bold: (text) => text, accent: (text) => text };

export const eventLine = (event: PrintedEvent, style: Style): string =>
  `${style.dim(event.timestamp)}  ${style.accent(event.topic)}  ${style.bold(event.source)}  ${event.event_id}  ${JSON.stringify(event.payload)}`;
