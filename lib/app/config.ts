// Configuration is read once, validated, and fails fast naming the variable that is wrong.
import { z } from 'zod';
import { ConfigError } from '../core/errors.ts';

const splitKeys = (value: string): string[] =>
  value
    .split(',')
    .map((key) => key.trim())
    .filter(Boolean);

const schema = z.object({
  TABLE_NAME: z.string().min(1),
  QUEUE_NAME: z.string().min(1),
  DLQ_NAME: z.string().min(1),
  /** Counter items the processor spreads its updates over; read back by summing. */
  COUNTER_SHARDS: z.coerce.number().int().min(1).max(64).default(16),
  /**
   * How long a batch id can come back (queue retention + DLQ retention). The counter guard keeps
   * applied batch ids at least this long.
   */
  DEDUP_HORIZON_SECONDS: z.coerce.number().int().positive(),
  /** Days an event is kept (0: forever). Expiry also ends the dedup window for that key. */
  RETENTION_DAYS: z.coerce.number().int().min(0).default(0),
  /** Comma-separated keys that may publish; empty: publishing needs no key. */
  PUBLISH_API_KEYS: z.string().default('').transform(splitKeys),
  /** Comma-separated keys for administrative operations; empty: those operations are disabled. */
  ADMIN_API_KEYS: z.string().default('').transform(splitKeys),
});

export type Config = z.infer<typeof schema>;

let cached: Config | undefined;

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): Config => {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return env[name] === undefined ? `${name} is not set` : `${name}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join('; ')} (see serverless.yml provider.environment)`);
  }
  return parsed.data;
};

export const config = (): Config => (cached ??= loadConfig());
