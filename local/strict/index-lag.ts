// Global secondary indexes that trail the table, as on AWS, where a write reaches its GSIs
// asynchronously (usually within a second) and a Query on a GSI meanwhile answers from the index as it
// was: a new item missing, an updated one at its old place with its old attributes, a deleted one still
// there.
//
// Each write's changes reach the indexes after their own delay, between half the lag and the whole of
// it, drawn from the run's seed: on AWS the indexes' partitions catch up independently, so a later
// write can show up in an index before an earlier one (of another item). One item's changes are still
// applied in the order they were written.
//
// Chosen over filtering query answers by a per-key log of recent writes: a filter can hide a new item,
// but cannot show the old version of an updated or deleted one, because the engine no longer has it.
// Here the index itself is a delayed view. The engine writes an item and, in the same LevelDB batch,
// one log entry holding that write's index changes (dynalite's own puts and deletes) and when they are
// due; this applies due entries in the order they were written, each in one batch with the removal of
// its entry. The log is durable, so a kill between the two leaves nothing lost: the next start applies
// what is left before serving (Engine.ready). Changes to one item are written under dynalite's lock
// on that item, one after the other, so their entries are in order.
import type { DynaliteStore, LevelOp } from '../dynalite-engine.ts';
import type { FaultCounter } from './faults.ts';

const LOG_PREFIX = 'local-cloud-index-log~';
// '~' + 1: every key that starts with the prefix sorts below this.
const LOG_END = `${LOG_PREFIX.slice(0, -1)}\u007f`;

interface Entry {
  key: string;
  due: number;
  ops: LevelOp[];
  /** The item's key, for the per-item order (absent for entries left by an earlier run). */
  item?: string;
}

export class IndexLag {
  private queue: Entry[] = [];
  private store?: DynaliteStore;
  private timer?: NodeJS.Timeout;
  private applying = false;
  private counter = 0;

  /** Per item, when its latest change is due: a later change is never applied before it. */
  private readonly lastDue = new Map<string, number>();

  constructor(
    private readonly lagMs: number,
    private readonly faults?: FaultCounter,
    /** A number in [0, 1): how much of the lag (beyond half) each write takes. */
    private readonly random: () => number = Math.random,
  ) {}

  /** Applies what an earlier run left in the log, then (with a lag) starts applying entries as they fall due. */
  async start(store: DynaliteStore): Promise<void> {
    this.store = store;
    const iterator = store.db.iterator({ gte: LOG_PREFIX, lt: LOG_END });
    const left: Entry[] = [];
    try {
      for await (const [key, value] of iterator) left.push({ key, ...(value as { due: number; ops: LevelOp[] }) });
    } finally {
      await iterator.close();
    }
    if (left.length > 0) await this.applyEntries(left);
    if (this.lagMs > 0) this.timer = setInterval(() => void this.applyDue(), Math.max(10, Math.min(100, this.lagMs / 4))).unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Index changes not yet applied. */
  pending(): number {
    return this.queue.length;
  }

  /**
   * A log entry for a write's index changes, to go into the write's own batch; `committed` once the
   * batch is written. Undefined without a lag: the changes are applied with the write.
   */
  delay(item: string, ops: LevelOp[]): { op: LevelOp; committed: () => void } | undefined {
    if (this.lagMs <= 0) return undefined;
    // Time first, so that entries sort in the order they were written across restarts too.
    const key = `${LOG_PREFIX}${String(Date.now()).padStart(15, '0')}.${String((this.counter = (this.counter + 1) % 1e9)).padStart(9, '0')}`;
    const drawn = Date.now() + Math.round(this.lagMs * (0.5 + this.random() / 2));
    const entry: Entry = { key, due: Math.max(drawn, (this.lastDue.get(item) ?? 0) + 1), ops, item };
    return {
      op: { type: 'put', key, value: { due: entry.due, ops } },
      committed: () => {
        // Writes to one item are serialized by dynalite's lock, so this runs in their order.
        this.lastDue.set(item, Math.max(entry.due, this.lastDue.get(item) ?? 0));
        let at = this.queue.length;
        while (at > 0 && this.queue[at - 1]!.due > entry.due) at -= 1;
        this.queue.splice(at, 0, entry);
        this.faults?.add('index_changes_delayed');
      },
    };
  }

  private async applyDue(): Promise<void> {
    if (this.applying) return;
    const now = Date.now();
    let count = 0;
    while (count < this.queue.length && this.queue[count]!.due <= now) count += 1;
    if (count === 0) return;
    this.applying = true;
    try {
      const due = this.queue.slice(0, count);
      await this.applyEntries(due);
      this.queue.splice(0, count);
      for (const entry of due) if (entry.item && this.lastDue.get(entry.item) === entry.due) this.lastDue.delete(entry.item);
    } catch {
      // LevelDB refused the batch (closing): the entries stay in the log and are applied at the next start.
    } finally {
      this.applying = false;
    }
  }

  private applyEntries(entries: Entry[]): Promise<void> {
    const ops = entries.flatMap((entry): LevelOp[] => [...entry.ops, { type: 'del', key: entry.key }]);
    return new Promise((resolve, reject) => this.store!.db.batch(ops, (error) => (error ? reject(error) : resolve())));
  }
}
