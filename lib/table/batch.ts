// BatchGetItem and BatchWriteItem for any number of keys: chunked to DynamoDB's per-call limits and
// retried, with backoff, for whatever DynamoDB leaves unprocessed.
import {
  BatchGetCommand,
  BatchWriteCommand,
  type BatchGetCommandOutput,
  type BatchWriteCommandOutput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { DependencyError } from '../core/errors.ts';
import { LIMITS } from './schema.ts';

type Item = Record<string, unknown>;

const MAX_ATTEMPTS = 10;

/**
 * Exponential backoff with full jitter (AWS's advice for unprocessed items): a fixed schedule made every
 * caller that DynamoDB turned away come back at the same instants (found with strict mode's
 * UnprocessedItems, docs/strict-mode.md).
 */
const backoff = (attempt: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(1000, 25 * 2 ** attempt)));

const untilProcessed = async <T>(what: string, first: T[], send: (pending: T[]) => Promise<T[] | undefined>): Promise<void> => {
  let pending: T[] | undefined = first;
  for (let attempt = 0; pending && pending.length > 0; attempt += 1) {
    if (attempt >= MAX_ATTEMPTS) throw new DependencyError(`${what} left ${pending.length} unprocessed after ${attempt} attempts`);
    if (attempt > 0) await backoff(attempt);
    pending = await send(pending);
  }
};

export const batchGetAll = async (
  client: DynamoDBDocumentClient,
  table: string,
  keys: Item[],
  options: { projection?: string; names?: Record<string, string>; consistent?: boolean } = {},
): Promise<Item[]> => {
  const items: Item[] = [];
  const chunks: Item[][] = [];
  for (let start = 0; start < keys.length; start += LIMITS.batchGetKeys) chunks.push(keys.slice(start, start + LIMITS.batchGetKeys));
  await Promise.all(
    chunks.map((chunk) =>
      untilProcessed('BatchGetItem', chunk, async (pending) => {
        const response: BatchGetCommandOutput = await client.send(
          new BatchGetCommand({
            RequestItems: {
              [table]: {
                Keys: pending,
                ConsistentRead: options.consistent ?? true,
                ...(options.projection ? { ProjectionExpression: options.projection } : {}),
                ...(options.names ? { ExpressionAttributeNames: options.names } : {}),
              },
            },
          }),
        );
        items.push(...(response.Responses?.[table] ?? []));
        return response.UnprocessedKeys?.[table]?.Keys;
      }),
    ),
  );
  return items;
};

type WriteRequest = { PutRequest: { Item: Item } } | { DeleteRequest: { Key: Item } };

export const batchWriteAll = async (client: DynamoDBDocumentClient, table: string, requests: WriteRequest[]): Promise<void> => {
  for (let start = 0; start < requests.length; start += LIMITS.batchWriteItems) {
    await untilProcessed('BatchWriteItem', requests.slice(start, start + LIMITS.batchWriteItems), async (pending) => {
      const response: BatchWriteCommandOutput = await client.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      return response.UnprocessedItems?.[table] as WriteRequest[] | undefined;
    });
  }
};

export const isConditionFailure = (error: unknown): boolean => (error as Error | undefined)?.name === 'ConditionalCheckFailedException';
