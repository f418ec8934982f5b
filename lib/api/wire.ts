// The JSON bodies of the read API that more than the functions consume, as types only: the one
// definition, imported by the functions, the publisher, the benchmark, the tests and the web console.
// The console is a browser bundle, so nothing here may import code.

export interface TopicStats {
  topic: string;
  received: number;
  unique: number;
  duplicate: number;
}

/** The body of GET /stats. */
export interface Stats {
  /** Events taken from the queue and counted (each exactly once, as unique or duplicate). */
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
