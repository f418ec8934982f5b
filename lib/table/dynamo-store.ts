// EventStore on DynamoDB: one table; event items keyed `topic#event_id`, counter shard items keyed
// `#counter#N` and `#received#N`, and the `byTopicTime` index for time-ordered reads.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  type BatchGetCommandOutput,
  type BatchWriteCommandOutput,
  type QueryCommandOutput,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { LogEvent } from '../core/event.ts';
import {
  counterShardKey,
  eventKey,
  receivedShardKey,
  recentShardKey,
  recentShardKeys,
  recentSortKey,
  timeSortKey,
} from './keys.ts';
import type {
  ApplyResult,
  CounterTotals,
  EventPage,
  EventFilter,
  EventStore,
  MessageCounts,
  RecentPage,
  RecentQuery,
  StoredEvent,
  TopicQuery,
} from '../core/ports.ts';

export const TOPIC_TIME_INDEX = 'byTopicTime';
export const RECENT_INDEX = 'recent';
const BATCH_GET_LIMIT = 100;

interface EventItem {
  pk: string;
  topic: string;
  tsk: string;
  event_id: string;
  timestamp: string;
  source: string;
  /** The payload as JSON text: DynamoDB maps would change numbers (precision, -0) and reject some keys. */
  payload: string;
  delivery: string;
  stored_at: string;
  /** Partition and sort key of the `recent` index (all topics by time). */
  rsh: string;
  rsk: string;
  /** Epoch seconds after which DynamoDB's TTL deletes the item (only with retention configured). */
  expires_at?: number;
}

const toItem = (event: LogEvent, delivery: string, storedAt: string, expiresAt?: number): EventItem => ({
  pk: eventKey(event),
  topic: event.topic,
  tsk: timeSortKey(event),
  rsh: recentShardKey(event),
  rsk: recentSortKey(event),
  ...(expiresAt === undefined ? {} : { expires_at: expiresAt }),
  event_id: event.event_id,
  timestamp: event.timestamp,
  source: event.source,
  payload: JSON.stringify(event.payload),
  delivery,
  stored_at: storedAt,
});

const fromItem = (item: Record<string, unknown>): StoredEvent => {
  const tsk = String(item.tsk);
  return {
    topic: String(item.topic),
    event_id: String(item.event_id),
    timestamp: String(item.timestamp),
    timestamp_sortable: tsk.slice(0, tsk.indexOf('#')),
    source: String(item.source),
    payload: JSON.parse(String(item.payload)) as Record<string, unknown>,
    delivery: String(item.delivery),
    stored_at: String(item.stored_at),
  };
};

/**
 * Expired items stay readable until DynamoDB's TTL gets round to deleting them (and forever on
 * dynalite, which has no TTL), so every read leaves them out itself.
 */
const notExpired = (now: Date) => ({
  expression: '(attribute_not_exists(#expires) OR #expires > :now)',
  names: { '#expires': 'expires_at' },
  values: { ':now': Math.floor(now.getTime() / 1000) },
});

const isExpired = (item: Record<string, unknown>, now: Date): boolean =>
  typeof item.expires_at === 'number' && item.expires_at <= Math.floor(now.getTime() / 1000);

/** Key condition on a time-ordered sort key and the filter for source and expiry. */
const timeRangeAndFilter = (
  sortKeyName: string,
  filter: EventFilter,
  now: Date,
  bounds: { lower: (from: string) => string; upper: (to: string) => string },
) => {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  let range = '';
  if (filter.fromSortable || filter.toSortable) {
    names['#sk'] = sortKeyName;
    values[':from'] = bounds.lower(filter.fromSortable ?? '');
    values[':to'] = bounds.upper(filter.toSortable ?? '9999');
    range = ' AND #sk BETWEEN :from AND :to';
  }
  const expiry = notExpired(now);
  const filters = [expiry.expression];
  Object.assign(names, expiry.names);
  Object.assign(values, expiry.values);
  if (filter.source !== undefined) {
    names['#source'] = 'source';
    values[':source'] = filter.source;
    filters.push('#source = :source');
  }
  return { range, filter: filters.join(' AND '), names, values };
};

const isMissingMapPath = (error: unknown): boolean =>
  (error as Error).name === 'ValidationException' && /document path/i.test((error as Error).message);

