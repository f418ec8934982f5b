// The JSON bodies of the read API that more than the functions consume, as types only: the one
// definition, imported by the functions, the publisher, the benchmark, the tests and the web console.
// The console is a browser bundle, so nothing here may import code.

export interface TopicStats {
  topic: string;
  received: number;
  unique: number;
  duplicate: number;
}

/** The body of a 202 from POST /publish. */
export interface PublishAnswer {
  /** Events of the request that are in the queue. */
  accepted: number;
  /** Messages that carry them. */
  messages: number;
  /** Ask GET /receipts/{receipt} when they are counted (the 202 also names that path in Location). */
  receipt: string;
}

/** The body of GET /receipts/{receipt}. */
export interface ReceiptStatus {
  receipt: string;
  /** All of the request's events are stored and counted (in received, the topics' counts, the history). */
  counted: boolean;
  /** Messages that carry the request's events (shared with requests sent at the same moment). */
  messages: number;
  counted_messages: number;
}

/** The body of GET /stats. */
export interface Stats {
  /**
   * Events taken from the queue and counted (each exactly once, as unique or duplicate). It moves when
   * their messages are processed, a moment after POST /publish answered 202 (longer with a backlog,
   * see `queue`); GET /receipts/{receipt} says when a given publish is counted.
   */
  received: number;
  unique_processed: number;
  duplicate_dropped: number;
  /** unique_processed + duplicate_dropped; equals received. */
  processed: number;
  dedup_rate: number;
  /** The topics with the most events received, most first. */
  top_topics: TopicStats[];
  /** Messages (each carries one or many events) still in the queue, and in the DLQ. */
  queue: { visible: number; in_flight: number; delayed: number; dlq: number };
  started_at: string | null;
  uptime_seconds: number;
}
