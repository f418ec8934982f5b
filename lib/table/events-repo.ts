// EventStore on DynamoDB: event items keyed by the dedup key, read by key, by topic and time
// (`byTopicTime`), and across topics by time (`recent`, merged from its partitions).
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { LogEvent } from '../core/event.ts';
import type { EventFilter, EventPage, EventStore, RecentQuery, StoredEvent, TopicQuery } from '../core/ports.ts';
import { batchGetAll, batchWriteAll, isConditionFailure } from './batch.ts';
import { recentPageToken, topicPageToken } from './cursor.ts';
import { fromEventItem, isExpired, notExpiredFilter, toEventItem } from './event-item.ts';
import { eventPk, recentShardKeys } from './keys.ts';
import { mergeSorted, type MergeSource } from './merge.ts';
import { INDEX, PK, type IndexDefinition } from './schema.ts';

type Item = Record<string, unknown>;

/** Key condition on a time-ordered sort key and the filter for source and expiry. */
const timeRangeAndFilter = (sortKeyName: string, filter: EventFilter, now: Date) => {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  let range = '';
  if (filter.fromSortable || filter.toSortable) {
    // Sort keys start with the fixed-width time and a '#': '#' sorts before every character that can
    // follow it and '$' right after it, so these bounds include every event at the boundary instants.
    names['#sk'] = sortKeyName;
    values[':from'] = `${filter.fromSortable ?? ''}#`;
    values[':to'] = `${filter.toSortable ?? '9999'}$`;
    range = ' AND #sk BETWEEN :from AND :to';
  }
  const expiry = notExpiredFilter(now);
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
          Item: toEventItem(event, delivery, storedAt, expiresAt),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async getDeliveries(keys: string[]): Promise<Map<string, string>> {
    const items = await batchGetAll(
      this.client,
      this.tableName,
      [...new Set(keys)].map((key) => ({ [PK]: key })),
      { projection: '#pk, delivery', names: { '#pk': PK } },
    );
    return new Map(items.map((item) => [String(item[PK]), String(item.delivery)]));
  }

  async getEvent(topic: string, eventId: string, now: Date): Promise<StoredEvent | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { [PK]: eventPk({ topic, event_id: eventId }) } }));
    return Item && !isExpired(Item, now) ? fromEventItem(Item) : undefined;
  }

  /** One page of a time-ordered index: a partition, an optional time range, the source filter, no expired items. */
  private queryIndex(
    index: IndexDefinition,
    partition: string,
    query: EventFilter & { limit: number; descending: boolean },
    now: Date,
    start: Item | undefined,
  ): Promise<QueryCommandOutput> {
    const { range, filter, names, values } = timeRangeAndFilter(index.sortKey, query, now);
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
    const start = query.cursor ? topicPageToken.decode(query.cursor, query.topic) : undefined;
    const response = await this.queryIndex(INDEX.topicTime, query.topic, query, now, start);
    return {
      events: (response.Items ?? []).map(fromEventItem),
      ...(response.LastEvaluatedKey ? { next: topicPageToken.encode(response.LastEvaluatedKey) } : {}),
    };
  }

  async queryRecent(query: RecentQuery, now: Date): Promise<EventPage> {
    const saved = query.cursor ? recentPageToken.decode(query.cursor) : {};
    type Source = MergeSource<Item> & { key: string; next: Item | undefined; resume: Item | null | undefined };
    const sources: Source[] = recentShardKeys().map((key) => ({
      key,
      buffer: [],
      next: saved[key] ?? undefined,
      done: saved[key] === null,
      resume: saved[key],
    }));
    const sortKey = INDEX.recent.sortKey;
    const items = await mergeSorted<Item>(sources, {
      limit: query.limit,
      before: (a, b) => (query.descending ? String(a[sortKey]) > String(b[sortKey]) : String(a[sortKey]) < String(b[sortKey])),
      fetch: async (source) => {
        const s = source as Source;
        const response = await this.queryIndex(INDEX.recent, s.key, query, now, s.next);
        s.buffer.push(...(response.Items ?? []));
        s.next = response.LastEvaluatedKey;
        s.done = !response.LastEvaluatedKey;
      },
    });
    // Where each partition continues: after the last event taken from it while its buffer still holds
    // events (left out when none was taken and it had no position yet: it starts from its beginning);
    // otherwise where its last query stopped, or null once it is exhausted.
    const positions: Record<string, Item | null> = {};
    let more = false;
    for (const source of sources) {
      const resume = source.last ? { [PK]: source.last[PK], [INDEX.recent.partitionKey]: source.last[INDEX.recent.partitionKey], [sortKey]: source.last[sortKey] } : source.resume;
      if (source.buffer.length > 0) {
        if (resume) positions[source.key] = resume;
        more = true;
      } else if (source.done) {
        positions[source.key] = null;
      } else {
        positions[source.key] = source.next!;
        more = true;
      }
    }
    return { events: items.map(fromEventItem), ...(more ? { next: recentPageToken.encode(positions) } : {}) };
  }

  async topicTimeRange(topic: string, now: Date): Promise<{ first?: string; last?: string }> {
    // Usually one item each way; more only when the edge events have expired.
    const edge = async (descending: boolean): Promise<string | undefined> => {
      let cursor: string | undefined;
      do {
        const page = await this.queryTopic({ topic, limit: 10, descending, ...(cursor ? { cursor } : {}) }, now);
        if (page.events[0]) return page.events[0].timestamp;
        cursor = page.next;
      } while (cursor);
      return undefined;
    };
    const [first, last] = await Promise.all([edge(false), edge(true)]);
    return { ...(first ? { first } : {}), ...(last ? { last } : {}) };
  }

  async deleteTopicEvents(topic: string, max: number): Promise<{ deleted: number; more: boolean }> {
    let deleted = 0;
    let cursor: Item | undefined;
    do {
      const page: QueryCommandOutput = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: INDEX.topicTime.name,
          KeyConditionExpression: '#topic = :topic',
          ExpressionAttributeNames: { '#topic': INDEX.topicTime.partitionKey, '#pk': PK },
          ExpressionAttributeValues: { ':topic': topic },
          ProjectionExpression: '#pk',
          Limit: Math.min(500, max - deleted),
          ExclusiveStartKey: cursor,
        }),
      );
      const keys = (page.Items ?? []).map((item) => ({ DeleteRequest: { Key: { [PK]: item[PK] } } }));
      await batchWriteAll(this.client, this.tableName, keys);
      deleted += keys.length;
      cursor = page.LastEvaluatedKey;
    } while (cursor && deleted < max);
    return { deleted, more: cursor !== undefined };
  }

  async ping(): Promise<void> {
    await this.client.send(new GetCommand({ TableName: this.tableName, Key: { [PK]: '#ping' } }));
  }
}
