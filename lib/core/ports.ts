// The storage ports. lib/table implements them on DynamoDB; the domain (processor, fold, queries,
// stats) depends only on these interfaces.
import type { CounterTarget, Counts, MessageRecord } from './counting.ts';
import type { LogEvent } from './event.ts';

export interface StoredEvent extends Omit<LogEvent, 'timestamp_sortable'> {
  /** Which delivery wrote the item: `<batch id>:<index in message>`. */
  delivery: string;
  stored_at: string;
}

export interface EventFilter {
  /** Inclusive bounds on the sortable timestamp. */
  fromSortable?: string;
  toSortable?: string;
  source?: string;
  /** A filter on content the table cannot index (search.ts); applied while reading, within the budget. */
  match?: (event: StoredEvent) => boolean;
}

/**
 * How much one page may read: it stops at `limit` events, or once it has examined `maxExamined` items
 * or passed `deadline` (epoch ms), and then answers with fewer events and a cursor to continue.
 */
export interface PageBudget {
  maxExamined: number;
  deadline: number;
}

export interface TopicQuery extends EventFilter, PageBudget {
  topic: string;
  limit: number;
  descending: boolean;
  /** Where to continue: a `next` token of an earlier page of the same query. */
  cursor?: string;
}

/** Events of all topics, newest or oldest first, merged from the partitions of the `recent` index. */
export interface RecentQuery extends EventFilter, PageBudget {
  limit: number;
  descending: boolean;
  /** Where to continue: a `next` token of an earlier page of the same query. */
  cursor?: string;
}

export interface EventPage {
  events: StoredEvent[];
  /** Opaque position of the next page; absent on the last one. */
  next?: string;
  /** Items the page read from the table, matching or not. */
  examined: number;
}

/** New events in the order they were stored (not their event time), from a position on. */
export interface TailQuery extends EventFilter, PageBudget {
  topic?: string;
  limit: number;
  /** A `next` token of an earlier tail page; without it, the newest events. */
  cursor?: string;
  /** Only events stored before this instant (ISO): later ones may not be visible everywhere yet. */
  storedBefore: string;
}

export interface EventStore {
  /** Conditional put: false when an item with the same key already exists. */
  putIfAbsent(event: LogEvent, delivery: string, storedAt: string, expiresAt?: number): Promise<boolean>;
  /** One event by its key, unless it has expired. */
  getEvent(topic: string, eventId: string, now: Date): Promise<StoredEvent | undefined>;
  /**
   * The deliveries that wrote the given event keys. Strongly consistent unless `consistent` is false:
   * the processor's read before its puts may be stale (a put it wrongly lets through is refused by its
   * condition and decided by a consistent read after), at half the read units.
   */
  getDeliveries(keys: string[], options?: { consistent?: boolean }): Promise<Map<string, string>>;
  queryTopic(query: TopicQuery, now: Date): Promise<EventPage>;
  queryRecent(query: RecentQuery, now: Date): Promise<EventPage>;
  /**
   * Records which events a message stored, in order, for the live tail (once per message: a retry's
   * call leaves the first one as it is).
   */
  putTail(batch: string, storedAt: string, keys: string[], expiresAt: number): Promise<void>;
  /** New events by arrival; `next` is always set (where to follow from). */
  tail(query: TailQuery, now: Date): Promise<EventPage & { next: string }>;
  /** The earliest and latest event time of a topic (two single-item index reads). */
  topicTimeRange(topic: string, now: Date): Promise<{ first?: string; last?: string }>;
  /** Deletes up to `max` events of a topic; `more` when some remain. */
  deleteTopicEvents(topic: string, max: number): Promise<{ deleted: number; more: boolean }>;
  ping(): Promise<void>;
}

export interface CounterState {
  /** 0 when the counter does not exist yet. */
  version: number;
  /** Ids of records applied to this counter whose fold may not have finished. */
  guard: string[];
}

export interface TopicCounts extends Counts {
  topic: string;
}

export interface Totals extends Counts {
  /** When the first record was folded (ISO), if ever. */
  firstAt?: string;
}

/** The first version's counters (before message records), summed; see upgrade.ts. */
export interface LegacyTotals {
  /** Counted by publish, best-effort: it could miss events. */
  received: number;
  unique: number;
  duplicate: number;
  topics: Record<string, { unique: number; duplicate: number }>;
  firstAt?: string;
}

/** Message records and the counters they are folded into (see fold.ts for the protocol). */
export interface CounterStore {
  /** Creates the record unless one with its id exists; returns the stored record either way. */
  putRecord(record: MessageRecord): Promise<{ record: MessageRecord; created: boolean }>;
  /** Strongly consistent reads, in the order given. */
  readCounters(targets: CounterTarget[]): Promise<CounterState[]>;
  /** Of these record ids, those whose record exists and is not folded (strongly consistent). */
  pendingRecords(ids: string[]): Promise<Set<string>>;
  /**
   * Whether each of these records is folded (its counts are in the counters) or still pending; ids
   * without a record are left out (strongly consistent).
   */
  recordStates(ids: string[]): Promise<Map<string, 'pending' | 'folded'>>;
  /**
   * Adds `counts`, puts `apply` in the guard and removes `forget` from it, if the counter's version is
   * still `version`; false when it changed. `firstAt`: the earliest record applied (kept if the counter
   * has none yet); `expiresAt`: when the counter may expire.
   */
  applyToCounter(
    target: CounterTarget,
    version: number,
    counts: Counts,
    guard: { apply: string[]; forget: string[] },
    options: { firstAt: string; expiresAt?: number },
  ): Promise<boolean>;
  markFolded(records: MessageRecord[]): Promise<void>;
  readTotals(): Promise<Totals>;
  /** The `limit` topics with the most events received, most first. */
  topTopics(limit: number): Promise<TopicCounts[]>;
  /** Topics by name, a page at a time. */
  listTopics(limit: number, cursor?: string): Promise<{ topics: TopicCounts[]; next?: string }>;
  topicCounts(topic: string): Promise<TopicCounts | undefined>;
  /** Counts of the given minutes (`YYYY-MM-DDTHH:MM`); minutes with nothing are left out. */
  readMinutes(minutes: string[]): Promise<Map<string, Counts>>;
  /** The first version's counter items, summed; undefined when the table has none. */
  readLegacyTotals(): Promise<LegacyTotals | undefined>;
}
