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
  /** The queues' MessageRetentionPeriod (serverless.yml passes the values the queues are created with). */
  QUEUE_RETENTION_SECONDS: z.coerce.number().int().positive(),
  DLQ_RETENTION_SECONDS: z.coerce.number().int().positive(),
  /** Days an event is kept (0: forever). Expiry also ends the dedup window for that key. */
  RETENTION_DAYS: z.coerce.number().int().min(0).default(0),
  /** Comma-separated keys that may publish; empty: publishing needs no key. */
  PUBLISH_API_KEYS: z.string().default('').transform(splitKeys),
  /** Comma-separated keys for administrative operations; empty: those operations are disabled. */
  ADMIN_API_KEYS: z.string().default('').transform(splitKeys),
  /**
   * Messages waiting in the queue above which POST /publish answers 429 (the embedded SQS keeps them in
   * memory; on AWS a backlog this deep means processing is not keeping up). 0 turns the check off.
   */
  MAX_BACKLOG_MESSAGES: z.coerce.number().int().min(0).default(50_000),
  /** How long publish trusts its last look at the queue's depth (one GetQueueAttributes per this many seconds). */
  BACKLOG_CHECK_SECONDS: z.coerce.number().min(0).max(60).default(2),
  /** Comma-separated keys that may read (/events, /topics, /stats, /metrics, the console); empty: reads are open. */
  READ_API_KEYS: z.string().default('').transform(splitKeys),
  /** Topics listed by volume in /stats. */
  STATS_TOP_TOPICS: z.coerce.number().int().min(0).max(100).default(10),
  /**
   * A line /health shows about where this deployment runs, e.g. that the local stack's cloud injects
   * AWS's faults (strict mode); empty on AWS.
   */
  DEPLOYMENT_NOTICE: z.string().default(''),
  /** Topics with their own series in /metrics (Prometheus label cardinality). */
  METRICS_TOP_TOPICS: z.coerce.number().int().min(0).max(1000).default(20),
});

export type Config = z.infer<typeof schema> & {
  /**
   * How long a message (and so its batch id) can come back: its time in the queue plus its time in
   * the DLQ. Message records are kept this long, so a redelivery, however late, finds its record.
   */
  DEDUP_HORIZON_SECONDS: number;
};

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
  return { ...parsed.data, DEDUP_HORIZON_SECONDS: parsed.data.QUEUE_RETENTION_SECONDS + parsed.data.DLQ_RETENTION_SECONDS };
};

export const config = (): Config => (cached ??= loadConfig());
