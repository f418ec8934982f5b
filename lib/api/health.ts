// Health: the table and the queues each answer a cheap call, each with its own time limit; and
// whether the pipeline keeps up (status "degraded": still answering, but needs a look).
import { queueDepth, type QueueDepth } from '../queue/sqs.ts';
import type { Services } from '../app/services.ts';

export interface CheckResult {
  ok: boolean;
  error?: string;
  latency_ms: number;
}

export interface HealthReport {
  /** False when the table or a queue does not answer: the function answers 503. */
  ok: boolean;
  /** `degraded`: everything answers, but the backlog is near the publish limit or messages were dead-lettered. */
  status: 'ok' | 'degraded' | 'failing';
  warnings: string[];
  checks: Record<string, CheckResult>;
  /** Where this deployment runs, when it says (DEPLOYMENT_NOTICE), e.g. a local cloud in strict mode. */
  notice?: string;
}

const TIMEOUT_MS = 2_000;
/** Share of MAX_BACKLOG_MESSAGES at which health says "degraded", before publishing is refused. */
const BACKLOG_WARNING_SHARE = 0.8;

const timed = async <T>(check: () => Promise<T>): Promise<CheckResult & { value?: T }> => {
  const started = performance.now();
  try {
    const value = await Promise.race([
      check(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS).unref()),
    ]);
    return { ok: true, latency_ms: Math.round(performance.now() - started), value };
  } catch (error) {
    return { ok: false, error: `${(error as Error).name}: ${(error as Error).message}`, latency_ms: Math.round(performance.now() - started) };
  }
};

const strip = <T>({ value: _value, ...result }: CheckResult & { value?: T }): CheckResult => result;

export const checkHealth = async (services: Pick<Services, 'store' | 'sqs' | 'config'>): Promise<HealthReport> => {
  const { config } = services;
  const [table, queue, dlq] = await Promise.all([
    timed(() => services.store.ping()),
    timed<QueueDepth>(() => queueDepth(services.sqs, config.QUEUE_NAME)),
    timed<QueueDepth>(() => queueDepth(services.sqs, config.DLQ_NAME)),
  ]);
  const warnings: string[] = [];
  if (queue.value && config.MAX_BACKLOG_MESSAGES > 0) {
    const waiting = queue.value.visible + queue.value.delayed;
    if (waiting >= BACKLOG_WARNING_SHARE * config.MAX_BACKLOG_MESSAGES) {
      warnings.push(`backlog: ${waiting} messages waiting; publishing is refused (429) at ${config.MAX_BACKLOG_MESSAGES}. Is the processor running?`);
    }
  }
  if (dlq.value) {
    const dead = dlq.value.visible + dlq.value.in_flight + dlq.value.delayed;
    if (dead > 0) warnings.push(`dead letters: ${dead} message(s) in the DLQ; fix the cause, then redrive (README, Operations)`);
  }
  const ok = table.ok && queue.ok && dlq.ok;
  return {
    ok,
    status: ok ? (warnings.length > 0 ? 'degraded' : 'ok') : 'failing',
    warnings,
    checks: { table: strip(table), queue: strip(queue), dlq: strip(dlq) },
    ...(config.DEPLOYMENT_NOTICE ? { notice: config.DEPLOYMENT_NOTICE } : {}),
  };
};
