// Health: the table and the queue each answer a cheap call, each with its own time limit.
import { queueDepth } from '../queue/sqs.ts';
import type { Services } from '../app/services.ts';

export interface HealthReport {
  ok: boolean;
  checks: Record<string, { ok: boolean; error?: string; latency_ms: number }>;
}

const TIMEOUT_MS = 2_000;

const timed = async (check: () => Promise<unknown>): Promise<{ ok: boolean; error?: string; latency_ms: number }> => {
  const started = performance.now();
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS).unref()),
    ]);
    return { ok: true, latency_ms: Math.round(performance.now() - started) };
  } catch (error) {
    return { ok: false, error: `${(error as Error).name}: ${(error as Error).message}`, latency_ms: Math.round(performance.now() - started) };
  }
};

export const checkHealth = async (services: Services): Promise<HealthReport> => {
  const [table, queue] = await Promise.all([
    timed(() => services.store.ping()),
    timed(() => queueDepth(services.sqs, services.config.QUEUE_NAME)),
  ]);
  return { ok: table.ok && queue.ok, checks: { table, queue } };
};
