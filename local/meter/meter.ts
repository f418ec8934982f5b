// The local cloud's cost meter: what the calls it served would have consumed on AWS, by AWS's sizing
// rules (capacity.ts, sqs-requests.ts). DynamoDB is metered inside the engine (dynalite-engine.ts),
// where the item before and after every write is known, so each index entry is counted as AWS counts
// it; SQS at the shared endpoint. Served at GET /_meter; POST /_meter/reset starts over.
import { conditionFailureUnits, itemReadUnits, queryReadUnits, writeCost, type TableShape } from './capacity.ts';
import type { Item } from './item-size.ts';
import { billedRequests, sqsPayloadBytes } from './sqs-requests.ts';

interface TableUsage {
  write_units: number;
  read_units: number;
  /** Writes that changed an item (puts, updates, deletes), each BatchWriteItem entry counted. */
  writes: number;
  /** Conditional writes refused by their condition, and what they cost (part of write_units). */
  condition_failures: number;
  condition_failure_units: number;
  /** Items read by key (GetItem, BatchGetItem keys). */
  item_reads: number;
  /** Query and Scan calls, and the items they read. */
  queries: number;
  items_scanned: number;
}

interface IndexUsage {
  write_units: number;
  read_units: number;
  entries_put: number;
  entries_deleted: number;
  entries_updated: number;
}

export interface MeterSnapshot {
  since: string;
  dynamodb: {
    write_units: number;
    read_units: number;
    tables: Record<string, TableUsage>;
    /** By `<table>/<index>`; their units are part of the totals above. */
    indexes: Record<string, IndexUsage>;
  };
  sqs: {
    /** API calls. */
    calls: number;
    /** What they are billed as: calls, with each 64 KB chunk of payload beyond the first one more. */
    billed_requests: number;
    operations: Record<string, { calls: number; billed_requests: number; payload_bytes: number }>;
  };
}

const emptyTable = (): TableUsage => ({
  write_units: 0,
  read_units: 0,
  writes: 0,
  condition_failures: 0,
  condition_failure_units: 0,
  item_reads: 0,
  queries: 0,
  items_scanned: 0,
});

const emptyIndex = (): IndexUsage => ({ write_units: 0, read_units: 0, entries_put: 0, entries_deleted: 0, entries_updated: 0 });

const empty = (): MeterSnapshot => ({
  since: new Date().toISOString(),
  dynamodb: { write_units: 0, read_units: 0, tables: {}, indexes: {} },
  sqs: { calls: 0, billed_requests: 0, operations: {} },
});

export class Meter {
  private state = empty();

  private table(name: string): TableUsage {
    return (this.state.dynamodb.tables[name] ??= emptyTable());
  }

  private index(table: string, index: string): IndexUsage {
    return (this.state.dynamodb.indexes[`${table}/${index}`] ??= emptyIndex());
  }

  write(table: TableShape, before: Item | undefined, after: Item | undefined): void {
    const cost = writeCost(table, before, after);
    const usage = this.table(table.TableName);
    usage.writes += 1;
    usage.write_units += cost.table;
    this.state.dynamodb.write_units += cost.table;
    for (const write of cost.indexes) {
      const index = this.index(table.TableName, write.index);
      index.write_units += write.units;
      index.entries_put += write.puts;
      index.entries_deleted += write.deletes;
      index.entries_updated += write.updates;
      usage.write_units += write.units;
      this.state.dynamodb.write_units += write.units;
    }
  }

  conditionFailed(tableName: string, existing: Item | undefined): void {
    const units = conditionFailureUnits(existing);
    const usage = this.table(tableName);
    usage.condition_failures += 1;
    usage.condition_failure_units += units;
    usage.write_units += units;
    this.state.dynamodb.write_units += units;
  }

  itemRead(tableName: string, item: Item | undefined, consistent: boolean): void {
    const units = itemReadUnits(item, consistent);
    const usage = this.table(tableName);
    usage.item_reads += 1;
    usage.read_units += units;
    this.state.dynamodb.read_units += units;
  }

  queried(tableName: string, indexName: string | undefined, items: Item[], consistent: boolean): void {
    const units = queryReadUnits(items, consistent);
    const usage = this.table(tableName);
    usage.queries += 1;
    usage.items_scanned += items.length;
    usage.read_units += units;
    if (indexName) this.index(tableName, indexName).read_units += units;
    this.state.dynamodb.read_units += units;
  }

  sqs(operation: string, input: Record<string, unknown>, output: Record<string, unknown> | undefined): void {
    const payload = sqsPayloadBytes(operation, input, output);
    const billed = billedRequests(payload);
    const entry = (this.state.sqs.operations[operation] ??= { calls: 0, billed_requests: 0, payload_bytes: 0 });
    entry.calls += 1;
    entry.billed_requests += billed;
    entry.payload_bytes += payload;
    this.state.sqs.calls += 1;
    this.state.sqs.billed_requests += billed;
  }

  snapshot(): MeterSnapshot {
    return structuredClone(this.state);
  }

  /** Starts over; returns what was counted until now. */
  reset(): MeterSnapshot {
    const before = this.state;
    this.state = empty();
    return before;
  }
}
