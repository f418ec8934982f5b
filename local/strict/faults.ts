// What strict mode did: every fault it injected and every limit it enforced, counted by kind. The local
// cloud serves the counts at GET /_strict and `npm start` prints them when it stops.

export const FAULT_KINDS = [
  'dynamodb_throttled',
  'expression_too_large',
  'key_too_large',
  'unprocessed_items',
  'unprocessed_keys',
  'index_changes_delayed',
  'pages_cut_at_limit',
  'ttl_deleted',
  'sqs_throttled',
  'send_entries_failed',
  'messages_redelivered',
  'short_receives',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

export class FaultCounter {
  private readonly counts = new Map<FaultKind, number>(FAULT_KINDS.map((kind) => [kind, 0]));

  add(kind: FaultKind, count = 1): void {
    this.counts.set(kind, this.counts.get(kind)! + count);
  }

  snapshot(): Record<FaultKind, number> {
    return Object.fromEntries(this.counts) as Record<FaultKind, number>;
  }

  /** `kind n, kind n` of the kinds that happened, for a log line. */
  summary(): string {
    const happened = [...this.counts].filter(([, count]) => count > 0);
    return happened.length === 0 ? 'no faults injected' : happened.map(([kind, count]) => `${kind} ${count}`).join(', ');
  }
}
