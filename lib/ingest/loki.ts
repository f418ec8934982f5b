// Loki push (`POST /loki/api/v1/push`): a PushRequest as snappy-compressed protobuf (what Promtail,
// Grafana Alloy and winston-loki send) or as JSON (`{"streams":[{"stream":{…},"values":[[ns, line,
// {metadata}?], …]}]}`), mapped entry by entry to events.
//
//   topic      the stream's label `topic`, else `service_name`, else `job` (by topicFromName's rule),
//              else `loki`
//   event_id   a hash of (the stream's labels, the entry's timestamp in nanoseconds, the line): Loki's
//              own rule for a duplicate entry, so what Loki would drop as a resent duplicate counts
//              here as one
//   timestamp  the entry's timestamp, to the nanosecond
//   source     label `host`, else `instance`, else `job`, else `loki`
//   payload    { line, labels, structured_metadata (when the entry has any) }
//
// A body that cannot be decoded is refused whole (400). A stream whose labels cannot be parsed, or an
// entry that does not fit the event contract, is refused alone; the others are accepted and the
// answer is still 400 naming what was refused, as Loki's distributor answers (its clients do not
// resend a 400, and what was accepted stays accepted).
import { MalformedInputError, TooLargeError, UnsupportedMediaError } from '../core/errors.ts';
import { BatchBuilder, type MappedBatch } from './batch.ts';
import { contentId, topicFromName } from './identity.ts';
import { decodeMessage } from './protobuf.ts';
import { fromUnixNanos } from './time.ts';

export type LokiFormat = 'protobuf' | 'json';

export const LOKI_FALLBACK_TOPIC = 'loki';

const PUSH_REQUEST = 'logproto.PushRequest';

type Obj = Record<string, unknown>;

interface Entry {
  nanos: bigint;
  line: string;
  metadata: Record<string, string>;
}

interface Stream {
  /** Labels, or why they could not be read. */
  labels: Record<string, string> | string;
  entries: Entry[];
}

const malformed = (path: string, what: string): MalformedInputError => new MalformedInputError(`${path}: ${what}`);

/**
 * A stream selector as Loki sends labels in protobuf: `{name="value", …}`, values quoted with Go's
 * escapes (a backslash before `"`, `\`, n, t, r, or uXXXX). Returns the labels or why not.
 */
export const parseLabels = (text: string): Record<string, string> | string => {
  const labels: Record<string, string> = {};
  const pattern = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|\})/y;
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) return `labels ${JSON.stringify(text.slice(0, 80))} are not of the form {name="value", …}`;
  if (/^\{\s*\}$/.test(trimmed)) return labels;
  pattern.lastIndex = 1;
  for (;;) {
    const match = pattern.exec(trimmed);
    if (!match) return `labels ${JSON.stringify(text.slice(0, 80))} are not of the form {name="value", …}`;
    const [, name, quoted, end] = match;
    try {
      labels[name!] = JSON.parse(`"${quoted!}"`) as string;
    } catch {
      return `label ${name} has a value with an escape that is not \\" \\\\ \\n \\t \\r or \\uXXXX`;
    }
    if (end === '}') return pattern.lastIndex === trimmed.length ? labels : `labels ${JSON.stringify(text.slice(0, 80))} have text after their closing brace`;
  }
};

const pairs = (raw: unknown, path: string): Record<string, string> => {
  const result: Record<string, string> = {};
  if (raw === undefined || raw === null) return result;
  if (!Array.isArray(raw)) throw malformed(path, 'must be a list of name/value pairs');
  raw.forEach((pair, index) => {
    const { name, value } = (pair ?? {}) as { name?: unknown; value?: unknown };
    if (typeof name !== 'string' || (value !== undefined && typeof value !== 'string')) throw malformed(`${path}[${index}]`, 'must have a name and a value');
    result[name] = value ?? '';
  });
  return result;
};

const fromProtobuf = (body: Buffer): Stream[] => {
  let request: Obj;
  try {
    request = decodeMessage(PUSH_REQUEST, body);
  } catch (error) {
    throw new MalformedInputError(`the body is not a protobuf PushRequest: ${(error as Error).message}`, { cause: error });
  }
  return ((request.streams as Obj[] | undefined) ?? []).map((stream, s) => ({
    labels: parseLabels(typeof stream.labels === 'string' ? stream.labels : ''),
    entries: ((stream.entries as Obj[] | undefined) ?? []).map((entry, e) => {
      const timestamp = (entry.timestamp ?? {}) as { seconds?: string; nanos?: number };
      return {
        nanos: BigInt(timestamp.seconds ?? '0') * 1_000_000_000n + BigInt(timestamp.nanos ?? 0),
        line: typeof entry.line === 'string' ? entry.line : '',
        metadata: pairs(entry.structuredMetadata, `streams[${s}].entries[${e}].structuredMetadata`),
      };
    }),
  }));
};

