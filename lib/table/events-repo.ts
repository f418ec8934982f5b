// EventStore on DynamoDB: event items keyed by the dedup key, read by key, by topic and time
// (`topicEvents`), and across topics by time (`allEvents`, merged from its partitions); the live
// tail from tail items (`tailItems`, one per message, naming the events it stored).
//
// The two time indexes hold keys only (schema.ts): a page queries the index, then reads the items it
// names in one BatchGetItem per 100, and applies what the index cannot (expiry, source, content
// search) to the items, in order. For the rest of this file a page of the index looks as a query of
// an index that held whole items would: `Items` in index order, the index's `LastEvaluatedKey`, and
// the entries read as `ScannedCount`.
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { LogEvent } from '../core/event.ts';
import type { EventFilter, EventPage, EventStore, PageBudget, RecentQuery, StoredEvent, TailQuery, TopicQuery } from '../core/ports.ts';
import { batchGetAll, batchWriteAll, isConditionFailure } from './batch.ts';
import { recentPageToken, tailToken, topicPageToken } from './cursor.ts';
import { fromEventItem, isExpired, toEventItem } from './event-item.ts';
import { arrivalShardKeys, eventPk, recentShardKeys, timeKey } from './keys.ts';
import { anyMore, mergeSorted, type MergeSource } from './merge.ts';
import { DELIVERY, INDEX, PK, type IndexDefinition } from './schema.ts';
import { tailKeysOf, toTailItem } from './tail-item.ts';

type Item = Record<string, unknown>;

/** Items per read when a content filter decides what is shown (a page may read several). */
const SEARCH_PAGE_ITEMS = 200;

/** A read never takes more than what is left of the page's budget, so a page stops exactly at it. */
const readSize = (budget: PageBudget, examined: number): number => Math.max(1, Math.min(SEARCH_PAGE_ITEMS, budget.maxExamined - examined));

/** Key condition on a time-ordered sort key (the filters of a keys-only index are applied to the items). */
const timeRange = (sortKeyName: string, filter: EventFilter) => {
  if (!filter.fromSortable && !filter.toSortable) return { range: '', names: {}, values: {} };
  // Sort keys start with the fixed-width time and a '#': '#' sorts before every character that can
  // follow it and '$' right after it, so these bounds include every event at the boundary instants.
  return {
    range: ' AND #sk BETWEEN :from AND :to',
    names: { '#sk': sortKeyName } as Record<string, string>,
    values: { ':from': `${filter.fromSortable ? timeKey(filter.fromSortable) : ''}#`, ':to': `${filter.toSortable ? timeKey(filter.toSortable) : '9999'}$` } as Record<string, unknown>,
  };
};

/**
 * Whether items the index names may be left out (a content search, or a source: both are applied to
 * the items, a keys-only index cannot): then reads take pages of SEARCH_PAGE_ITEMS, not just what the
 * page lacks, or a selective filter would cost a round trip per event.
 */
const filtered = (query: EventFilter): boolean => query.match !== undefined || query.source !== undefined;

/**
 * Tail items a partition's query reads at a time: few at first (one message often stores a page's
 * worth of events, and a tail item names up to a batch's keys), more once those were not enough.
 */
const TAIL_ITEMS_FIRST_READ = 4;
const TAIL_ITEMS_PER_READ = 25;

/** A key a tail item names, and where: the tail item's sort key and the key's index in it. */
interface TailKey {
  at: string;
  index: number;
  key: string;
}

