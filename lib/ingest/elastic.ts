// Elasticsearch bulk (`POST /_bulk`, `POST /{index}/_bulk`): newline-delimited action and source
// lines, as Fluent Bit, Vector, Logstash, Filebeat, rsyslog, syslog-ng and the official clients send
// them. `index` and `create` actions become events:
//
//   topic      the action's `_index` (else the route's index) with a trailing date removed
//              (`logs-2026.12.02` and `logs-2026-12-02` -> `logs`, Logstash style), by
//              topicFromName's rule
//   event_id   the action's `_id`, else a hash of the source document
//   timestamp  the document's `@timestamp`, else `timestamp` (RFC 3339, a zoneless date-time read as
//              UTC as Elasticsearch does, or epoch milliseconds), else the time of arrival
//   source     the document's `host.name` (nested or dotted), else `host` (a string), else the index
//   payload    the document, unchanged
//
// The answer has one item per action, in order. A duplicate is a success (201 `created`): answering
// it 409 would make Fluent Bit resend the whole chunk forever. `update` and `delete` are refused per
// item (this store keeps events as first received); a source line that is not a JSON object, or a
// document that does not fit the event contract, is refused per item as Elasticsearch refuses a
// document it cannot map (`mapper_parsing_exception`). A malformed action line fails the whole
// request with 400, as Elasticsearch fails it, before anything is accepted.
import { MalformedInputError, TooLargeError, UnsupportedMediaError } from '../core/errors.ts';
import { InexactNumber, parseJsonExact } from '../core/json.ts';
import { BatchBuilder, type MappedBatch } from './batch.ts';
import { contentId, topicFromName } from './identity.ts';
import { fromElasticDate } from './time.ts';

/** The version this endpoint reports to clients that ask (`GET /`): the 8.x line most agents speak. */
export const ELASTIC_COMPATIBLE_VERSION = '8.17.0';

export const ELASTIC_PRODUCT_HEADER = { 'x-elastic-product': 'Elasticsearch' } as const;

type Obj = Record<string, unknown>;

type Operation = 'index' | 'create' | 'update' | 'delete';
const OPERATIONS: readonly string[] = ['index', 'create', 'update', 'delete'];

interface Action {
  op: Operation;
  index: string | undefined;
  id: string | undefined;
  /** Elasticsearch's error type when the item is refused. */
  errorType: string;
}

export interface BulkRequest {
  batch: MappedBatch;
  actions: Action[];
}

/** `logs-2026.12.02`, `logs-2026-12-02`, `logs-2026.12`: the date a daily or monthly index name ends in. */
const TRAILING_DATE = /[-_.]\d{4}[.-]\d{2}(?:[.-]\d{2})?$/;

export const topicFromIndex = (index: string): string => topicFromName(index.replace(TRAILING_DATE, ''), index);

const isObject = (value: unknown): value is Obj =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof InexactNumber);

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

const hostOf = (document: Obj): string | undefined =>
  isObject(document.host) ? text(document.host.name) : (text(document['host.name']) ?? text(document.host) ?? text(document.hostname));

const malformedAction = (line: number, why: string): MalformedInputError =>
  new MalformedInputError(`Malformed action/metadata line [${line}], ${why}`);

const actionOf = (line: string, lineNumber: number, routeIndex: string | undefined): Action => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    // An action and its document on one line: the newlines that end each line were lost (curl's -d
    // strips them; --data-binary keeps them).
    const joined = /^\s*\{.*\}\s*\{/.test(line) ? ' (each action and each document must end in a newline: with curl, send the body with --data-binary, not -d)' : '';
    throw malformedAction(lineNumber, `not JSON: ${(error as Error).message}${joined}`);
  }
  if (!isObject(parsed)) throw malformedAction(lineNumber, 'expected START_OBJECT');
  const keys = Object.keys(parsed);
  if (keys.length !== 1 || !OPERATIONS.includes(keys[0]!)) {
    throw malformedAction(lineNumber, `expected one of index, create, update or delete but found [${keys.join(', ')}]`);
  }
  const op = keys[0] as Operation;
  const metadata = parsed[op];
  if (!isObject(metadata)) throw malformedAction(lineNumber, `the ${op} action must be an object`);
  const rawId = metadata._id;
  const id = typeof rawId === 'string' || typeof rawId === 'number' ? String(rawId) : undefined;
  return { op, index: text(metadata._index) ?? routeIndex, id: id === '' ? undefined : id, errorType: 'mapper_parsing_exception' };
};

export interface BulkOptions {
  /** The index of `POST /{index}/_bulk`. */
  index?: string;
  now: Date;
  maxRecords: number;
}

