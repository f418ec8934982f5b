// CounterStore on DynamoDB: message records (`#record#<id>`) and the counters they are folded into:
// total shards (`#total#<n>`), one item per topic (`#topic#<name>`, listed by the `topicNames` index
// and ranked by the `topicVolume` index) and one per minute of history (`#minute#<YYYY-MM-DDTHH:MM>`).
// Every counter item is small and bounded: three numbers, a version, and a guard of the record ids
// being folded (see core/fold.ts).
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { TOTAL_SHARDS, type CounterTarget, type Counts, type MessageRecord } from '../core/counting.ts';
import type { CounterState, CounterStore, LegacyTotals, TopicCounts, Totals } from '../core/ports.ts';
import { batchGetAll, batchWriteAll, isConditionFailure } from './batch.ts';
import { topicListToken } from './cursor.ts';
import {
  counterPk,
  LEGACY_MAX_SHARDS,
  legacyCounterPk,
  legacyReceivedPk,
  recordPk,
  TOPIC_NAMES_PARTITION,
  volumeShardKey,
  volumeShardKeys,
} from './keys.ts';
import { mergeSorted } from './merge.ts';
import { EXPIRES, FOLDED, GUARD_PREFIX, INDEX, PK, VERSION, type IndexDefinition } from './schema.ts';

type Item = Record<string, unknown>;

/** Guard ids removed by one update at most: keeps every expression far below DynamoDB's 4 KB limit. */
export const MAX_FORGET_PER_UPDATE = 100;

// ---- message record codec

const toRecordItem = (record: MessageRecord, folded: boolean): Item => ({
  [PK]: recordPk(record.id),
  at: record.at,
  received: record.totals.received,
  unique: record.totals.unique,
  duplicate: record.totals.duplicate,
  // Per topic [received, unique, duplicate] as JSON text: compact, and any topic name is a valid key.
  topics: JSON.stringify(Object.fromEntries(Object.entries(record.topics).map(([topic, c]) => [topic, [c.received, c.unique, c.duplicate]]))),
  ...(record.expiresAt > 0 ? { [EXPIRES]: record.expiresAt } : {}),
  ...(record.history === false ? { history: false } : {}),
  ...(folded ? { [FOLDED]: true } : {}),
});

const fromRecordItem = (id: string, item: Item): MessageRecord => ({
  id,
  at: String(item.at),
  totals: { received: Number(item.received), unique: Number(item.unique), duplicate: Number(item.duplicate) },
  topics: Object.fromEntries(
    Object.entries(JSON.parse(String(item.topics)) as Record<string, [number, number, number]>).map(([topic, [received, unique, duplicate]]) => [
      topic,
      { received, unique, duplicate },
    ]),
  ),
  expiresAt: Number(item[EXPIRES] ?? 0),
  ...(item.history === false ? { history: false as const } : {}),
});

const countsOf = (item: Item | undefined): Counts => ({
  received: Number(item?.received ?? 0),
  unique: Number(item?.unique ?? 0),
  duplicate: Number(item?.duplicate ?? 0),
});

/** Counts summed over items, with the earliest `first_at` among them. */
const sumItems = (items: Item[]): Totals => {
  const totals: Totals = { received: 0, unique: 0, duplicate: 0 };
  for (const item of items) {
    const counts = countsOf(item);
    totals.received += counts.received;
    totals.unique += counts.unique;
    totals.duplicate += counts.duplicate;
    if (item.first_at && (!totals.firstAt || String(item.first_at) < totals.firstAt)) totals.firstAt = String(item.first_at);
  }
  return totals;
};

const guardOf = (item: Item | undefined): string[] =>
  Object.keys(item ?? {})
    .filter((name) => name.startsWith(GUARD_PREFIX))
    .map((name) => name.slice(GUARD_PREFIX.length));

// ---- the conditional counter update (pure, so its size can be checked against DynamoDB's limits)

export interface CounterUpdate {
  Key: Item;
  UpdateExpression: string;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
}

