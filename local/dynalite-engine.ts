// The one place that reaches into the embedded DynamoDB (dynalite 4.0.0, patched) below its HTTP API.
// Metering has to happen where the item before and after each write is known, which no response
// shows (dynalite reports the table's capacity only, in its own sizes, and only when asked); the
// strict behaviours that concern what the engine stores and reads (indexes that trail the table, pages
// cut at 1 MB by AWS's sizes, TTL) have to act on the storage itself. Every action dynalite serves goes
// through five functions of its `db` module, which the actions call through the module object, so
// wrapping them here sees every call, whichever endpoint (shared or direct) it came in by:
//
// - `create`: the store of a dynalite started with `localCloudEngine` in its options is this engine's;
// - `writeItem` (added by patches/dynalite+4.0.0.patch; PutItem, UpdateItem, DeleteItem and every
//   BatchWriteItem entry): writes the item and its index entries in one LevelDB batch, as the patch
//   does, meters the write with the item before and after, and in strict mode hands the global
//   indexes' changes to the index lag (strict/index-lag.ts) instead of applying them at once;
// - `checkConditional`: a refused condition is a paid write on AWS;
// - `addConsumedCapacity` with isRead (GetItem, every BatchGetItem key): an item read;
// - `queryTable` (Query, Scan): runs without the filter and projection, so the items actually read
//   are seen (AWS charges for those, and its 1 MB page limit counts them), then applies the filter and
//   projection itself exactly as dynalite does.
//
// checkConditional and addConsumedCapacity are not handed the store; they are attributed to the one
// engine a process may attach (a second is refused).
import db from 'dynalite/db';
import type { TableShape } from './meter/capacity.ts';
import type { Item } from './meter/item-size.ts';
import { itemBytes } from './meter/item-size.ts';
import type { Meter } from './meter/meter.ts';
import type { FaultCounter } from './strict/faults.ts';
import { IndexLag } from './strict/index-lag.ts';

type Callback = (error?: Error | null) => void;

export interface LevelOp {
  type: 'put' | 'del';
  key: string;
  value?: unknown;
}

/** What this file uses of dynalite's store (db/index.js `create`). */
export interface DynaliteStore {
  options: { localCloudEngine?: Engine };
  db: {
    batch(ops: LevelOp[], cb: Callback): void;
    put(key: string, value: unknown, cb: Callback): void;
    iterator(options: { gte?: string; lt?: string }): AsyncIterableIterator<[string, unknown]> & { close(): Promise<void> };
  };
  getTable(name: string, cb: (error: Error | null, table?: DynaliteTable) => void): void;
  getItemDb(name: string): ItemDb;
  getIndexDb(type: 'Local' | 'Global', table: string, index: string): { prefix: string };
}

export type DynaliteTable = TableShape & { AttributeDefinitions: Array<{ AttributeName: string; AttributeType: string }> };

export interface ItemDb {
  prefix: string;
  get(key: string, cb: (error: Error | null, item?: Item) => void): void;
  lock(key: string, fn: (release: <T extends (...args: never[]) => void>(cb: T) => T) => void): void;
}

interface IndexActions {
  puts: Array<{ index: string; key: string; item: Item }>;
  deletes: Array<{ index: string; key: string }>;
}

export interface EngineStrictness {
  faults: FaultCounter;
  /** Milliseconds a write takes to reach the global secondary indexes; 0: at once. */
  indexLagMs: number;
  /** Query and Scan pages end after this many bytes read, by AWS's sizes; 0: dynalite's own rule. */
  pageBytes: number;
  /** Seeded draws in [0, 1) for each write's index lag. */
  random: () => number;
}

const REQUIRED = ['create', 'writeItem', 'checkConditional', 'addConsumedCapacity', 'queryTable', 'getIndexActions', 'matchesExprFilter', 'matchesFilter', 'mapPaths'];

let current: Engine | undefined;
let installed = false;

