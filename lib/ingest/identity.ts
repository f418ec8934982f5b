// Names and ids for records that arrive without ours: topics from service names and index names,
// and event ids from a record's content when the sender gave none.
import { createHash } from 'node:crypto';
import { isTopicName, LIMITS } from '../core/event.ts';

/**
 * Deeper than this, `canonicalJson` stops descending. A record this deep has a payload deeper than the
 * 32 levels an event may have, so it is refused whatever its id; and a body that parsed (JSON.parse
 * takes a few thousand levels) must not overflow the stack while its id is computed, which would turn
 * bad input into a 500.
 */
const CANONICAL_MAX_DEPTH = 4 * LIMITS.payloadMaxDepth;

/**
 * JSON with every object's keys sorted, recursively: two records with the same content have the same
 * text however their sender ordered the keys.
 */
export const canonicalJson = (value: unknown, depth = 0): string => {
  if (depth > CANONICAL_MAX_DEPTH) return '"…"';
  if (Array.isArray(value)) return `[${value.map((child) => canonicalJson(child, depth + 1)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, child]) => child !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, child]) => `${JSON.stringify(key)}:${canonicalJson(child, depth + 1)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
};

/**
 * The event id of a record that has none of its own: the first 128 bits of the SHA-256 of its
 * canonical content, in hex (32 characters). A batch sent again maps to the same ids, so its
 * records count as duplicates; two records identical in every field (and nanosecond) are one record.
 * 128 bits make a collision between different records vanishingly unlikely (about 1 in 10^20 for a
 * billion records in one topic).
 */
export const contentId = (content: unknown): string => createHash('sha256').update(canonicalJson(content), 'utf8').digest('hex').slice(0, 32);

/**
 * A topic from a name the sender chose for something else (a `service.name`, a Loki label, an index
 * name), by a fixed rule rather than a refusal: every character outside `A-Z a-z 0-9 . _ -` becomes
 * `_` (`checkout api` -> `checkout_api`, `unknown_service:node` -> `unknown_service_node`); a name
 * longer than 128 characters keeps its first 119 and a `-` and 8 hex characters of its SHA-256, so
 * long names stay apart; an empty name becomes `fallback`.
 */
export const topicFromName = (name: string | undefined, fallback: string): string => {
  if (name === undefined || name === '') return fallback;
  if (isTopicName(name)) return name;
  const safe = [...name].map((char) => (/^[A-Za-z0-9._-]$/.test(char) ? char : '_')).join('');
  if (safe.length <= LIMITS.topicMaxLength) return safe;
  const hash = createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 8);
  return `${safe.slice(0, LIMITS.topicMaxLength - 9)}-${hash}`;
};