export const buildCounterUpdate = (
  target: CounterTarget,
  version: number,
  counts: Counts,
  { apply, forget }: { apply: string[]; forget: string[] },
  options: { firstAt: string; expiresAt?: number },
): CounterUpdate => {
  const names: Record<string, string> = { '#v': VERSION, '#r': 'received', '#u': 'unique', '#d': 'duplicate' };
  const values: Record<string, unknown> = { ':one': 1, ':r': counts.received, ':u': counts.unique, ':d': counts.duplicate };
  const sets: string[] = [];
  apply.forEach((id, index) => {
    names[`#a${index}`] = `${GUARD_PREFIX}${id}`;
    sets.push(`#a${index} = :t`);
    values[':t'] = true;
  });
  const removes = forget.slice(0, MAX_FORGET_PER_UPDATE).map((id, index) => {
    names[`#f${index}`] = `${GUARD_PREFIX}${id}`;
    return `#f${index}`;
  });
  if (target.kind === 'topic') {
    // The keys of the two topic indexes; written once, so the keys-only `topicNames` entry never changes.
    Object.assign(names, { '#tix': INDEX.topicNames.partitionKey, '#tname': INDEX.topicNames.sortKey, '#vsh': INDEX.topicVolume.partitionKey });
    Object.assign(values, { ':tix': TOPIC_NAMES_PARTITION, ':tname': target.topic, ':vsh': volumeShardKey(target.topic) });
    sets.push('#tix = if_not_exists(#tix, :tix)', '#tname = if_not_exists(#tname, :tname)', '#vsh = if_not_exists(#vsh, :vsh)');
  }
  if (target.kind === 'total') {
    names['#first'] = 'first_at';
    values[':first'] = options.firstAt;
    sets.push('#first = if_not_exists(#first, :first)');
  }
  if (options.expiresAt !== undefined) {
    names['#exp'] = EXPIRES;
    values[':exp'] = options.expiresAt;
    sets.push('#exp = :exp');
  }
  // DynamoDB refuses names and values that the expressions do not use.
  if (version > 0) values[':v'] = version;
  else names['#pk'] = PK;
  return {
    Key: { [PK]: counterPk(target) },
    UpdateExpression: ['ADD #v :one, #r :r, #u :u, #d :d', sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : '']
      .filter(Boolean)
      .join(' '),
    // Version 0: the counter does not exist yet, and must not when the update lands.
    ConditionExpression: version > 0 ? '#v = :v' : 'attribute_not_exists(#pk)',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
};

const topicCountsOf = (item: Item): TopicCounts => ({ topic: String(item[INDEX.topicNames.sortKey]), ...countsOf(item) });

export class DynamoCounterStore implements CounterStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** One page of one partition of an index, in its sort order. */
  private queryPartition(index: IndexDefinition, partition: string, options: { limit: number; descending?: boolean; start?: Item }): Promise<QueryCommandOutput> {
    return this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index.name,
        KeyConditionExpression: '#p = :p',
        ExpressionAttributeNames: { '#p': index.partitionKey },
        ExpressionAttributeValues: { ':p': partition },
        ScanIndexForward: !options.descending,
        Limit: options.limit,
        ...(options.start ? { ExclusiveStartKey: options.start } : {}),
      }),
    );
  }

  async putRecord(record: MessageRecord): Promise<{ record: MessageRecord; created: boolean }> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toRecordItem(record, false),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
        }),
      );
      return { record, created: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { [PK]: recordPk(record.id) }, ConsistentRead: true }));
    // It existed a moment ago and is kept for the whole horizon; gone now means the table lost it.
    if (!Item) return this.putRecord(record);
    return { record: fromRecordItem(record.id, Item), created: false };
  }

  async readCounters(targets: CounterTarget[]): Promise<CounterState[]> {
    const items = await batchGetAll(this.client, this.tableName, targets.map((target) => ({ [PK]: counterPk(target) })));
    const byKey = new Map(items.map((item) => [String(item[PK]), item]));
    return targets.map((target) => {
      const item = byKey.get(counterPk(target));
      return { version: Number(item?.[VERSION] ?? 0), guard: guardOf(item) };
    });
  }

  async pendingRecords(ids: string[]): Promise<Set<string>> {
    const items = await batchGetAll(
      this.client,
      this.tableName,
      [...new Set(ids)].map((id) => ({ [PK]: recordPk(id) })),
      { projection: '#pk, #folded', names: { '#pk': PK, '#folded': FOLDED } },
    );
    const prefix = recordPk('');
    return new Set(items.filter((item) => item[FOLDED] !== true).map((item) => String(item[PK]).slice(prefix.length)));
  }

  async recordStates(ids: string[]): Promise<Map<string, 'pending' | 'folded'>> {
    const items = await batchGetAll(
      this.client,
      this.tableName,
      [...new Set(ids)].map((id) => ({ [PK]: recordPk(id) })),
      { projection: '#pk, #folded', names: { '#pk': PK, '#folded': FOLDED } },
    );
    const prefix = recordPk('');
    return new Map(items.map((item) => [String(item[PK]).slice(prefix.length), item[FOLDED] === true ? 'folded' : 'pending']));
  }

  async applyToCounter(
    target: CounterTarget,
    version: number,
    counts: Counts,
    guard: { apply: string[]; forget: string[] },
    options: { firstAt: string; expiresAt?: number },
  ): Promise<boolean> {
    const update = buildCounterUpdate(target, version, counts, guard, options);
    try {
      await this.client.send(new UpdateCommand({ TableName: this.tableName, ...update }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async markFolded(records: MessageRecord[]): Promise<void> {
    // A record's content never changes after it is created, so writing it whole again is safe.
    await batchWriteAll(this.client, this.tableName, records.map((record) => ({ PutRequest: { Item: toRecordItem(record, true) } })));
  }

  async readTotals(): Promise<Totals> {
    const items = await batchGetAll(
      this.client,
      this.tableName,
      Array.from({ length: TOTAL_SHARDS }, (_, shard) => ({ [PK]: counterPk({ kind: 'total', shard }) })),
      { projection: '#r, #u, #d, first_at', names: { '#r': 'received', '#u': 'unique', '#d': 'duplicate' }, consistent: false },
    );
    return sumItems(items);
  }

  /**
   * The top topics by volume: ranked by the volume index, counted from the counter items. An index
   * entry can trail its item — GSIs are eventually consistent on AWS, and the embedded engine writes
   * an item's index entries before the item itself, so a kill in between leaves an entry for a version
   * that never landed (the chaos test met one) — so a topic is listed once, and its counts are read
   * from the item (one BatchGetItem).
   */
  async topTopics(limit: number): Promise<TopicCounts[]> {
    if (limit === 0) return [];
    const { sortKey } = INDEX.topicVolume;
    const sources = volumeShardKeys().map((shard) => ({ shard, buffer: [] as Item[], done: false }));
    const listed = new Set<string>();
    const ranked = await mergeSorted<Item>(sources, {
      limit,
      accept: (item) => {
        const pk = String(item[PK]);
        if (listed.has(pk)) return false;
        listed.add(pk);
        return true;
      },
      before: (a, b) => Number(a[sortKey]) > Number(b[sortKey]) || (Number(a[sortKey]) === Number(b[sortKey]) && String(a[PK]) < String(b[PK])),
      fetch: async (source) => {
        const s = source as (typeof sources)[number];
        const response = await this.queryPartition(INDEX.topicVolume, s.shard, { limit, descending: true });
        s.buffer.push(...(response.Items ?? []));
        // The top `limit` of a partition is all the merge can need from it.
        s.done = true;
      },
    });
    const keys = ranked.map((item) => String(item[PK]));
    const items = await batchGetAll(this.client, this.tableName, keys.map((pk) => ({ [PK]: pk })), { consistent: false });
    return items
      .map(topicCountsOf)
      .sort((a, b) => b.received - a.received || a.topic.localeCompare(b.topic));
  }

  async listTopics(limit: number, cursor?: string): Promise<{ topics: TopicCounts[]; next?: string }> {
    // One entry more than the page shows: only an entry that follows proves there is a next page
    // (DynamoDB hands out a LastEvaluatedKey whenever it stops at Limit, even when nothing follows).
    const response = await this.queryPartition(INDEX.topicNames, TOPIC_NAMES_PARTITION, {
      limit: limit + 1,
      ...(cursor ? { start: topicListToken.decode(cursor) } : {}),
    });
    const entries = response.Items ?? [];
    const shown = entries.slice(0, limit);
    const keys = shown.map((item) => String(item[PK]));
    const items = await batchGetAll(this.client, this.tableName, keys.map((pk) => ({ [PK]: pk })), { consistent: false });
    const byKey = new Map(items.map((item) => [String(item[PK]), item]));
    // After the last entry shown when one follows; where the read stopped when it ended early (1 MB).
    const next = entries.length > limit ? shown.at(-1) : response.LastEvaluatedKey;
    return {
      topics: keys.flatMap((pk) => (byKey.has(pk) ? [topicCountsOf(byKey.get(pk)!)] : [])),
      ...(next ? { next: topicListToken.encode({ [PK]: next[PK], [INDEX.topicNames.partitionKey]: next[INDEX.topicNames.partitionKey], [INDEX.topicNames.sortKey]: next[INDEX.topicNames.sortKey] }) } : {}),
    };
  }

  async topicCounts(topic: string): Promise<TopicCounts | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { [PK]: counterPk({ kind: 'topic', topic }) } }));
    return Item ? topicCountsOf(Item) : undefined;
  }

  async readMinutes(minutes: string[]): Promise<Map<string, Counts>> {
    const items = await batchGetAll(
      this.client,
      this.tableName,
      minutes.map((minute) => ({ [PK]: counterPk({ kind: 'minute', minute }) })),
      { projection: '#pk, #r, #u, #d', names: { '#pk': PK, '#r': 'received', '#u': 'unique', '#d': 'duplicate' }, consistent: false },
    );
    const prefix = counterPk({ kind: 'minute', minute: '' });
    return new Map(items.map((item) => [String(item[PK]).slice(prefix.length), countsOf(item)]));
  }

  async readLegacyTotals(): Promise<LegacyTotals | undefined> {
    const keys: Item[] = [];
    for (let shard = 0; shard < LEGACY_MAX_SHARDS; shard += 1) keys.push({ [PK]: legacyCounterPk(shard) }, { [PK]: legacyReceivedPk(shard) });
    const items = await batchGetAll(this.client, this.tableName, keys, {
      // Never the applied-batch set: it can be hundreds of KB and the upgrade does not need it.
      projection: '#pk, #r, #u, #d, topic_unique, topic_duplicate, first_at',
      names: { '#pk': PK, '#r': 'received', '#u': 'unique', '#d': 'duplicate' },
    });
    if (items.length === 0) return undefined;
    const legacy: LegacyTotals = { ...sumItems(items), topics: {} };
    for (const item of items) {
      for (const [field, map] of [
        ['unique', item.topic_unique],
        ['duplicate', item.topic_duplicate],
      ] as const) {
        for (const [topic, value] of Object.entries((map ?? {}) as Record<string, number>)) {
          (legacy.topics[topic] ??= { unique: 0, duplicate: 0 })[field] += Number(value);
        }
      }
    }
    return legacy;
  }
}
