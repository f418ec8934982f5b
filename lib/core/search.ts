// Finding events by what they say: free text over the payload and source, and exact values of
// payload fields. Pure functions over a stored event; the table layer applies them while it reads,
// within a budget (see ports.ts, PageBudget).
import { logLine, severityRank, type Severity } from './log-line.ts';
import type { StoredEvent } from './ports.ts';

export type EventMatcher = (event: StoredEvent) => boolean;

/** Events whose source, or any string or number anywhere in the payload, contains `text` (any case). */
export const containsText = (text: string): EventMatcher => {
  const needle = text.toLowerCase();
  const found = (value: unknown): boolean => {
    if (typeof value === 'string') return value.toLowerCase().includes(needle);
    if (typeof value === 'number') return String(value).includes(needle);
    if (value !== null && typeof value === 'object') return Object.values(value).some(found);
    return false;
  };
  return (event) => event.source.toLowerCase().includes(needle) || found(event.payload);
};

/**
 * Events whose payload field at `path` (dot-separated; array elements by index) equals `expected`:
 * strings exactly, numbers by value (`1.0` finds 1), `true`, `false` and `null` as JSON.
 */
export const fieldEquals = (path: string[], expected: string): EventMatcher => {
  const asNumber = expected.trim() === '' ? Number.NaN : Number(expected);
  return (event) => {
    let value: unknown = event.payload;
    for (const segment of path) {
      if (value === null || typeof value !== 'object' || !Object.hasOwn(value, segment)) return false;
      value = (value as Record<string, unknown>)[segment];
    }
    if (typeof value === 'string') return value === expected;
    if (typeof value === 'number') return value === asNumber;
    if (typeof value === 'boolean' || value === null) return JSON.stringify(value) === expected;
    return false;
  };
};

/**
 * Events whose severity (log-line.ts: OpenTelemetry's severity, Loki's level label, a document's
 * `log.level` or `level`) is `least` or more severe; events with no severity are left out.
 */
export const severityAtLeast = (least: Severity): EventMatcher => {
  const rank = severityRank(least);
  return (event) => {
    const { severity } = logLine(event.payload);
    return severity !== undefined && severityRank(severity) >= rank;
  };
};

export const allOf =
  (matchers: EventMatcher[]): EventMatcher =>
  (event) =>
    matchers.every((match) => match(event));