const fromJson = (body: Buffer): Stream[] => {
  let request: unknown;
  try {
    request = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new MalformedInputError(`the body is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const streams = (request as { streams?: unknown } | null)?.streams;
  if (!Array.isArray(streams)) throw malformed('the body', 'must be {"streams": [...]}');
  return streams.map((raw, s) => {
    const stream = (raw ?? {}) as { stream?: unknown; values?: unknown };
    const labelObject = stream.stream ?? {};
    const labels =
      typeof labelObject === 'object' && !Array.isArray(labelObject) && Object.values(labelObject as Obj).every((value) => typeof value === 'string')
        ? (labelObject as Record<string, string>)
        : `streams[${s}].stream must be an object of string labels`;
    if (!Array.isArray(stream.values)) throw malformed(`streams[${s}].values`, 'must be a list of [timestamp, line] entries');
    return {
      labels,
      entries: stream.values.map((value, e) => {
        const path = `streams[${s}].values[${e}]`;
        if (!Array.isArray(value) || value.length < 2 || value.length > 3) throw malformed(path, 'must be ["<unix nanoseconds>", "<line>"] or […, {structured metadata}]');
        const [nanos, line, metadata] = value as [unknown, unknown, unknown];
        if (typeof nanos !== 'string' || !/^\d{1,19}$/.test(nanos)) throw malformed(`${path}[0]`, 'must be the unix time in nanoseconds, as a string');
        if (typeof line !== 'string') throw malformed(`${path}[1]`, 'must be the log line, a string');
        if (metadata !== undefined && (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata) || !Object.values(metadata).every((item) => typeof item === 'string'))) {
          throw malformed(`${path}[2]`, 'must be an object of string structured metadata');
        }
        return { nanos: BigInt(nanos), line, metadata: (metadata ?? {}) as Record<string, string> };
      }),
    };
  });
};

export interface LokiOptions {
  format: LokiFormat;
  maxRecords: number;
}

export const mapLokiPush = (body: Buffer, options: LokiOptions): MappedBatch => {
  const streams = options.format === 'protobuf' ? fromProtobuf(body) : fromJson(body);
  const entries = streams.reduce((sum, stream) => sum + stream.entries.length, 0);
  if (entries > options.maxRecords) throw new TooLargeError(`${entries} entries in one push; at most ${options.maxRecords} are accepted (lower the client's batch size)`);
  const batch = new BatchBuilder();
  streams.forEach((stream, s) => {
    const { labels } = stream;
    stream.entries.forEach((entry, e) => {
      const where = `streams[${s}].entries[${e}]`;
      if (typeof labels === 'string') {
        batch.refuse(where, labels);
        return;
      }
      const timestamp = fromUnixNanos(entry.nanos);
      if (timestamp === undefined) {
        batch.refuse(where, `timestamp ${entry.nanos} ns is not between 1970 and 9999`);
        return;
      }
      // The first of these labels that has a value (an empty label is no label in Loki).
      const topic = topicFromName([labels.topic, labels.service_name, labels.job].find((name) => name !== undefined && name !== ''), LOKI_FALLBACK_TOPIC);
      batch.add(where, {
        topic,
        event_id: contentId({ labels, ts: String(entry.nanos), line: entry.line }),
        timestamp,
        source: labels.host || labels.instance || labels.job || LOKI_FALLBACK_TOPIC,
        payload: {
          line: entry.line,
          labels,
          ...(Object.keys(entry.metadata).length > 0 ? { structured_metadata: entry.metadata } : {}),
        },
      });
    });
  });
  return batch.build();
};

/**
 * Loki's media types: `application/json`, else snappy-compressed protobuf (`application/x-protobuf`,
 * and no Content-Type at all, which Loki also reads as protobuf).
 */
export const lokiFormatOf = (mediaType: string): LokiFormat => {
  if (mediaType === 'application/json') return 'json';
  if (mediaType === 'application/x-protobuf' || mediaType === '') return 'protobuf';
  throw new UnsupportedMediaError(`Content-Type ${mediaType} is not a Loki push: send application/x-protobuf (snappy-compressed) or application/json`);
};