const install = (): void => {
  if (installed) return;
  const missing = REQUIRED.filter((name) => typeof db[name] !== 'function');
  if (missing.length > 0) {
    throw new Error(`dynalite's db module lacks ${missing.join(', ')}: local/dynalite-engine.ts is written for dynalite 4.0.0 with patches/dynalite+4.0.0.patch`);
  }
  installed = true;
  const original = Object.fromEntries(REQUIRED.map((name) => [name, db[name]])) as Record<string, (...args: any[]) => any>; // eslint-disable-line @typescript-eslint/no-explicit-any

  db.create = function create(options: DynaliteStore['options']) {
    const store = original.create!.call(this, options) as DynaliteStore;
    options?.localCloudEngine?.attach(store);
    return store;
  };

  db.writeItem = function writeItem(store: DynaliteStore, table: DynaliteTable, itemDb: ItemDb, key: string, before: Item | undefined, after: Item | undefined, cb: Callback) {
    const engine = store.options.localCloudEngine;
    if (!engine) return original.writeItem!.apply(this, arguments as unknown as unknown[]); // eslint-disable-line prefer-rest-params
    engine.write(table, itemDb, key, before ?? undefined, after ?? undefined, cb, true);
  };

  db.checkConditional = function checkConditional(data: { TableName: string }, existing: Item | undefined) {
    const refusal = original.checkConditional!.call(this, data, existing);
    if (refusal) current?.meter.conditionFailed(data.TableName, existing ?? undefined);
    return refusal;
  };

  db.addConsumedCapacity = function addConsumedCapacity(data: { TableName: string; ConsistentRead?: boolean }, isRead: boolean, item: Item | undefined) {
    if (isRead) current?.meter.itemRead(data.TableName, item ?? undefined, data.ConsistentRead === true);
    return original.addConsumedCapacity!.apply(this, arguments as unknown as unknown[]); // eslint-disable-line prefer-rest-params
  };

  db.queryTable = function queryTable(
    store: DynaliteStore,
    table: DynaliteTable,
    data: Record<string, any>, // eslint-disable-line @typescript-eslint/no-explicit-any
    opts: unknown,
    isLocal: boolean,
    fetchFromItemDb: boolean,
    startKeyNames: string[],
    cb: (error: Error | null, result?: Record<string, unknown>) => void,
  ) {
    const engine = store.options.localCloudEngine;
    // Reading local-index items from the table (not used here) is left to dynalite, unmetered.
    if (!engine || fetchFromItemDb) return original.queryTable!.apply(this, arguments as unknown as unknown[]); // eslint-disable-line prefer-rest-params
    const raw = { ...data, Select: undefined, _filter: undefined, QueryFilter: undefined, ScanFilter: undefined, _projection: undefined, AttributesToGet: undefined };
    original.queryTable!.call(this, store, table, raw, opts, isLocal, fetchFromItemDb, startKeyNames, (error: Error | null, result?: Record<string, unknown>) => {
      if (error || !result) return cb(error);
      let read = (result.Items ?? []) as Item[];
      let last = result.LastEvaluatedKey as Item | undefined;
      const limit = engine.strict?.pageBytes ?? 0;
      if (limit > 0) {
        // AWS stops reading once a page has read 1 MB (the item that crosses the limit included).
        let bytes = 0;
        let kept = 0;
        while (kept < read.length && bytes < limit) bytes += itemBytes(read[kept++]!);
        if (kept < read.length) {
          read = read.slice(0, kept);
          const lastItem = read[kept - 1]!;
          last = Object.fromEntries(startKeyNames.map((name) => [name, lastItem[name]!]));
          engine.strict!.faults.add('pages_cut_at_limit');
        }
      }
      engine.meter.queried(data.TableName, data.IndexName, read, data.ConsistentRead === true);
      // The rest of dynalite's queryTable: filter, projection, count.
      let items = read;
      const queryFilter = data.QueryFilter || data.ScanFilter;
      if (data._filter) items = items.filter((item) => original.matchesExprFilter!(item, data._filter.expression));
      else if (queryFilter) items = items.filter((item) => original.matchesFilter!(item, queryFilter, data.ConditionalOperator));
      const paths = data._projection ? data._projection.paths : data.AttributesToGet;
      if (paths) items = items.map((item) => original.mapPaths!(paths, item));
      const answer: Record<string, unknown> = { ScannedCount: read.length, Count: items.length };
      if (data.Select !== 'COUNT') answer.Items = items;
      if (last) answer.LastEvaluatedKey = last;
      if (result.ConsumedCapacity) answer.ConsumedCapacity = result.ConsumedCapacity;
      cb(null, answer);
    });
  };
};

