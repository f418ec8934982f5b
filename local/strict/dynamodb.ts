// Strict mode at the endpoint, for DynamoDB: what AWS refuses, throttles or leaves undone that dynalite
// does not. Each rule sees the parsed request and either answers itself, as AWS would, or forwards a
// (possibly smaller) request to dynalite and completes its answer:
//
// - throttling: any data-plane call (control-plane calls such as CreateTable have other limits and
//   errors and only provisioning makes them) is answered ProvisionedThroughputExceededException;
// - limits: an expression over 4 KB (UTF-8 bytes of the raw string, names not substituted) is refused
//   with AWS's ValidationException and wording; so is a key attribute of an item or key, table or
//   index, over 2048 bytes (partition) or 1024 bytes (sort) in UTF-8 (dynalite counts UTF-16 units);
// - batch calls: some entries of a BatchWriteItem and some keys of a BatchGetItem are not forwarded but
//   handed back in UnprocessedItems / UnprocessedKeys, in the shape AWS uses; when every entry would be
//   held back, AWS answers ProvisionedThroughputExceededException instead, and so does this;
// - TTL: UpdateTimeToLive and DescribeTimeToLive are answered by the sweeper (ttl.ts).
import type { Engine } from '../dynalite-engine.ts';
import type { KeyElement, TableShape } from '../meter/capacity.ts';
import { dynamoDbAnswer, dynamoDbThrottled, dynamoDbValidation, type Answer } from './answers.ts';
import type { FaultCounter } from './faults.ts';
import type { FaultRandom } from './random.ts';
import type { StrictSettings } from './settings.ts';
import type { TtlSweeper } from './ttl.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
export type Forward = (input?: Json) => Promise<Answer>;

const DATA_PLANE = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
]);

const EXPRESSIONS = ['KeyConditionExpression', 'FilterExpression', 'ProjectionExpression', 'ConditionExpression', 'UpdateExpression'] as const;
export const MAX_EXPRESSION_BYTES = 4096;
export const MAX_PARTITION_KEY_BYTES = 2048;
export const MAX_SORT_KEY_BYTES = 1024;

const utf8 = (value: string): number => Buffer.byteLength(value, 'utf8');

/** AWS's words for an expression over the limit. */
export const expressionRefusal = (name: string, bytes: number): string =>
  `Invalid ${name}: Expression size has exceeded the maximum allowed size; expression size: ${bytes}`;

export const PARTITION_KEY_REFUSAL = 'One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes';
export const SORT_KEY_REFUSAL = 'One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes';

const expressionProblem = (request: Json): string | undefined => {
  for (const name of EXPRESSIONS) {
    const expression = request[name];
    if (typeof expression === 'string' && utf8(expression) > MAX_EXPRESSION_BYTES) return expressionRefusal(name, utf8(expression));
  }
  return undefined;
};

const keyBytes = (value: Json | undefined): number => {
  if (!value) return 0;
  if (typeof value.S === 'string') return utf8(value.S);
  if (typeof value.B === 'string') return Buffer.from(value.B, 'base64').length;
  return 0; // numbers have no key size limit
};

/** Checks the key attributes an item or key carries, for the table's key and every index's. */
const keyProblem = (table: TableShape, item: Json | undefined): string | undefined => {
  if (!item) return undefined;
  const schemas: KeyElement[][] = [table.KeySchema, ...[...(table.GlobalSecondaryIndexes ?? []), ...(table.LocalSecondaryIndexes ?? [])].map((index) => index.KeySchema)];
  for (const schema of schemas) {
    for (const key of schema) {
      const bytes = keyBytes(item[key.AttributeName]);
      if (key.KeyType === 'HASH' && bytes > MAX_PARTITION_KEY_BYTES) return PARTITION_KEY_REFUSAL;
      if (key.KeyType === 'RANGE' && bytes > MAX_SORT_KEY_BYTES) return SORT_KEY_REFUSAL;
    }
  }
  return undefined;
};

export class DynamoDbRules {
  constructor(
    private readonly settings: StrictSettings,
    private readonly random: FaultRandom,
    private readonly faults: FaultCounter,
    private readonly engine: Engine,
    private readonly ttl: TtlSweeper,
  ) {}

  async handle(operation: string, input: Json, forward: Forward): Promise<Answer> {
    if (operation === 'UpdateTimeToLive') return this.ttl.update(input);
    if (operation === 'DescribeTimeToLive') return this.ttl.describe(input);
    if (DATA_PLANE.has(operation) && this.random.chance('dynamodb-throttle', this.settings.throttle)) {
      this.faults.add('dynamodb_throttled');
      return dynamoDbThrottled();
    }
    if (this.settings.limits) {
      const problem = await this.limitProblem(operation, input);
      if (problem) {
        this.faults.add(problem.startsWith('Invalid') ? 'expression_too_large' : 'key_too_large');
        return dynamoDbValidation(problem);
      }
    }
    if (operation === 'BatchWriteItem') return this.batchWrite(input, forward);
    if (operation === 'BatchGetItem') return this.batchGet(input, forward);
    return forward();
  }

