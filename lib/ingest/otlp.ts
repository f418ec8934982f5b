// OTLP/HTTP logs (`POST /v1/logs`): an ExportLogsServiceRequest as protobuf or JSON, mapped record
// by record to events.
//
//   topic      the `topic` the route was given (a query parameter), else the resource's
//              `service.name` (by topicFromName's rule), else `otlp`
//   event_id   the record's `log.record.uid` attribute (OpenTelemetry's "same id, same record"),
//              else a hash of the record's whole content (payload below, resource and scope included)
//   timestamp  `timeUnixNano`, else `observedTimeUnixNano`, else the time of arrival; all nine
//              fraction digits kept
//   source     resource `service.instance.id`, else `host.name`, else `service.name`, else `otlp`
//   payload    body, severity_text, severity_number, event_name, attributes, resource, scope,
//              trace_id and span_id (hex), flags, time_unix_nano and observed_time_unix_nano (the
//              nanoseconds as decimal text), dropped_attributes_count; empty fields are left out
//
// Attribute values become JSON: integers beyond 2^53 and doubles that JSON cannot hold (NaN,
// Infinity) become strings, so every stored number is exactly the one sent; bytes become base64.
//
// A body that cannot be decoded is refused whole (MalformedInputError: 400, which OTLP clients do not
// retry). A record that decodes but does not fit the event contract (too large, nested too deep, an
// unusable `log.record.uid`) is refused alone and reported in `partial_success`; the rest go on.
import { MalformedInputError, TooLargeError, UnsupportedMediaError } from '../core/errors.ts';
import { LIMITS } from '../core/event.ts';
import { BatchBuilder, refusalSummary, type MappedBatch } from './batch.ts';
import { contentId, topicFromName } from './identity.ts';
import { decodeMessage, encodeMessage } from './protobuf.ts';
import { fromUnixNanos } from './time.ts';

export type OtlpFormat = 'protobuf' | 'json';

export const OTLP_FALLBACK_TOPIC = 'otlp';

const REQUEST = 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest';
const RESPONSE = 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse';
const STATUS = 'google.rpc.Status';

/** Nesting followed inside one value; deeper than the event contract's 32 levels is refused anyway. */
const MAX_VALUE_DEPTH = 40;

type Obj = Record<string, unknown>;

/** A record that decodes but cannot become an event: refused alone. */
class RecordRefused extends Error {}

const malformed = (path: string, what: string): MalformedInputError => new MalformedInputError(`${path}: ${what}`);

const object = (value: unknown, path: string): Obj | undefined => {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) throw malformed(path, 'must be an object');
  return value as Obj;
};

const list = (value: unknown, path: string): unknown[] => {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw malformed(path, 'must be an array');
  return value;
};

const string = (value: unknown, path: string): string | undefined => {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw malformed(path, 'must be a string');
  return value;
};

/** int64 and fixed64: decimal text (protobuf's JSON mapping, and our protobuf decoding), or an integer. */
const integer = (value: unknown, path: string): bigint | undefined => {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) return BigInt(value);
  throw malformed(path, 'must be an integer (a number or a decimal string)');
};

const smallInteger = (value: unknown, path: string): number | undefined => {
  const big = integer(value, path);
  if (big === undefined) return undefined;
  if (big < 0n || big > 0xffffffffn) throw malformed(path, 'must be an integer from 0 to 4294967295');
  return Number(big);
};

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** Trace and span ids: bytes in protobuf, hex text in OTLP/JSON (not base64, unlike other bytes). */
const id = (value: unknown, path: string, format: OtlpFormat, length: number): string | undefined => {
  if (value === undefined || value === null) return undefined;
  let hex: string;
  if (format === 'protobuf' && value instanceof Uint8Array) hex = Buffer.from(value).toString('hex');
  else if (format === 'json' && typeof value === 'string' && HEX.test(value)) hex = value.toLowerCase();
  else throw malformed(path, format === 'json' ? 'must be hex text' : 'must be bytes');
  if (hex === '' || /^0+$/.test(hex)) return undefined;
  if (hex.length !== length * 2) throw malformed(path, `must be ${length} bytes`);
  return hex;
};

