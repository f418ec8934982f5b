// Upgrading a table written by an earlier version to this version's layout (`npm run migrate`,
// docs/deploy.md). Earlier versions stored each event's payload, timestamp, source and store time as
// attributes and indexed every event three times with whole copies (`byTopicTime`, `recent`,
// `arrival`); this one keeps those in a compressed body and indexes keys only, with one tail item
// per message for the live tail. The rewrite is exact: every event reads back field for field as it
// did (checked before the command says it is done), every other item (message records, counters)
// is carried over unchanged, and the tail gets one tail item per message that stored events, from
// each event's delivery id and store time, so the live tail starts where it was.
import { fromEventItem, fromLegacyEventItem, isLegacyEventItem } from './event-item.ts';
import { LEGACY_DELIVERY, PK } from './schema.ts';
import { toTailItem } from './tail-item.ts';

type Item = Record<string, unknown>;

export interface MigrationPlan {
  /** Every item the table holds after the migration. */
  items: Item[];
  legacyEvents: number;
  events: number;
  tailItems: number;
  /** Items carried over as they were (records, counters, events already in this layout). */
  unchanged: number;
}

/** The item layout a table was written with: `legacy` if any event item is in the earlier layout. */
export const isLegacyTable = (items: Item[]): boolean => items.some(isLegacyEventItem);

export const planMigration = (items: Item[], horizonSeconds: number): MigrationPlan => {
  const out: Item[] = [];
  // The events each message stored, by batch id: `<batch>:<index in message>` is each one's delivery.
  const byBatch = new Map<string, Array<{ index: number; key: string; storedAt: string }>>();
  let legacyEvents = 0;
  let events = 0;
  for (const item of items) {
    if (!isLegacyEventItem(item)) {
      out.push(item);
      if (!String(item[PK]).startsWith('#')) events += 1;
      continue;
    }
    legacyEvents += 1;
    events += 1;
    out.push({ ...fromLegacyEventItem(item) });
    const delivery = String(item[LEGACY_DELIVERY]);
    const colon = delivery.lastIndexOf(':');
    const batch = delivery.slice(0, colon);
    const list = byBatch.get(batch) ?? [];
    list.push({ index: Number(delivery.slice(colon + 1)), key: String(item[PK]), storedAt: String(item.stored_at) });
    byBatch.set(batch, list);
  }
  for (const [batch, stored] of byBatch) {
    stored.sort((a, b) => a.index - b.index);
    // Stamped as the processor stamps it: when the last of its events was stored.
    const storedAt = stored.reduce((latest, entry) => (entry.storedAt > latest ? entry.storedAt : latest), '');
    out.push(toTailItem(batch, storedAt, stored.map((entry) => entry.key), Math.floor(Date.parse(storedAt) / 1000) + horizonSeconds));
  }
  return { items: out, legacyEvents, events, tailItems: byBatch.size, unchanged: items.length - legacyEvents };
};

/**
 * What differs between the events of the table before and after (nothing, when the migration is
 * exact): each event must read back with the same topic, id, timestamp, source, payload, delivery
 * and store time, and nothing else may be missing.
 */
export const verifyMigration = (before: Item[], after: Map<string, Item>): string[] => {
  const problems: string[] = [];
  for (const item of before) {
    const key = String(item[PK]);
    const now = after.get(key);
    if (!now) {
      problems.push(`${key}: missing after the migration`);
      continue;
    }
    if (key.startsWith('#')) continue;
    const was = fromEventItem(item);
    const is = fromEventItem(now);
    if (JSON.stringify(was) !== JSON.stringify(is)) problems.push(`${key}: reads back differently (${JSON.stringify(was).slice(0, 200)} vs ${JSON.stringify(is).slice(0, 200)})`);
  }
  return problems;
};
