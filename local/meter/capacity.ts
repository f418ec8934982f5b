// What a DynamoDB call costs, by AWS's capacity rules, indexes included:
//
// - a write (PutItem, UpdateItem, DeleteItem, each entry of a BatchWriteItem) costs 1 write unit per
//   started KB of the larger of the item before and after (at least 1);
// - a conditional write whose condition fails costs the existing item's size that way (1 when there is
//   none), and writes nothing to any index;
// - each index the write touches costs on top, with the size of its entry (what the index projects:
//   everything for ALL, the table's and the index's keys for KEYS_ONLY, plus NonKeyAttributes for
//   INCLUDE): an entry that appears is one put, one that disappears one delete, one whose index key
//   changes a delete and a put, one whose projected attributes change in place one write; an index the
//   item is not in before or after costs nothing (AWS, "Provisioned throughput considerations for
//   global secondary indexes");
// - a read of one item (GetItem, each key of a BatchGetItem) costs 1 read unit per started 4 KB of the
//   whole item, whatever the projection, half for an eventually consistent read; a missing item still
//   costs one 4 KB read;
// - a Query or Scan costs the sizes of all the items it read (before any filter), summed, then rounded
//   up to 4 KB, with the same halving.
import { itemBytes, type AttributeValue, type Item } from './item-size.ts';

export interface KeyElement {
  AttributeName: string;
  KeyType: 'HASH' | 'RANGE';
}

export interface IndexShape {
  IndexName: string;
  KeySchema: KeyElement[];
  Projection: { ProjectionType?: 'ALL' | 'KEYS_ONLY' | 'INCLUDE'; NonKeyAttributes?: string[] };
}

/** What the meter needs of a table's definition (DescribeTable's shape, as dynalite stores it). */
export interface TableShape {
  TableName: string;
  KeySchema: KeyElement[];
  GlobalSecondaryIndexes?: IndexShape[];
  LocalSecondaryIndexes?: IndexShape[];
}

export const writeUnitsFor = (bytes: number): number => Math.max(1, Math.ceil(bytes / 1024));

export const readUnitsFor = (bytes: number, consistent: boolean): number => Math.max(1, Math.ceil(bytes / 4096)) * (consistent ? 1 : 0.5);

/** The entry an index holds for an item, or undefined when the item lacks one of the index's keys. */
export const indexEntry = (table: TableShape, index: IndexShape, item: Item | undefined): Item | undefined => {
  if (!item || index.KeySchema.some((key) => item[key.AttributeName] === undefined)) return undefined;
  if ((index.Projection.ProjectionType ?? 'ALL') === 'ALL') return item;
  const names = [...table.KeySchema, ...index.KeySchema].map((key) => key.AttributeName).concat(index.Projection.NonKeyAttributes ?? []);
  return Object.fromEntries(names.filter((name) => item[name] !== undefined).map((name) => [name, item[name]!]));
};

const canonical = (value: unknown): string =>
  value !== null && typeof value === 'object'
    ? Array.isArray(value)
      ? `[${value.map(canonical).join(',')}]`
      : `{${Object.keys(value)
          .sort()
          .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
          .join(',')}}`
    : JSON.stringify(value);

const keyOf = (entry: Item, keys: KeyElement[]): string => canonical(keys.map((key) => entry[key.AttributeName] as AttributeValue));

export interface IndexWrite {
  index: string;
  units: number;
  puts: number;
  deletes: number;
  updates: number;
}

export interface WriteCost {
  /** The table's own write units. */
  table: number;
  indexes: IndexWrite[];
}

export const writeCost = (table: TableShape, before: Item | undefined, after: Item | undefined): WriteCost => {
  const tableUnits = writeUnitsFor(Math.max(before ? itemBytes(before) : 0, after ? itemBytes(after) : 0));
  const indexes: IndexWrite[] = [];
  for (const index of [...(table.GlobalSecondaryIndexes ?? []), ...(table.LocalSecondaryIndexes ?? [])]) {
    const old = indexEntry(table, index, before);
    const next = indexEntry(table, index, after);
    const write: IndexWrite = { index: index.IndexName, units: 0, puts: 0, deletes: 0, updates: 0 };
    if (old && next && keyOf(old, index.KeySchema) === keyOf(next, index.KeySchema)) {
      if (canonical(old) !== canonical(next)) {
        write.updates = 1;
        write.units = writeUnitsFor(Math.max(itemBytes(old), itemBytes(next)));
      }
    } else {
      if (old) {
        write.deletes = 1;
        write.units += writeUnitsFor(itemBytes(old));
      }
      if (next) {
        write.puts = 1;
        write.units += writeUnitsFor(itemBytes(next));
      }
    }
    if (write.units > 0) indexes.push(write);
  }
  return { table: tableUnits, indexes };
};

/** A conditional write refused by its condition: the existing item's size, or 1. */
export const conditionFailureUnits = (existing: Item | undefined): number => writeUnitsFor(existing ? itemBytes(existing) : 0);

/** One item read: its whole size (or one 4 KB read when it does not exist). */
export const itemReadUnits = (item: Item | undefined, consistent: boolean): number => readUnitsFor(item ? itemBytes(item) : 0, consistent);

/** A Query or Scan: every item read, summed, then rounded. */
export const queryReadUnits = (items: Item[], consistent: boolean): number =>
  readUnitsFor(
    items.reduce((sum, item) => sum + itemBytes(item), 0),
    consistent,
  );