const base64 = (value: unknown, path: string, format: OtlpFormat): string => {
  if (format === 'protobuf' && value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (format === 'json' && typeof value === 'string') return value;
  throw malformed(path, 'must be bytes (base64 in JSON)');
};

const jsonNumber = (value: number): number | string => (Number.isFinite(value) ? value : String(value));

/** An AnyValue as JSON: strings, booleans, numbers exactly, lists, maps; an empty AnyValue is null. */
const anyValue = (raw: unknown, path: string, format: OtlpFormat, depth: number): unknown => {
  const value = object(raw, path);
  if (value === undefined) return null;
  if (depth > MAX_VALUE_DEPTH) throw new RecordRefused(`${path}: nested more than ${LIMITS.payloadMaxDepth} levels deep`);
  if ('stringValue' in value) return string(value.stringValue, `${path}.stringValue`) ?? '';
  if ('boolValue' in value) {
    if (typeof value.boolValue !== 'boolean') throw malformed(`${path}.boolValue`, 'must be true or false');
    return value.boolValue;
  }
  if ('intValue' in value) {
    const big = integer(value.intValue, `${path}.intValue`) ?? 0n;
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : String(big);
  }
  if ('doubleValue' in value) {
    const double = value.doubleValue;
    if (typeof double === 'number') return jsonNumber(double);
    // An integral double past 2^53 written out in full (1e20 as 100000000000000000000): the JSON
    // reader keeps such a number's digits (parseJsonBody); kept as text, as intValue keeps them.
    if (typeof double === 'bigint') return String(double);
    // OTLP/JSON writes the non-finite doubles as text, as protobuf's JSON mapping does.
    if (double === 'NaN' || double === 'Infinity' || double === '-Infinity') return double;
    throw malformed(`${path}.doubleValue`, 'must be a number');
  }
  if ('arrayValue' in value) {
    const array = object(value.arrayValue, `${path}.arrayValue`);
    return list(array?.values, `${path}.arrayValue.values`).map((item, index) => anyValue(item, `${path}.arrayValue.values[${index}]`, format, depth + 1));
  }
  if ('kvlistValue' in value) {
    const kvlist = object(value.kvlistValue, `${path}.kvlistValue`);
    return keyValues(kvlist?.values, `${path}.kvlistValue.values`, format, depth + 1);
  }
  if ('bytesValue' in value) return base64(value.bytesValue, `${path}.bytesValue`, format);
  return null;
};

/** A KeyValue list as one JSON object (a repeated key: the last one wins). */
const keyValues = (raw: unknown, path: string, format: OtlpFormat, depth = 0): Obj => {
  const result: Obj = {};
  list(raw, path).forEach((item, index) => {
    const pair = object(item, `${path}[${index}]`) ?? {};
    const key = string(pair.key, `${path}[${index}].key`) ?? '';
    result[key] = anyValue(pair.value, `${path}[${index}].value`, format, depth + 1);
  });
  return result;
};

const textAttribute = (attributes: Obj, name: string): string | undefined => {
  const value = attributes[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

/** Big integers in a JSON body as BigInt, not rounded doubles (Node 22's reviver sees each number's text). */
const parseJsonBody = (text: string): unknown =>
  JSON.parse(text, function reviver(this: unknown, _key: string, value: unknown, context?: { source?: string }) {
    if (typeof value === 'number' && !Number.isSafeInteger(value) && context?.source !== undefined && /^-?\d+$/.test(context.source)) {
      return BigInt(context.source);
    }
    return value;
  } as (key: string, value: unknown) => unknown);

const decodeRequest = (body: Buffer, format: OtlpFormat): Obj => {
  if (format === 'protobuf') {
    try {
      return decodeMessage(REQUEST, body);
    } catch (error) {
      throw new MalformedInputError(`the body is not a protobuf ExportLogsServiceRequest: ${(error as Error).message}`, { cause: error });
    }
  }
  let parsed: unknown;
  try {
    parsed = parseJsonBody(body.toString('utf8'));
  } catch (error) {
    // The reviver walks the parsed value recursively: a body nested thousands deep exhausts the stack.
    const why = error instanceof RangeError ? 'it is nested too deeply to read' : (error as Error).message;
    throw new MalformedInputError(`the body is not valid JSON: ${why}`, { cause: error });
  }
  const request = object(parsed, 'the body');
  if (request === undefined) throw malformed('the body', 'must be an ExportLogsServiceRequest object');
  return request;
};

/** Records in a request, counted before anything is mapped, so an oversize request is refused whole and early. */
const countRecords = (request: Obj): number =>
  (Array.isArray(request.resourceLogs) ? request.resourceLogs : []).reduce<number>(
    (sum, resourceLogs) =>
      sum +
      (Array.isArray((resourceLogs as Obj | null)?.scopeLogs) ? ((resourceLogs as Obj).scopeLogs as unknown[]) : []).reduce<number>(
        (inner, scopeLogs) => inner + (Array.isArray((scopeLogs as Obj | null)?.logRecords) ? ((scopeLogs as Obj).logRecords as unknown[]).length : 0),
        0,
      ),
    0,
  );

export interface OtlpOptions {
  format: OtlpFormat;
  /** The topic the route was given; else each resource's service.name. */
  topic?: string;
  /** The time of arrival, for records that carry no time at all. */
  now: Date;
  maxRecords: number;
}

export const mapOtlpLogs = (body: Buffer, options: OtlpOptions): MappedBatch => {
  const { format } = options;
  const request = decodeRequest(body, format);
  const records = countRecords(request);
  if (records > options.maxRecords) {
    throw new TooLargeError(`${records} log records in one request; at most ${options.maxRecords} are accepted (lower the exporter's batch size)`);
  }
  const batch = new BatchBuilder();
  const arrival = options.now.toISOString();
  list(request.resourceLogs, 'resourceLogs').forEach((rawResourceLogs, r) => {
    const resourcePath = `resourceLogs[${r}]`;
    const resourceLogs = object(rawResourceLogs, resourcePath) ?? {};
    const resourceObject = object(resourceLogs.resource, `${resourcePath}.resource`) ?? {};
    const resource = keyValues(resourceObject.attributes, `${resourcePath}.resource.attributes`, format);
    const topic = options.topic ?? topicFromName(textAttribute(resource, 'service.name'), OTLP_FALLBACK_TOPIC);
    const source =
      textAttribute(resource, 'service.instance.id') ?? textAttribute(resource, 'host.name') ?? textAttribute(resource, 'service.name') ?? OTLP_FALLBACK_TOPIC;
    list(resourceLogs.scopeLogs, `${resourcePath}.scopeLogs`).forEach((rawScopeLogs, s) => {
      const scopePath = `${resourcePath}.scopeLogs[${s}]`;
      const scopeLogs = object(rawScopeLogs, scopePath) ?? {};
      const scopeObject = object(scopeLogs.scope, `${scopePath}.scope`) ?? {};
      const scopeName = string(scopeObject.name, `${scopePath}.scope.name`);
      const scopeVersion = string(scopeObject.version, `${scopePath}.scope.version`);
      const scopeAttributes = keyValues(scopeObject.attributes, `${scopePath}.scope.attributes`, format);
      const scope = {
        ...(scopeName ? { name: scopeName } : {}),
        ...(scopeVersion ? { version: scopeVersion } : {}),
        ...(Object.keys(scopeAttributes).length > 0 ? { attributes: scopeAttributes } : {}),
      };
      list(scopeLogs.logRecords, `${scopePath}.logRecords`).forEach((rawRecord, l) => {
        const where = `${scopePath}.logRecords[${l}]`;
        const record = object(rawRecord, where) ?? {};
        const time = integer(record.timeUnixNano, `${where}.timeUnixNano`) ?? 0n;
        const observed = integer(record.observedTimeUnixNano, `${where}.observedTimeUnixNano`) ?? 0n;
        const severityNumber = smallInteger(record.severityNumber, `${where}.severityNumber`) ?? 0;
        const severityText = string(record.severityText, `${where}.severityText`);
        const eventName = string(record.eventName, `${where}.eventName`);
        const flags = smallInteger(record.flags, `${where}.flags`) ?? 0;
        const dropped = smallInteger(record.droppedAttributesCount, `${where}.droppedAttributesCount`) ?? 0;
        const traceId = id(record.traceId, `${where}.traceId`, format, 16);
        const spanId = id(record.spanId, `${where}.spanId`, format, 8);
        try {
          const attributes = keyValues(record.attributes, `${where}.attributes`, format);
          const bodyValue = record.body === undefined || record.body === null ? undefined : anyValue(record.body, `${where}.body`, format, 0);
          const payload = {
            ...(bodyValue !== undefined ? { body: bodyValue } : {}),
            ...(severityText ? { severity_text: severityText } : {}),
            ...(severityNumber ? { severity_number: severityNumber } : {}),
            ...(eventName ? { event_name: eventName } : {}),
            attributes,
            resource,
            scope,
            ...(traceId ? { trace_id: traceId } : {}),
            ...(spanId ? { span_id: spanId } : {}),
            ...(flags ? { flags } : {}),
            ...(time > 0n ? { time_unix_nano: String(time) } : {}),
            ...(observed > 0n ? { observed_time_unix_nano: String(observed) } : {}),
            ...(dropped ? { dropped_attributes_count: dropped } : {}),
          };
          const uid = attributes['log.record.uid'];
          if (uid !== undefined && (typeof uid !== 'string' || uid === '')) {
            throw new RecordRefused('attribute log.record.uid must be a non-empty string');
          }
          batch.add(where, {
            topic,
            event_id: uid ?? contentId(payload),
            timestamp: fromUnixNanos(time) ?? fromUnixNanos(observed) ?? arrival,
            source,
            payload,
          });
        } catch (error) {
          if (!(error instanceof RecordRefused)) throw error;
          batch.refuse(where, error.message);
        }
      });
    });
  });
  return batch.build();
};

/** The success answer: ExportLogsServiceResponse, with partial_success when records were refused. */
export const otlpResponse = (batch: MappedBatch, format: OtlpFormat): Buffer => {
  const partial =
    batch.refused.length > 0 ? { partialSuccess: { rejectedLogRecords: String(batch.refused.length), errorMessage: refusalSummary(batch, 'log records') } } : {};
  return format === 'protobuf' ? encodeMessage(RESPONSE, partial) : Buffer.from(JSON.stringify(partial));
};

/** The failure answer OTLP/HTTP prescribes: a google.rpc.Status in the request's encoding. */
export const otlpStatus = (code: number, message: string, format: OtlpFormat): Buffer =>
  format === 'protobuf' ? encodeMessage(STATUS, { code, message }) : Buffer.from(JSON.stringify({ code, message }));

/** OTLP/HTTP's two media types; anything else is refused (415), as the specification asks. */
export const otlpFormatOf = (mediaType: string): OtlpFormat => {
  if (mediaType === 'application/x-protobuf') return 'protobuf';
  if (mediaType === 'application/json') return 'json';
  throw new UnsupportedMediaError(`Content-Type ${mediaType || '(none)'} is not OTLP: send application/x-protobuf or application/json`);
};

export const OTLP_MEDIA_TYPES: Record<OtlpFormat, string> = { protobuf: 'application/x-protobuf', json: 'application/json' };
