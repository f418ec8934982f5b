// Time to live, which dynalite lacks: UpdateTimeToLive and DescribeTimeToLive are answered here, and a
// sweeper deletes expired items in the background, late, as AWS does ("typically within a few days";
// here within CLOUD_STRICT_TTL_DELAY_SECONDS plus one sweep). As on AWS: only a Number attribute (epoch
// seconds) expires an item, one more than five years in the past never does, an item is deleted only
// if it is still expired when its turn comes (read again under the item's lock), the delete reaches
// the indexes like any other (with their lag) and costs no write units.
import type { Engine } from '../dynalite-engine.ts';
import type { Item } from '../meter/item-size.ts';
import { dynamoDbAnswer, dynamoDbError, dynamoDbValidation, type Answer } from './answers.ts';
import type { FaultCounter } from './faults.ts';

const SPEC_PREFIX = 'local-cloud-ttl~';
const SPEC_END = `${SPEC_PREFIX.slice(0, -1)}\u007f`;
const FIVE_YEARS_SECONDS = 5 * 365 * 86_400;
/** Deletes per sweep at most: a sweep never holds the engine for long. */
const MAX_DELETES_PER_SWEEP = 2_000;

interface TtlSpec {
  AttributeName: string;
  Enabled: boolean;
}

export class TtlSweeper {
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;

  constructor(
    private readonly engine: Engine,
    private readonly options: { sweepMs: number; delayMs: number; faults: FaultCounter; now?: () => number },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sweep(), this.options.sweepMs).unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sweeping;
  }

  private get store() {
    return this.engine.store!;
  }

  async update(input: { TableName?: string; TimeToLiveSpecification?: Partial<TtlSpec> }): Promise<Answer> {
    const spec = input.TimeToLiveSpecification;
    if (!input.TableName || !spec?.AttributeName || typeof spec.Enabled !== 'boolean') {
      return dynamoDbValidation('1 validation error detected: TimeToLiveSpecification must name AttributeName and Enabled');
    }
    if (!(await this.engine.describeTable(input.TableName))) return dynamoDbError('ResourceNotFoundException', `Requested resource not found: Table: ${input.TableName} not found`);
    const stored: TtlSpec = { AttributeName: spec.AttributeName, Enabled: spec.Enabled };
    await new Promise<void>((resolve, reject) => this.store.db.put(SPEC_PREFIX + input.TableName, stored, (error) => (error ? reject(error) : resolve())));
    return dynamoDbAnswer(200, { TimeToLiveSpecification: stored });
  }

  async describe(input: { TableName?: string }): Promise<Answer> {
    if (!input.TableName || !(await this.engine.describeTable(input.TableName))) {
      return dynamoDbError('ResourceNotFoundException', `Requested resource not found: Table: ${input.TableName} not found`);
    }
    const spec = (await this.specs()).get(input.TableName);
    return dynamoDbAnswer(200, {
      TimeToLiveDescription: spec?.Enabled ? { TimeToLiveStatus: 'ENABLED', AttributeName: spec.AttributeName } : { TimeToLiveStatus: 'DISABLED' },
    });
  }

  private async specs(): Promise<Map<string, TtlSpec>> {
    const specs = new Map<string, TtlSpec>();
    const iterator = this.store.db.iterator({ gte: SPEC_PREFIX, lt: SPEC_END });
    try {
      for await (const [key, value] of iterator) specs.set(key.slice(SPEC_PREFIX.length), value as TtlSpec);
    } finally {
      await iterator.close();
    }
    return specs;
  }

  /** One pass over every table with TTL enabled; returns how many items it deleted. */
  sweep(): Promise<void> {
    this.sweeping ??= this.sweepOnce().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async sweepOnce(): Promise<void> {
    const nowSeconds = (this.options.now ?? Date.now)() / 1000;
    const deadline = nowSeconds - this.options.delayMs / 1000;
    const expired = (attribute: string) => (item: Item): boolean => {
      const value = item[attribute] as { N?: string } | undefined;
      if (value?.N === undefined) return false;
      const at = Number(value.N);
      return at <= deadline && at > nowSeconds - FIVE_YEARS_SECONDS;
    };
    try {
      for (const [table, spec] of await this.specs()) {
        if (!spec.Enabled) continue;
        const isExpired = expired(spec.AttributeName);
        const prefix = `item-${table}~`;
        const keys: string[] = [];
        const iterator = this.store.db.iterator({ gte: prefix, lt: `item-${table}\u007f` });
        try {
          for await (const [key, item] of iterator) {
            if (isExpired(item as Item)) keys.push(key.slice(prefix.length));
            if (keys.length >= MAX_DELETES_PER_SWEEP) break;
          }
        } finally {
          await iterator.close();
        }
        for (const key of keys) {
          if (await this.engine.deleteIf(table, key, isExpired)) this.options.faults.add('ttl_deleted');
        }
      }
    } catch {
      // The engine is closing: the next start sweeps again.
    }
  }
}