interface IndexPage {
  Items: Item[];
  LastEvaluatedKey?: Item;
  ScannedCount: number;
}

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

  async getDeliveries(keys: string[], options: { consistent?: boolean } = {}): Promise<Map<string, string>> {
    const items = await batchGetAll(
      this.client,
      this.tableName,
      [...new Set(keys)].map((key) => ({ [PK]: key })),
      { projection: '#pk, #delivery', names: { '#pk': PK, '#delivery': DELIVERY }, consistent: options.consistent ?? true },
    );
    return new Map(items.map((item) => [String(item[PK]), String(item[DELIVERY])]));
  }

  async getEvent(topic: string, eventId: string, now: Date): Promise<StoredEvent | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { [PK]: eventPk({ topic, event_id: eventId }) } }));
    return Item && !isExpired(Item, now) ? fromEventItem(Item) : undefined;
  }

  /**
   * Items by their keys (BatchGetItem, 100 a call), as a map; a key whose item is gone is left out.
   * Read eventually consistent, a key the read did not find is read again strongly consistent: an
   * index entry exists only once its item was written, but an eventually consistent read may not see
   * that write yet, and a page that left the event out would move its cursor past it for good. Only
   * items that are really gone (expired, deleted) pay for the second read.
   */
  private async itemsByKey(keys: string[], consistent: boolean): Promise<Map<string, Item>> {
    if (keys.length === 0) return new Map();
    const unique = [...new Set(keys)];
    const read = async (wanted: string[], strongly: boolean) =>
      batchGetAll(this.client, this.tableName, wanted.map((key) => ({ [PK]: key })), { consistent: strongly });
    const found = new Map((await read(unique, consistent)).map((item) => [String(item[PK]), item]));
    const missing = consistent ? [] : unique.filter((key) => !found.has(key));
    if (missing.length > 0) for (const item of await read(missing, true)) found.set(String(item[PK]), item);
    return found;
  }

  /** One page of a time-ordered keys-only index: a partition, an optional time range; entries only. */
  private async queryEntries(
    index: IndexDefinition,
    partition: string,
    query: EventFilter & { limit: number; descending: boolean },
    start: Item | undefined,
  ): Promise<{ entries: Item[]; LastEvaluatedKey?: Item }> {
    const { range, names, values } = timeRange(index.sortKey, query);
    const response: QueryCommandOutput = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index.name,
        KeyConditionExpression: `#partition = :partition${range}`,
        ExpressionAttributeNames: { ...names, '#partition': index.partitionKey },
        ExpressionAttributeValues: { ...values, ':partition': partition },
        ScanIndexForward: !query.descending,
        Limit: query.limit,
        ExclusiveStartKey: start,
      }),
    );
    return { entries: response.Items ?? [], ...(response.LastEvaluatedKey ? { LastEvaluatedKey: response.LastEvaluatedKey } : {}) };
  }

  /** Whether an item is shown: there (an entry can outlive its item a moment), not expired, of the source asked for. */
  private shown(item: Item | undefined, query: EventFilter, now: Date): item is Item {
    return item !== undefined && !isExpired(item, now) && (query.source === undefined || fromEventItem(item).source === query.source);
  }

  /**
   * One page of a time-ordered keys-only index, with the items it names read back, in index order,
   * leaving out expired ones and other sources. Items are read eventually consistent, as the index
   * itself is, and those the read did not see strongly consistent (itemsByKey).
   */
  private async queryIndex(
    index: IndexDefinition,
    partition: string,
    query: EventFilter & { limit: number; descending: boolean },
    now: Date,
    start: Item | undefined,
  ): Promise<IndexPage> {
    const { entries, LastEvaluatedKey } = await this.queryEntries(index, partition, query, start);
    const items = await this.itemsByKey(entries.map((entry) => String(entry[PK])), false);
    const Items = entries.flatMap((entry) => {
      const item = items.get(String(entry[PK]));
      return this.shown(item, query, now) ? [item] : [];
    });
    return { Items, ScannedCount: entries.length, ...(LastEvaluatedKey ? { LastEvaluatedKey } : {}) };
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
      const limit = filtered(query) ? readSize(query, examined) : query.limit - events.length + 1;
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
    const before = (a: Item, b: Item): boolean => (query.descending ? String(a[sortKey]) > String(b[sortKey]) : String(a[sortKey]) < String(b[sortKey]));
    let examined = 0;
    // The merge runs on index entries (keys only); an entry's item is read only when the merge weighs
    // the entry, together with the entries about to come after it: a page of 100 across 8 partitions
    // reads about 100 items, not the 8 pages of entries it queried.
    const items = new Map<string, Item | undefined>();
    const upcoming = (count: number): Item[] => {
      const at = sources.map(() => 0);
      const found: Item[] = [];
      while (found.length < count) {
        let best = -1;
        sources.forEach((source, index) => {
          const head = source.buffer[at[index]!];
          if (head !== undefined && (best < 0 || before(head, sources[best]!.buffer[at[best]!]!))) best = index;
        });
        if (best < 0) break;
        const entry = sources[best]!.buffer[at[best]!]!;
        at[best]! += 1;
        if (!items.has(String(entry[PK]))) found.push(entry);
      }
      return found;
    };
    let accepted = 0;
    const reading = {
      accept: async (entry: Item): Promise<boolean> => {
        const key = String(entry[PK]);
        if (!items.has(key)) {
          // What the page still needs (plus one, to see whether more follows), or a search's read size.
          const wanted = filtered(query) ? readSize(query, 0) : Math.max(1, query.limit - accepted + 1);
          const batch = [entry, ...upcoming(wanted + 1).filter((next) => String(next[PK]) !== key)].slice(0, Math.max(wanted, 1));
          const found = await this.itemsByKey(batch.map((next) => String(next[PK])), false);
          for (const next of batch) items.set(String(next[PK]), found.get(String(next[PK])));
        }
        const item = items.get(key);
        const ok = this.shown(item, query, now) && (!query.match || query.match(fromEventItem(item)));
        if (ok) accepted += 1;
        return ok;
      },
      stop: () => examined >= query.maxExamined || Date.now() >= query.deadline,
      // A partition can give the page at most what it still lacks (plus one, to see what follows).
      fetch: async (source: MergeSource<Item>, wanted: number) => {
        const s = source as Source;
        const limit = filtered(query) ? readSize(query, examined) : Math.min(query.limit, wanted);
        const response = await this.queryEntries(INDEX.recent, s.key, { ...query, limit }, s.next);
        examined += response.entries.length;
        s.buffer.push(...response.entries);
        s.next = response.LastEvaluatedKey;
        s.done = !response.LastEvaluatedKey;
      },
    };
    const entries = await mergeSorted<Item>(sources, { limit: query.limit, before, ...reading });
    // A full page is the last one unless an event follows it in some partition (DynamoDB hands out a
    // LastEvaluatedKey whenever it stops at Limit, even when nothing follows): look for one, within the
    // budget. The sources' state then says where each continues, or that all are exhausted.
    if (entries.length === query.limit) await anyMore(sources, reading);
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
    return { events: entries.map((entry) => fromEventItem(items.get(String(entry[PK]))!)), examined, ...(more ? { next: recentPageToken.encode(positions) } : {}) };
  }

  async putTail(batch: string, storedAt: string, keys: string[], expiresAt: number): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toTailItem(batch, storedAt, keys, expiresAt),
          // The first attempt's item stands (a retry lists the same keys; its stamp is the first one).
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /**
   * Tail items in arrival order (newest first when `descending`), merged from the index's partitions
   * and read back whole (the index holds keys only), one index page at a time as they are consumed.
   * The partitions are read side by side: one after the other, a tail page waited for every
   * partition's query and read in turn (BENCHMARKS.md, "/events pages").
   */
  private async *tailItems(descending: boolean, bounds: { from?: string; below: string }, stop: () => boolean): AsyncGenerator<Item> {
    const { partitionKey, sortKey } = INDEX.arrival;
    const sources = arrivalShardKeys().map((key) => ({ key, buffer: [] as Item[], done: false, next: undefined as Item | undefined, reads: 0 }));
    const refill = async (source: (typeof sources)[number]): Promise<void> => {
      while (source.buffer.length === 0 && !source.done && !stop()) {
        source.reads += 1;
        const range = bounds.from !== undefined ? '#sk BETWEEN :from AND :below' : '#sk < :below';
        const response: QueryCommandOutput = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: INDEX.arrival.name,
            KeyConditionExpression: `#partition = :partition AND ${range}`,
            ExpressionAttributeNames: { '#partition': partitionKey, '#sk': sortKey },
            ExpressionAttributeValues: { ':partition': source.key, ':below': bounds.below, ...(bounds.from !== undefined ? { ':from': bounds.from } : {}) },
            ScanIndexForward: !descending,
            Limit: source.reads === 1 ? TAIL_ITEMS_FIRST_READ : TAIL_ITEMS_PER_READ,
            ExclusiveStartKey: source.next,
          }),
        );
        const entries = response.Items ?? [];
        // Strongly consistent: a tail item is written after its events, so its events are there to read.
        const items = await this.itemsByKey(entries.map((entry) => String(entry[PK])), true);
        source.buffer.push(...entries.flatMap((entry): Item[] => {
          const item = items.get(String(entry[PK]));
          return item ? [item] : [];
        }));
        source.next = response.LastEvaluatedKey;
        source.done = !response.LastEvaluatedKey;
      }
    };
    for (;;) {
      // The next item is known only once every partition that may still hold one has a head to compare.
      await Promise.all(sources.map(refill));
      if (stop() && sources.some((source) => source.buffer.length === 0 && !source.done)) return;
      let best: (typeof sources)[number] | undefined;
      for (const source of sources) {
        const head = source.buffer[0];
        if (head !== undefined && (!best || (String(head[sortKey]) < String(best.buffer[0]![sortKey])) !== descending)) best = source;
      }
      if (!best) return;
      yield best.buffer.shift()!;
    }
  }

  /**
   * The keys the tail items name, in order, each with its place: the tail item's sort key and its
   * index in the item. Newest first when `descending` (each item's keys reversed too). `skip`: keys of
   * the item at `bounds.from` that were handed out before.
   */
  private async *tailKeys(descending: boolean, bounds: { from?: string; below: string }, stop: () => boolean, skip = 0): AsyncGenerator<TailKey> {
    for await (const tailItem of this.tailItems(descending, bounds, stop)) {
      const at = String(tailItem[INDEX.arrival.sortKey]);
      const keys = tailKeysOf(tailItem);
      // BETWEEN is inclusive: of the item at the position itself, the first `skip` were handed out before.
      const first = at === bounds.from ? Math.min(skip, keys.length) : 0;
      if (descending) for (let index = keys.length - 1; index >= first; index -= 1) yield { at, index, key: keys[index]! };
      else for (let index = first; index < keys.length; index += 1) yield { at, index, key: keys[index]! };
    }
  }

  /**
   * The live tail, from tail items: each names the events its message stored, in order; the tail
   * hands out those events, tail item after tail item. Its position is a tail item's sort key and how
   * many of that item's events were handed out already (`n`). Events are read in one BatchGetItem
   * for as many keys as the page still lacks, across tail items: a tail of messages that stored one
   * event each reads its page in one round trip, not one per message.
   */
  async tail(query: TailQuery, now: Date): Promise<EventPage & { next: string }> {
    const after = query.cursor ? tailToken.decode(query.cursor) : undefined;
    const keep = (key: string): boolean => query.topic === undefined || key.startsWith(`${query.topic}#`);
    const accept = (item: Item | undefined): StoredEvent | undefined => {
      if (!item || isExpired(item, now)) return undefined;
      const event = fromEventItem(item);
      if (query.source !== undefined && event.source !== query.source) return undefined;
      return !query.match || query.match(event) ? event : undefined;
    };
    let examined = 0;
    const stop = (): boolean => examined >= query.maxExamined || Date.now() >= query.deadline;
    const keys =
      after === undefined
        ? // No position yet: the newest events, newest first across tail items, then handed out oldest first.
          this.tailKeys(true, { below: query.storedBefore }, stop)
        : this.tailKeys(false, { from: after.after, below: query.storedBefore }, stop, after.n);
    const events: StoredEvent[] = [];
    let newestSeen: string | undefined;
    let position = after;
    // Reads the next keys (without a content filter each key is likely an event: what the page still
    // lacks; with one, 100 at a time) and takes their events in order, until the page is full.
    while (events.length < query.limit && !stop()) {
      const wanted = query.match || query.source !== undefined ? 100 : query.limit - events.length;
      // Keys of other topics pass through the chunk (they move the position) but are not read.
      const chunk: TailKey[] = [];
      for (let kept = 0; kept < wanted; ) {
        const next = await keys.next();
        if (next.done) break;
        chunk.push(next.value);
        if (keep(next.value.key)) kept += 1;
      }
      if (chunk.length === 0) break;
      newestSeen ??= chunk[0]!.at;
      const read = chunk.filter((entry) => keep(entry.key)).map((entry) => entry.key);
      examined += read.length;
      const items = await this.itemsByKey(read, true);
      for (const entry of chunk) {
        const event = keep(entry.key) ? accept(items.get(entry.key)) : undefined;
        if (event) {
          if (events.length >= query.limit) break;
          events.push(event);
        }
        position = { after: entry.at, n: entry.index + 1 };
      }
    }
    await keys.return(undefined);
    if (after === undefined) {
      // Followers continue after the newest tail item there was, shown or not; with none, from the cut-off.
      const next = newestSeen === undefined ? { after: query.storedBefore, n: 0 } : { after: newestSeen, n: Number.MAX_SAFE_INTEGER };
      return { events: events.reverse(), examined, next: tailToken.encode(next) };
    }
    return { events, examined, next: tailToken.encode(position!) };
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
