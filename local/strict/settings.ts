// Strict mode's settings (docs/strict-mode.md), from the environment, validated once with the variable
// named on error. Every behaviour has its own setting; 0 turns a behaviour off.
import { z } from 'zod';

const rate = z.coerce.number().min(0).max(1);
const flag = z
  .enum(['0', '1', 'true', 'false', ''])
  .default('0')
  .transform((value) => value === '1' || value === 'true');
const on = z
  .enum(['0', '1', 'true', 'false'])
  .default('1')
  .transform((value) => value === '1' || value === 'true');

const schema = z.object({
  CLOUD_STRICT: flag,
  /** Seeds every fault decision; unset: a seed is drawn and reported, so a failing run can be repeated. */
  CLOUD_STRICT_SEED: z.coerce.number().int().min(0).max(2 ** 31 - 1).optional(),
  /** Share of DynamoDB calls answered ProvisionedThroughputExceededException. */
  CLOUD_STRICT_THROTTLE: rate.default(0.02),
  /** Share of SQS calls answered RequestThrottled or ThrottlingException. */
  CLOUD_STRICT_SQS_THROTTLE: rate.default(0.01),
  /** Share of the entries of a BatchWriteItem or BatchGetItem handed back unprocessed. */
  CLOUD_STRICT_UNPROCESSED: rate.default(0.1),
  /** How long a write takes at most to reach the global secondary indexes (ms): each takes between half and all of it. */
  CLOUD_STRICT_INDEX_LAG_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),
  /** How often expired items are looked for (s). */
  CLOUD_STRICT_TTL_SWEEP_SECONDS: z.coerce.number().min(0.1).max(3_600).default(10),
  /** How long after its expiry an item is deleted at the earliest (s): AWS deletes "within a few days". */
  CLOUD_STRICT_TTL_DELAY_SECONDS: z.coerce.number().min(0).max(86_400).default(5),
  /** Share of the entries of a SendMessageBatch refused (Failed, SenderFault false). */
  CLOUD_STRICT_SEND_FAILURES: rate.default(0.05),
  /** Share of deleted messages delivered again. */
  CLOUD_STRICT_REDELIVERY: rate.default(0.02),
  /** How long after its delete a message comes back (s). */
  CLOUD_STRICT_REDELIVERY_DELAY_SECONDS: z.coerce.number().min(0).max(3_600).default(1),
  /** Share of receives that return fewer messages than asked for and waiting (short polls: maybe none). */
  CLOUD_STRICT_SHORT_RECEIVES: rate.default(0.3),
  /** Expressions over 4 KB and keys over 2048/1024 UTF-8 bytes refused as AWS refuses them. */
  CLOUD_STRICT_LIMITS: on,
  /** Query and Scan pages end after this many bytes read, by AWS's item sizes (0: dynalite's own rule). */
  CLOUD_STRICT_PAGE_BYTES: z.coerce.number().int().min(0).default(1024 * 1024),
});

export interface StrictSettings {
  seed: number;
  /** True when the seed was drawn, not given. */
  seedDrawn: boolean;
  throttle: number;
  sqsThrottle: number;
  unprocessed: number;
  indexLagMs: number;
  ttlSweepMs: number;
  ttlDelayMs: number;
  sendFailures: number;
  redelivery: number;
  redeliveryDelayMs: number;
  shortReceives: number;
  limits: boolean;
  pageBytes: number;
}

/** Strict mode's settings, or undefined when CLOUD_STRICT is off. */
export const readStrictSettings = (env: NodeJS.ProcessEnv): StrictSettings | undefined => {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new Error(parsed.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`).join('; '));
  }
  const s = parsed.data;
  if (!s.CLOUD_STRICT) return undefined;
  const seed = s.CLOUD_STRICT_SEED ?? Math.floor(Math.random() * 2 ** 31);
  return {
    seed,
    seedDrawn: s.CLOUD_STRICT_SEED === undefined,
    throttle: s.CLOUD_STRICT_THROTTLE,
    sqsThrottle: s.CLOUD_STRICT_SQS_THROTTLE,
    unprocessed: s.CLOUD_STRICT_UNPROCESSED,
    indexLagMs: s.CLOUD_STRICT_INDEX_LAG_MS,
    ttlSweepMs: s.CLOUD_STRICT_TTL_SWEEP_SECONDS * 1000,
    ttlDelayMs: s.CLOUD_STRICT_TTL_DELAY_SECONDS * 1000,
    sendFailures: s.CLOUD_STRICT_SEND_FAILURES,
    redelivery: s.CLOUD_STRICT_REDELIVERY,
    redeliveryDelayMs: s.CLOUD_STRICT_REDELIVERY_DELAY_SECONDS * 1000,
    shortReceives: s.CLOUD_STRICT_SHORT_RECEIVES,
    limits: s.CLOUD_STRICT_LIMITS,
    pageBytes: s.CLOUD_STRICT_PAGE_BYTES,
  };
};

/** One line for logs and /health: that strict mode is on, and how to repeat the run. */
export const describeStrict = (settings: StrictSettings): string =>
  `strict mode (CLOUD_STRICT_SEED=${settings.seed}): throttles ${settings.throttle}/${settings.sqsThrottle}, unprocessed ${settings.unprocessed}, ` +
  `index lag ${settings.indexLagMs} ms, send failures ${settings.sendFailures}, redelivery ${settings.redelivery}, short receives ${settings.shortReceives}, ` +
  `TTL sweep ${settings.ttlSweepMs / 1000}s, limits ${settings.limits ? 'on' : 'off'}, pages ${settings.pageBytes || 'dynalite'} bytes`;
