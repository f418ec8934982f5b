// API keys. Compared by their SHA-256 digests with a constant-time comparison, so neither timing nor
// key length tells a caller how close a guess was.
import { createHash, timingSafeEqual } from 'node:crypto';
import { ForbiddenError, UnauthorizedError } from '../core/errors.ts';

const digest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

export type Access = 'publish' | 'read' | 'admin' | 'receipt';

const WHAT: Record<Access, string> = { publish: 'publishing', read: 'reading', admin: 'administrative operations', receipt: 'asking about a receipt' };
const NEEDS: Record<Access, string> = { publish: 'a publish key', read: 'a read key', admin: 'an admin key', receipt: 'a publish or read key' };

/**
 * Throws unless `presented` is one of `allowed`. For publishing and reading, no configured keys means
 * open; for administration, no configured keys means the operation is disabled.
 */
export const authorize = (access: Access, presented: string | undefined, allowed: string[]): void => {
  if (allowed.length === 0) {
    if (access !== 'admin') return;
    throw new ForbiddenError('administrative operations are disabled: set ADMIN_API_KEYS to enable them');
  }
  if (!presented) {
    throw new UnauthorizedError(`this operation needs ${NEEDS[access]}: send it as x-api-key, Authorization: Bearer <key>, Authorization: ApiKey <key>, or Authorization: Basic with the key as the password`);
  }
  const candidate = digest(presented);
  // Compare against every key, so the time taken does not depend on which one matched.
  let match = false;
  for (const key of allowed) match = timingSafeEqual(candidate, digest(key)) || match;
  if (!match) throw new ForbiddenError(`the key does not grant ${WHAT[access]}`);
};

/** Keys that may read: the read keys and the admin keys; none (reads open) when no read key is set. */
export const readKeys = (config: { READ_API_KEYS: string[]; ADMIN_API_KEYS: string[] }): string[] =>
  config.READ_API_KEYS.length === 0 ? [] : [...config.READ_API_KEYS, ...config.ADMIN_API_KEYS];

/**
 * Keys that may ask about a publish receipt: any key that may publish (it is the publisher's own
 * request) or read (it tells no more than /stats); none (open) when publishing or reading is open.
 */
export const receiptKeys = (config: { PUBLISH_API_KEYS: string[]; READ_API_KEYS: string[]; ADMIN_API_KEYS: string[] }): string[] =>
  config.PUBLISH_API_KEYS.length === 0 || config.READ_API_KEYS.length === 0 ? [] : [...config.PUBLISH_API_KEYS, ...config.READ_API_KEYS, ...config.ADMIN_API_KEYS];