export class DynamoEventStore implements EventStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async putIfAbsent(event: LogEvent, delivery: string, storedAt: string, expiresAt?: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(event, delivery, storedAt, expiresAt),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException') {
        return false;
      }
      throw error;
    }
  }

  /** Strongly consistent BatchGetItem of any number of keys, retrying what DynamoDB leaves unprocessed. */
  private async batchGetAll(
    pks: string[],
    projection: { expression: string; names?: Record<string, string> },
  ): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    for (let start = 0; start < pks.length; start += BATCH_GET_LIMIT) {
      let pending: Array<Record<string, unknown>> | undefined = pks.slice(start, start + BATCH_GET_LIMIT).map((pk) => ({ pk }));
      for (let attempt = 0; pending && pending.length > 0; attempt += 1) {
        if (attempt > 10) throw new Error(`BatchGetItem left ${pending.length} keys unprocessed after ${attempt} attempts`);
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)));
        const response: BatchGetCommandOutput = await this.client.send(
          new BatchGetCommand({
            RequestItems: {
              [this.tableName]: {
                Keys: pending,
                ConsistentRead: true,
                ProjectionExpression: projection.expression,
                ...(projection.names ? { ExpressionAttributeNames: projection.names } : {}),
              },
            },
          }),
        );
        items.push(...(response.Responses?.[this.tableName] ?? []));
        pending = response.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    return items;
  }

  async getDeliveries(keys: string[]): Promise<Map<string, string>> {
    const items = await this.batchGetAll([...new Set(keys)], { expression: 'pk, delivery' });
    return new Map(items.map((item) => [String(item.pk), String(item.delivery)]));
  }

  async applyCounts(shard: number, batch: string, counts: MessageCounts, now: Date): Promise<ApplyResult> {
    const names: Record<string, string> = {
      '#applied': 'applied',
      '#unique': 'unique',
      '#duplicate': 'duplicate',
      '#first': 'first_at',
    };
    const values: Record<string, unknown> = {
      ':batch': batch,
      ':batchSet': new Set([batch]),
      ':u': counts.unique,
      ':d': counts.duplicate,
      ':now': now.toISOString(),
    };
    const sets = ['#first = if_not_exists(#first, :now)'];
    Object.entries(counts.byTopic).forEach(([topic, topicCounts], index) => {
      names[`#t${index}`] = topic;
      // DynamoDB refuses names and values that the expression does not use.
      if (topicCounts.unique > 0 || topicCounts.duplicate > 0) values[':zero'] = 0;
      if (topicCounts.unique > 0) {
        names['#tu'] = 'topic_unique';
        values[`:u${index}`] = topicCounts.unique;
        sets.push(`#tu.#t${index} = if_not_exists(#tu.#t${index}, :zero) + :u${index}`);
      }
      if (topicCounts.duplicate > 0) {
        names['#td'] = 'topic_duplicate';
        values[`:d${index}`] = topicCounts.duplicate;
        sets.push(`#td.#t${index} = if_not_exists(#td.#t${index}, :zero) + :d${index}`);
      }
    });
    const update = new UpdateCommand({
      TableName: this.tableName,
      Key: { pk: counterShardKey(shard) },
      // The batch id joins the applied set in the same write that adds its totals: both or neither.
      UpdateExpression: `ADD #applied :batchSet, #unique :u, #duplicate :d SET ${sets.join(', ')}`,
      ConditionExpression: 'NOT contains(#applied, :batch)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.client.send(update);
        return 'applied';
      } catch (error) {
        if ((error as Error).name === 'ConditionalCheckFailedException') return 'already-applied';
        // First write to this shard: the per-topic maps must exist before a nested SET can add to them.
        if (attempt === 0 && isMissingMapPath(error)) {
          await this.initCounterShard(shard);
          continue;
        }
        throw error;
      }
    }
  }

  private async initCounterShard(shard: number): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: counterShardKey(shard), topic_unique: {}, topic_duplicate: {}, unique: 0, duplicate: 0 },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }

  async addReceived(count: number, shard: number, now: Date): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: receivedShardKey(shard) },
        UpdateExpression: 'ADD received :n SET first_at = if_not_exists(first_at, :now)',
        ExpressionAttributeValues: { ':n': count, ':now': now.toISOString() },
      }),
    );
  }

  async appliedBatches(shard: number): Promise<string[]> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: counterShardKey(shard) },
        ConsistentRead: true,
        ProjectionExpression: 'applied',
      }),
    );
    return [...((Item?.applied as Set<string> | undefined) ?? [])];
  }

  async forgetBatches(shard: number, batches: string[]): Promise<void> {
    // DELETE removes only the listed elements, so it is safe next to concurrent ADDs. Chunks keep each
    // request well under DynamoDB's expression size limit.
    for (let start = 0; start < batches.length; start += 1000) {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: counterShardKey(shard) },
          UpdateExpression: 'DELETE applied :old',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':old': new Set(batches.slice(start, start + 1000)) },
        }),
      );
    }
  }

  async readCounters(shards: number): Promise<CounterTotals> {
    const pks: string[] = [];
    for (let shard = 0; shard < shards; shard += 1) pks.push(counterShardKey(shard), receivedShardKey(shard));
    const items = await this.batchGetAll(pks, {
      // Never the applied-batch set: it is large and only the processor needs it.
      expression: 'pk, received, #u, #d, topic_unique, topic_duplicate, first_at',
      names: { '#u': 'unique', '#d': 'duplicate' },
    });
    const totals: CounterTotals = { received: 0, unique: 0, duplicate: 0, byTopic: {} };
    const firsts: string[] = [];
    for (const item of items) {
      totals.received += Number(item.received ?? 0);
      totals.unique += Number(item.unique ?? 0);
      totals.duplicate += Number(item.duplicate ?? 0);
      if (item.first_at) firsts.push(String(item.first_at));
      for (const [field, map] of [
        ['unique', item.topic_unique],
        ['duplicate', item.topic_duplicate],
      ] as const) {
        for (const [topic, value] of Object.entries((map ?? {}) as Record<string, number>)) {
          const entry = (totals.byTopic[topic] ??= { unique: 0, duplicate: 0 });
          entry[field] += Number(value);
        }
      }
    }
    if (firsts.length > 0) totals.firstActivityAt = firsts.sort()[0];
    return totals;
  }

  async getEvent(topic: string, eventId: string, now: Date): Promise<StoredEvent | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: eventKey({ topic, event_id: eventId }) } }),
    );
    return Item && !isExpired(Item, now) ? fromItem(Item) : undefined;
  }

  /**
   * One page of a time-ordered index: its partition, an optional time range on its sort key, the
   * source filter, and expired items left out.
   */
  private queryIndex(
    index: { name: string; partitionKey: string; sortKey: string },
    partition: string,
    query: EventFilter & { limit: number; descending: boolean },
    now: Date,
    start: Record<string, unknown> | undefined,
  ): Promise<QueryCommandOutput> {
    // Sort keys start with the fixed-width time and a '#': '#' sorts before every character that can
    // follow it and '$' right after it, so these bounds include every event at the boundary instants.
    const { range, filter, names, values } = timeRangeAndFilter(index.sortKey, query, now, {
      lower: (from) => `${from}#`,
      upper: (to) => `${to}$`,
    });
    return this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index.name,
        KeyConditionExpression: `#partition = :partition${range}`,
        FilterExpression: filter,
        ExpressionAttributeNames: { ...names, '#partition': index.partitionKey },
        ExpressionAttributeValues: { ...values, ':partition': partition },
        ScanIndexForward: !query.descending,
        Limit: query.limit,
        ExclusiveStartKey: start,
      }),
    );
  }

  async queryTopic(query: TopicQuery, now: Date): Promise<EventPage> {
    const response = await this.queryIndex(
      { name: TOPIC_TIME_INDEX, partitionKey: 'topic', sortKey: 'tsk' },
      query.topic,
      query,
      now,
      query.cursor,
    );
    return {
      events: (response.Items ?? []).map(fromItem),
      ...(response.LastEvaluatedKey ? { cursor: response.LastEvaluatedKey } : {}),
    };
  }

  /**
   * A k-way merge over the partitions of the `recent` index, fetched lazily. An event is emitted only
   * when every partition that may still hold events has a buffered head to compare it with, so the
   * order is exact; the cursor keeps each partition's position.
   */
  async queryRecent(query: RecentQuery, now: Date): Promise<RecentPage> {
    type Partition = { key: string; buffer: Array<Record<string, unknown>>; next: Record<string, unknown> | undefined; done: boolean; resume: Record<string, unknown> | null | undefined };
    const partitions: Partition[] = recentShardKeys().map((key) => {
      const saved = query.cursor?.[key];
      return { key, buffer: [], next: saved ?? undefined, done: saved === null, resume: saved };
    });
    const fetchMore = async (partition: Partition): Promise<void> => {
      while (partition.buffer.length === 0 && !partition.done) {
        const response = await this.queryIndex(
          { name: RECENT_INDEX, partitionKey: 'rsh', sortKey: 'rsk' },
          partition.key,
          query,
          now,
          partition.next,
        );
        partition.buffer.push(...(response.Items ?? []));
        partition.next = response.LastEvaluatedKey;
        partition.done = !response.LastEvaluatedKey;
      }
    };
    const before = (a: string, b: string): boolean => (query.descending ? a > b : a < b);
    const events: StoredEvent[] = [];
    while (events.length < query.limit) {
      await Promise.all(partitions.map(fetchMore));
      let best: Partition | undefined;
      for (const partition of partitions) {
        const head = partition.buffer[0];
        if (head && (!best || before(String(head.rsk), String(best.buffer[0]!.rsk)))) best = partition;
      }
      if (!best) break;
      const item = best.buffer.shift()!;
      events.push(fromItem(item));
      best.resume = { pk: item.pk, rsh: item.rsh, rsk: item.rsk };
    }
    // Where each partition continues: after the last event taken from it while its buffer still holds
    // events (left out when none was taken and it had no position yet: it starts from its beginning);
    // otherwise where its last query stopped, or null once it is exhausted.
    const cursor: Record<string, Record<string, unknown> | null> = {};
    let more = false;
    for (const partition of partitions) {
      if (partition.buffer.length > 0) {
        if (partition.resume) cursor[partition.key] = partition.resume;
        more = true;
      } else if (partition.done) {
        cursor[partition.key] = null;
      } else {
        cursor[partition.key] = partition.next!;
        more = true;
      }
    }
    return { events, ...(more ? { cursor } : {}) };
  }

  async topicTimeRange(topic: string, now: Date): Promise<{ first?: string; last?: string }> {
    // Usually one item each way; more only when the edge events have expired.
    const edge = async (descending: boolean): Promise<string | undefined> => {
      let cursor: Record<string, unknown> | undefined;
      do {
        const page = await this.queryTopic({ topic, limit: 10, descending, ...(cursor ? { cursor } : {}) }, now);
        if (page.events[0]) return page.events[0].timestamp;
        cursor = page.cursor;
      } while (cursor);
      return undefined;
    };
    const [first, last] = await Promise.all([edge(false), edge(true)]);
    return { ...(first ? { first } : {}), ...(last ? { last } : {}) };
  }

  async deleteTopicEvents(topic: string, max: number): Promise<{ deleted: number; more: boolean }> {
    let deleted = 0;
    let cursor: Record<string, unknown> | undefined;
    do {
      const page: QueryCommandOutput = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: TOPIC_TIME_INDEX,
          KeyConditionExpression: '#topic = :topic',
          ExpressionAttributeNames: { '#topic': 'topic' },
          ExpressionAttributeValues: { ':topic': topic },
          ProjectionExpression: 'pk',
          Limit: Math.min(500, max - deleted),
          ExclusiveStartKey: cursor,
        }),
      );
      const keys = (page.Items ?? []).map((item) => ({ pk: item.pk }));
      for (let start = 0; start < keys.length; start += 25) {
        let pending = keys.slice(start, start + 25).map((Key) => ({ DeleteRequest: { Key } }));
        for (let attempt = 0; pending.length > 0; attempt += 1) {
          if (attempt > 10) throw new Error(`BatchWriteItem left ${pending.length} deletes unprocessed`);
          if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)));
          const response: BatchWriteCommandOutput = await this.client.send(
            new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }),
          );
          pending = (response.UnprocessedItems?.[this.tableName] ?? []) as typeof pending;
        }
      }
      deleted += keys.length;
      cursor = page.LastEvaluatedKey;
    } while (cursor && deleted < max);
    return { deleted, more: cursor !== undefined };
  }

  async ping(): Promise<void> {
    await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: receivedShardKey(0) } }));
  }
}