export const mapBulk = (body: Buffer, options: BulkOptions): BulkRequest => {
  const lines = body.toString('utf8').split('\n');
  const batch = new BatchBuilder();
  const actions: Action[] = [];
  const arrival = options.now.toISOString();
  for (let number = 0; number < lines.length; number += 1) {
    const line = lines[number]!.trim();
    if (line === '') continue;
    const action = actionOf(line, number + 1, options.index);
    actions.push(action);
    if (actions.length > options.maxRecords) throw new TooLargeError(`more than ${options.maxRecords} actions in one bulk request; send smaller bulks`);
    const where = `item ${actions.length - 1} (line ${number + 1})`;
    if (action.op === 'delete') {
      action.errorType = 'illegal_argument_exception';
      batch.refuse(where, 'delete is not supported: events are kept as first received');
      continue;
    }
    number += 1;
    const sourceLine = number < lines.length ? lines[number]!.trim() : '';
    if (sourceLine === '') throw new MalformedInputError(`the ${action.op} action on line ${number} has no source line after it`);
    if (action.op === 'update') {
      action.errorType = 'illegal_argument_exception';
      batch.refuse(where, 'update is not supported: events are kept as first received');
      continue;
    }
    if (action.index === undefined) {
      action.errorType = 'action_request_validation_exception';
      batch.refuse(where, 'index is missing: name it in the action (_index) or the path (/{index}/_bulk)');
      continue;
    }
    let document: unknown;
    try {
      document = parseJsonExact(sourceLine);
    } catch (error) {
      batch.refuse(where, `failed to parse: ${(error as Error).message}`);
      continue;
    }
    if (!isObject(document)) {
      batch.refuse(where, 'failed to parse: the source must be a JSON object');
      continue;
    }
    const stated = document['@timestamp'] ?? document.timestamp;
    const timestamp = stated === undefined ? arrival : fromElasticDate(stated);
    if (timestamp === undefined) {
      batch.refuse(where, `failed to parse field [${'@timestamp' in document ? '@timestamp' : 'timestamp'}] of type [date]: ${JSON.stringify(stated).slice(0, 60)}`);
      continue;
    }
    const eventId = action.id ?? contentId(document);
    action.id = eventId;
    batch.add(where, { topic: topicFromIndex(action.index), event_id: eventId, timestamp, source: hostOf(document) ?? action.index, payload: document });
  }
  if (actions.length === 0) throw new MalformedInputError('the bulk request has no actions: send action and source lines, each ending in a newline');
  return { batch: batch.build(), actions };
};

/** The bulk answer: one item per action, in order; `errors` when any item was refused. */
export const bulkResponse = (request: BulkRequest, tookMs: number) => {
  const refused = new Map(request.batch.refused.map((refusal) => [refusal.position, refusal.reason]));
  const items = request.actions.map((action, position) => {
    const reason = refused.get(position);
    const common = { _index: action.index ?? '', _id: action.id ?? null };
    return {
      [action.op]:
        reason === undefined
          ? { ...common, _version: 1, result: 'created', _shards: { total: 1, successful: 1, failed: 0 }, _seq_no: position, _primary_term: 1, status: 201 }
          : { ...common, status: 400, error: { type: action.errorType, reason } },
    };
  });
  return { took: tookMs, errors: refused.size > 0, items };
};

/** `GET /` for Elasticsearch clients and agents, which read the version before they send. */
export const elasticInfo = (clusterName: string) => ({
  name: clusterName,
  cluster_name: clusterName,
  cluster_uuid: 'log-aggregator',
  version: {
    number: ELASTIC_COMPATIBLE_VERSION,
    build_flavor: 'default',
    build_type: 'log-aggregator',
    lucene_version: '9.12.0',
    minimum_wire_compatibility_version: '7.17.0',
    minimum_index_compatibility_version: '7.0.0',
  },
  tagline: 'You Know, for Search',
});

const CAT_HEALTH_COLUMNS = ['epoch', 'timestamp', 'cluster', 'status', 'node.total', 'node.data', 'shards', 'pri', 'relo', 'init', 'unassign', 'pending_tasks', 'max_task_wait_time', 'active_shards_percent'];

/**
 * `GET /_cat/health` (rsyslog's omelasticsearch checks it before sending): this aggregator's health as
 * Elasticsearch's cluster colour, as text (with `?v`, a header line) or with `?format=json` a list.
 */
export const catHealth = (status: 'ok' | 'degraded' | 'failing', params: Record<string, string | undefined>, now: Date) => {
  const colour = status === 'ok' ? 'green' : status === 'degraded' ? 'yellow' : 'red';
  const values = [String(Math.floor(now.getTime() / 1000)), now.toISOString().slice(11, 19), 'log-aggregator', colour, '1', '1', '0', '0', '0', '0', '0', '0', '-', '100.0%'];
  if (params.format === 'json') {
    return { headers: { ...ELASTIC_PRODUCT_HEADER, 'content-type': 'application/json' }, body: JSON.stringify([Object.fromEntries(CAT_HEALTH_COLUMNS.map((column, index) => [column, values[index]]))]) };
  }
  const lines = [...('v' in params ? [CAT_HEALTH_COLUMNS.join(' ')] : []), values.join(' ')];
  return { headers: { ...ELASTIC_PRODUCT_HEADER, 'content-type': 'text/plain; charset=UTF-8' }, body: `${lines.join('\n')}\n` };
};

/** Elasticsearch's error body, which its clients read: `{ error: { root_cause, type, reason }, status }`. */
export const elasticError = (status: number, type: string, reason: string) => ({
  error: { root_cause: [{ type, reason }], type, reason },
  status,
});

/**
 * Bulk bodies as the clients label them: `application/x-ndjson`, `application/json`, and the
 * versioned `application/vnd.elasticsearch+x-ndjson` / `+json` of the 8.x and 9.x clients.
 */
export const assertBulkMediaType = (mediaType: string): void => {
  if (!/^application\/(?:vnd\.elasticsearch\+)?(?:x-ndjson|json)$/.test(mediaType)) {
    throw new UnsupportedMediaError(`Content-Type header [${mediaType || '(none)'}] is not supported: send application/x-ndjson or application/json`);
  }
};
