// EventStore on DynamoDB: event items keyed by the dedup key, read by key, by topic and time
// (`byTopicTime`), and across topics by time (`recent`, merged from its partitions).
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { LogEvent } from '../core/event.ts';
import type { EventFilter, EventPage, EventStore, PageBudget, RecentQuery, StoredEvent, TailQuery, TopicQuery } from '../core/ports.ts';
import { batchGetAll, batchWriteAll, isConditionFailure } from './batch.ts';
import { recentPageToken, tailToken, topicPageToken } from './cursor.ts';
import { fromEventItem, isExpired, notExpiredFilter, toEventItem } from './event-item.ts';
import { arrivalShardKeys, eventPk, recentShardKeys } from './keys.ts';
import { anyMore, mergeSorted, type MergeSource } from './merge.ts';
import { INDEX, PK, type IndexDefinition } from './schema.ts';

type Item = Record<string, unknown>;

/** Items per read when a content filter decides what is shown (a page may read several). */
const SEARCH_PAGE_ITEMS = 200;

/** A read never takes more than what is left of the page's budget, so a page stops exactly at it. */
const readSize = (budget: PageBudget, examined: number): number => Math.max(1, Math.min(SEARCH_PAGE_ITEMS, budget.maxExamined - examined));

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
    range?: { sortKeyBelow?: string; sortKeyFrom?: string },
  ): Promise<QueryCommandOutput> {
    const filters = timeRangeAndFilter(index.sortKey, query, now);
    let { range: keyRange } = filters;
    const values = { ...filters.values };
    const names = { ...filters.names };
    if (range?.sortKeyFrom !== undefined && range.sortKeyBelow !== undefined) {
      names['#sk'] = index.sortKey;
      Object.assign(values, { ':from': range.sortKeyFrom, ':to': range.sortKeyBelow });
      keyRange = ' AND #sk BETWEEN :from AND :to';
    } else if (range?.sortKeyBelow !== undefined) {
      names['#sk'] = index.sortKey;
      values[':to'] = range.sortKeyBelow;
      keyRange = ' AND #sk < :to';
    }
    return this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index.name,
        KeyConditionExpression: `#partition = :partition${keyRange}`,
        FilterExpression: filters.filter,
        ExpressionAttributeNames: { ...names, '#partition': index.partitionKey },
        ExpressionAttributeValues: { ...values, ':partition': partition },
        ScanIndexForward: !query.descending,
        Limit: query.limit,
        ExclusiveStartKey: start,
      }),
    );
  }

  async queryTopic(query: TopicQuery, now: Date): Promise<EventPage> {
    const { partitionKey, sortKey } = INDEX.topicTime;
    const positionOf = (item: Item): Item => ({ [PK]: item[PK], [partitionKey]: item[partitionKey], [sortKey]: item[sortKey] });
    let start: Item | undefined = query.cursor ? topicPageToken.decode(query.cursor, query.topic) : undefined;
    const events: StoredEvent[] = [];
    let examined = 0;
    for (;;) {
      // A full page looks for one more event before it answers: only an event that follows proves there
      // is a next page (DynamoDB hands out a LastEvaluatedKey whenever it stops at Limit, even when
      // nothing follows). Without a content filter, ask for what is missing plus that one; with one,
      // read in pages.
      const limit = query.match ? readSize(query, examined) : query.limit - events.length + 1;
      const response = await this.queryIndex(INDEX.topicTime, query.topic, { ...query, limit }, now, start);
      examined += response.ScannedCount ?? 0;
      // Where a page that ends at the current item would continue: right after the item before it.
      let before = start;
      for (const item of response.Items ?? []) {
        const event = fromEventItem(item);
        if (!query.match || query.match(event)) {
          // The page is full and this event follows it: the next page starts with it.
          if (events.length === query.limit) return { events, examined, next: topicPageToken.encode(before!) };
          events.push(event);
        }
        before = positionOf(item);
      }
      start = response.LastEvaluatedKey;
      if (!start) return { events, examined };
      // Out of budget (a full page included: whether more follows is not known): continue after what was read.
      if (examined >= query.maxExamined || Date.now() >= query.deadline) return { events, examined, next: topicPageToken.encode(start) };
    }
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
    const { partitionKey, sortKey } = INDEX.recent;
    let examined = 0;
    const reading = {
      ...(query.match ? { accept: (item: Item) => query.match!(fromEventItem(item)) } : {}),
      stop: () => examined >= query.maxExamined || Date.now() >= query.deadline,
      // A partition can give the page at most what it still lacks (plus one, to see what follows).
      fetch: async (source: MergeSource<Item>, wanted: number) => {
        const s = source as Source;
        const limit = query.match ? readSize(query, examined) : Math.min(query.limit, wanted);
        const response = await this.queryIndex(INDEX.recent, s.key, { ...query, limit }, now, s.next);
        examined += response.ScannedCount ?? 0;
        s.buffer.push(...(response.Items ?? []));
        s.next = response.LastEvaluatedKey;
        s.done = !response.LastEvaluatedKey;
      },
    };
    const items = await mergeSorted<Item>(sources, {
      limit: query.limit,
      before: (a, b) => (query.descending ? String(a[sortKey]) > String(b[sortKey]) : String(a[sortKey]) < String(b[sortKey])),
      ...reading,
    });
    // A full page is the last one unless an event follows it in some partition (DynamoDB hands out a
    // LastEvaluatedKey whenever it stops at Limit, even when nothing follows): look for one, within the
    // budget. The sources' state then says where each continues, or that all are exhausted.
    if (items.length === query.limit) await anyMore(sources, reading);
    // Where each partition continues: after the last event taken from it while its buffer still holds
    // events (left out when none was taken and it had no position yet: it starts from its beginning);
    // otherwise where its last query stopped, or null once it is exhausted.
    const positions: Record<string, Item | null> = {};
    let more = false;
    for (const source of sources) {
      const resume = source.last ? { [PK]: source.last[PK], [partitionKey]: source.last[partitionKey], [sortKey]: source.last[sortKey] } : source.resume;
      if (source.buffer.length > 0) {
        if (resume) positions[source.key] = resume;
        more = true;
      } else if (source.done) {
        positions[source.key] = null;
      } else {
        positions[source.key] = source.next ?? resume ?? null;
        if (positions[source.key] === null) delete positions[source.key];
        more = true;
      }
    }
    return { events: items.map(fromEventItem), examined, ...(more ? { next: recentPageToken.encode(positions) } : {}) };
  }

  async tail(query: TailQuery, now: Date): Promise<EventPage & { next: string }> {
    const { sortKey } = INDEX.arrival;
    const after = query.cursor ? tailToken.decode(query.cursor) : undefined;
    const match = (event: StoredEvent): boolean => (query.topic === undefined || event.topic === query.topic) && (!query.match || query.match(event));
    let examined = 0;
    if (after === undefined) {
      // No position yet: the newest events (newest first from every partition, merged), then oldest first.
      const sources = arrivalShardKeys().map((key) => ({ key, buffer: [] as Item[], done: false, next: undefined as Item | undefined }));
      let newestSeen: string | undefined;
      const newest = await mergeSorted<Item>(sources, {
        limit: query.limit,
        before: (a, b) => String(a[sortKey]) > String(b[sortKey]),
        accept: (item) => {
          newestSeen ??= String(item[sortKey]);
          return match(fromEventItem(item));
        },
        stop: () => examined >= query.maxExamined || Date.now() >= query.deadline,
        fetch: async (source) => {
          const s = source as (typeof sources)[number];
          const response = await this.queryIndex(INDEX.arrival, s.key, { ...query, limit: readSize(query, examined), descending: true }, now, s.next, { sortKeyBelow: query.storedBefore });
          examined += response.ScannedCount ?? 0;
          s.buffer.push(...(response.Items ?? []));
          s.next = response.LastEvaluatedKey;
          s.done = !response.LastEvaluatedKey;
        },
      });
      // Followers continue after the newest event there was, shown or not; with none, from the cut-off.
      return { events: newest.reverse().map(fromEventItem), examined, next: tailToken.encode(newestSeen ?? query.storedBefore) };
    }
    const sources = arrivalShardKeys().map((key) => ({ key, buffer: [] as Item[], done: false, next: undefined as Item | undefined }));
    let last = after;
    const items = await mergeSorted<Item>(sources, {
      limit: query.limit,
      before: (a, b) => String(a[sortKey]) < String(b[sortKey]),
      accept: (item) => {
        last = String(item[sortKey]);
        // BETWEEN is inclusive: the event at the position itself was handed out before.
        return last !== after && match(fromEventItem(item));
      },
      stop: () => examined >= query.maxExamined || Date.now() >= query.deadline,
      fetch: async (source) => {
        const s = source as (typeof sources)[number];
        const response = await this.queryIndex(INDEX.arrival, s.key, { ...query, limit: readSize(query, examined), descending: false }, now, s.next, {
          sortKeyFrom: after,
          sortKeyBelow: query.storedBefore,
        });
        examined += response.ScannedCount ?? 0;
        s.buffer.push(...(response.Items ?? []));
        s.next = response.LastEvaluatedKey;
        s.done = !response.LastEvaluatedKey;
      },
    });
    return { events: items.map(fromEventItem), examined, next: tailToken.encode(last) };
  }

  async topicTimeRange(topic: string, now: Date): Promise<{ first?: string; last?: string }> {
    // Usually one item each way; more only when the edge events have expired.
    const edge = async (descending: boolean): Promise<string | undefined> => {
      let cursor: string | undefined;
      do {
        const page = await this.queryTopic({ topic, limit: 10, descending, maxExamined: Number.POSITIVE_INFINITY, deadline: Number.POSITIVE_INFINITY, ...(cursor ? { cursor } : {}) }, now);
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
