// What an adapter makes of one request: the records that became events, ready for the publish use
// case, and those it refused, each with its position in the request and why. Every protocol answers
// from this (OTLP's partial_success, Loki's 400 listing, Elasticsearch's per-item results).
import type { FieldIssue } from '../core/errors.ts';
import { acceptEvent, type AcceptedEvent } from '../core/publish-request.ts';

export interface Refusal {
  /** The record's position in the request, counting from 0 in the protocol's own order. */
  position: number;
  /** Where the record is, in the protocol's terms (`resourceLogs[0].scopeLogs[1].logRecords[7]`). */
  where: string;
  reason: string;
}

export interface MappedBatch {
  /** Records in the request. */
  total: number;
  events: AcceptedEvent[];
  /** The request position of each event in `events`. */
  positions: number[];
  refused: Refusal[];
}

const describe = (issues: FieldIssue[]): string => issues.map((issue) => `${issue.field} ${issue.message}`).join('; ');

export class BatchBuilder {
  private readonly batch: MappedBatch = { total: 0, events: [], positions: [], refused: [] };

  /** Validates a mapped record as any published event is validated; a record that fails is refused. */
  add(where: string, candidate: unknown): void {
    const position = this.batch.total++;
    const outcome = acceptEvent(candidate);
    if ('issues' in outcome) this.batch.refused.push({ position, where, reason: describe(outcome.issues) });
    else {
      this.batch.events.push(outcome);
      this.batch.positions.push(position);
    }
  }

  refuse(where: string, reason: string): void {
    this.batch.refused.push({ position: this.batch.total++, where, reason });
  }

  get size(): number {
    return this.batch.total;
  }

  build(): MappedBatch {
    return this.batch;
  }
}

/** One line naming the refused records, the first few with their reasons: for answers and logs. */
export const refusalSummary = (batch: MappedBatch, noun: string, shown = 5): string => {
  const listed = batch.refused.slice(0, shown).map((refusal) => `${refusal.where}: ${refusal.reason}`);
  const more = batch.refused.length > shown ? `; and ${batch.refused.length - shown} more` : '';
  return `${batch.refused.length} of ${batch.total} ${noun} refused: ${listed.join('; ')}${more}`;
};