  private async limitProblem(operation: string, input: Json): Promise<string | undefined> {
    const expression =
      operation === 'BatchGetItem'
        ? Object.values((input.RequestItems ?? {}) as Record<string, Json>).map(expressionProblem).find(Boolean)
        : expressionProblem(input);
    if (expression) return expression;
    const tables = new Map<string, TableShape | undefined>();
    const tableOf = async (name: string): Promise<TableShape | undefined> => {
      if (!tables.has(name)) tables.set(name, await this.engine.describeTable(name));
      return tables.get(name);
    };
    const check = async (name: string, item: Json | undefined): Promise<string | undefined> => {
      const table = await tableOf(name);
      return table ? keyProblem(table, item) : undefined;
    };
    switch (operation) {
      case 'PutItem':
        return check(input.TableName, input.Item);
      case 'GetItem':
      case 'DeleteItem':
      case 'UpdateItem':
        return check(input.TableName, input.Key);
      case 'BatchWriteItem':
        for (const [name, requests] of Object.entries((input.RequestItems ?? {}) as Record<string, Json[]>)) {
          for (const request of requests) {
            const problem = await check(name, request.PutRequest?.Item ?? request.DeleteRequest?.Key);
            if (problem) return problem;
          }
        }
        return undefined;
      case 'BatchGetItem':
        for (const [name, request] of Object.entries((input.RequestItems ?? {}) as Record<string, Json>)) {
          for (const key of (request.Keys ?? []) as Json[]) {
            const problem = await check(name, key);
            if (problem) return problem;
          }
        }
        return undefined;
      default:
        return undefined;
    }
  }

  private async batchWrite(input: Json, forward: Forward): Promise<Answer> {
    const requestItems = (input.RequestItems ?? {}) as Record<string, Json[]>;
    const forwarded: Record<string, Json[]> = {};
    const held: Record<string, Json[]> = {};
    let heldCount = 0;
    let total = 0;
    for (const [table, requests] of Object.entries(requestItems)) {
      for (const request of requests) {
        total += 1;
        if (this.random.chance('unprocessed-items', this.settings.unprocessed)) {
          (held[table] ??= []).push(request);
          heldCount += 1;
        } else (forwarded[table] ??= []).push(request);
      }
    }
    if (heldCount === 0) return forward();
    if (heldCount === total) {
      this.faults.add('dynamodb_throttled');
      return dynamoDbThrottled();
    }
    const answer = await forward({ ...input, RequestItems: forwarded });
    if (answer.status !== 200) return answer;
    this.faults.add('unprocessed_items', heldCount);
    const output = JSON.parse(answer.body.toString('utf8')) as Json;
    const unprocessed = (output.UnprocessedItems ?? {}) as Record<string, Json[]>;
    for (const [table, requests] of Object.entries(held)) unprocessed[table] = [...(unprocessed[table] ?? []), ...requests];
    return dynamoDbAnswer(200, { ...output, UnprocessedItems: unprocessed });
  }

  private async batchGet(input: Json, forward: Forward): Promise<Answer> {
    const requestItems = (input.RequestItems ?? {}) as Record<string, Json>;
    const forwarded: Record<string, Json> = {};
    const held: Record<string, Json> = {};
    let heldCount = 0;
    let total = 0;
    for (const [table, request] of Object.entries(requestItems)) {
      const keep: Json[] = [];
      const hold: Json[] = [];
      for (const key of (request.Keys ?? []) as Json[]) {
        total += 1;
        (this.random.chance('unprocessed-keys', this.settings.unprocessed) ? hold : keep).push(key);
      }
      if (keep.length > 0) forwarded[table] = { ...request, Keys: keep };
      // UnprocessedKeys has the shape of RequestItems: the same projection and consistency with the keys.
      if (hold.length > 0) held[table] = { ...request, Keys: hold };
      heldCount += hold.length;
    }
    if (heldCount === 0) return forward();
    if (heldCount === total) {
      this.faults.add('dynamodb_throttled');
      return dynamoDbThrottled();
    }
    const answer = await forward({ ...input, RequestItems: forwarded });
    if (answer.status !== 200) return answer;
    this.faults.add('unprocessed_keys', heldCount);
    const output = JSON.parse(answer.body.toString('utf8')) as Json;
    const unprocessed = (output.UnprocessedKeys ?? {}) as Record<string, Json>;
    for (const [table, request] of Object.entries(held)) {
      unprocessed[table] = unprocessed[table] ? { ...unprocessed[table], Keys: [...unprocessed[table].Keys, ...request.Keys] } : request;
    }
    return dynamoDbAnswer(200, { ...output, UnprocessedKeys: unprocessed });
  }
}