/** The engine of one local cloud: its dynalite store, its meter, and (strict mode) its strictness. */
export class Engine {
  store?: DynaliteStore;
  readonly indexLag: IndexLag;

  constructor(
    readonly meter: Meter,
    readonly strict?: EngineStrictness,
  ) {
    install();
    this.indexLag = new IndexLag(strict?.indexLagMs ?? 0, strict?.faults, strict?.random);
  }

  /** dynalite's options that make its store this engine's. */
  dynaliteOptions(): { localCloudEngine: Engine } {
    return { localCloudEngine: this };
  }

  attach(store: DynaliteStore): void {
    if (current && current !== this) throw new Error('one local cloud per process: its DynamoDB engine is already attached');
    current = this;
    this.store = store;
  }

  /**
   * Before the engine serves: index changes a strict run left pending (they are durable) are applied
   * first, so that no later write can be overtaken by an older change.
   */
  async ready(): Promise<void> {
    await this.indexLag.start(this.requireStore());
  }

  stop(): void {
    this.indexLag.stop();
    if (current === this) current = undefined;
  }

  private requireStore(): DynaliteStore {
    if (!this.store) throw new Error('the engine has no store: start dynalite with engine.dynaliteOptions()');
    return this.store;
  }

  /**
   * Writes an item (after undefined: deletes it) and its index entries in one LevelDB batch; with an
   * index lag, the global indexes' changes go into the lag's log in that same batch instead.
   * `metered` false for TTL deletes, which AWS does not charge.
   */
  write(table: DynaliteTable, itemDb: ItemDb, key: string, before: Item | undefined, after: Item | undefined, cb: Callback, metered: boolean): void {
    const store = this.requireStore();
    const opsOf = (type: 'Local' | 'Global', actions: IndexActions): LevelOp[] => [
      // getIndexActions deletes an entry only when its key changes: a delete and a put never share a key.
      ...actions.deletes.map((action): LevelOp => ({ type: 'del', key: store.getIndexDb(type, table.TableName, action.index).prefix + action.key })),
      ...actions.puts.map((action): LevelOp => ({ type: 'put', key: store.getIndexDb(type, table.TableName, action.index).prefix + action.key, value: action.item })),
    ];
    const ops = opsOf('Local', db.getIndexActions(table.LocalSecondaryIndexes ?? [], before ?? null, after ?? null, table) as IndexActions);
    const globalOps = opsOf('Global', db.getIndexActions(table.GlobalSecondaryIndexes ?? [], before ?? null, after ?? null, table) as IndexActions);
    const delayed = globalOps.length > 0 ? this.indexLag.delay(itemDb.prefix + key, globalOps) : undefined;
    if (delayed) ops.push(delayed.op);
    else ops.push(...globalOps);
    ops.push(after ? { type: 'put', key: itemDb.prefix + key, value: after } : { type: 'del', key: itemDb.prefix + key });
    store.db.batch(ops, (error) => {
      if (error) return cb(error);
      delayed?.committed();
      if (metered) this.meter.write(table, before, after);
      cb();
    });
  }

  describeTable(name: string): Promise<DynaliteTable | undefined> {
    return new Promise((resolve, reject) =>
      this.requireStore().getTable(name, (error, table) => {
        if (error && (error as Error & { statusCode?: number }).statusCode === 400) resolve(undefined);
        else if (error) reject(error);
        else resolve(table);
      }),
    );
  }

  /** Deletes the item under the table's lock if `stillExpired` says so of its current version. */
  deleteIf(tableName: string, key: string, stillExpired: (item: Item) => boolean): Promise<boolean> {
    const store = this.requireStore();
    return this.describeTable(tableName).then(
      (table) =>
        new Promise<boolean>((resolve, reject) => {
          if (!table) return resolve(false);
          const itemDb = store.getItemDb(tableName);
          itemDb.lock(key, (release) => {
            const done = release((error: Error | null, deleted: boolean) => (error ? reject(error) : resolve(deleted)));
            itemDb.get(key, (error, item) => {
              if (error && error.name !== 'NotFoundError') return done(error, false);
              if (!item || !stillExpired(item)) return done(null, false);
              this.write(table, itemDb, key, item, undefined, (writeError) => done(writeError ?? null, !writeError), false);
            });
          });
        }),
    );
  }
}
