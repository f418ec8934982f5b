// Tests and strict mode (CLOUD_STRICT=1, docs/strict-mode.md): the local cloud's report of what it
// injected, and waiting for what AWS does later (index changes, messages delivered again).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StrictStatus } from '../../local/strict/layer.ts';
import { freePort, spawnScript, stopProcess, waitForLine } from './processes.ts';

export const strictMode = (): boolean => /^(1|true)$/.test(process.env.CLOUD_STRICT ?? '');

export const strictStatus = async (endpoint = process.env.AWS_ENDPOINT_URL!): Promise<StrictStatus | { enabled: false }> =>
  (await fetch(`${endpoint}/_strict`)).json() as Promise<StrictStatus | { enabled: false }>;

/**
 * Waits until every index change written so far is visible and every message due to come back has,
 * as a reader on AWS waits for a global secondary index to catch up. Returns whether messages were
 * still to come back (then the queue may hold them now). Nothing to wait for when the cloud is not strict.
 */
export const settle = async (endpoint = process.env.AWS_ENDPOINT_URL!, timeoutMs = 60_000): Promise<boolean> => {
  // Asked of the cloud itself, not of CLOUD_STRICT: a test may run its own strict cloud in any pass.
  const deadline = Date.now() + timeoutMs;
  let redelivered = false;
  for (;;) {
    const status = await strictStatus(endpoint);
    if (!status.enabled) return false;
    if (status.redeliveries_pending > 0) redelivered = true;
    if (status.index_changes_pending === 0 && status.redeliveries_pending === 0) return redelivered;
    if (Date.now() > deadline) throw new Error(`the local cloud did not settle within ${timeoutMs} ms: ${JSON.stringify(status)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

type Requests = Record<string, { Keys?: unknown[] } | unknown[]>;

/**
 * Records the commands a client sends, by name. A BatchGetItem or BatchWriteItem that only asks again
 * for what an earlier answer left unprocessed (UnprocessedKeys / UnprocessedItems, as DynamoDB may
 * answer at any time) is that call finished, and is not counted again.
 */
export const observeCommands = (client: {
  middlewareStack: { add: (...args: any[]) => void; remove: (name: string) => boolean }; // eslint-disable-line @typescript-eslint/no-explicit-any
}): { commands: string[]; stop: () => void } => {
  const commands: string[] = [];
  const left = new Set<string>();
  const entries = (requests: Requests | undefined): string[] =>
    Object.entries(requests ?? {}).flatMap(([table, request]) =>
      (Array.isArray(request) ? request : (request.Keys ?? [])).map((entry) => `${table}\u0000${JSON.stringify(entry)}`),
    );
  const name = `observeCommands-${Math.random()}`;
  client.middlewareStack.add(
    (next: (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>, context: { commandName?: string }) =>
      async (args: { input: Record<string, unknown> }) => {
        const asked = entries(args.input.RequestItems as Requests | undefined);
        const retry = asked.length > 0 && asked.every((entry) => left.has(entry));
        for (const entry of asked) left.delete(entry);
        if (!retry) commands.push(context.commandName ?? 'unknown');
        const result = await next(args);
        for (const entry of entries((result.output.UnprocessedKeys ?? result.output.UnprocessedItems) as Requests | undefined)) left.add(entry);
        return result;
      },
    { step: 'initialize', name },
  );
  return { commands, stop: () => void client.middlewareStack.remove(name) };
};

/** Every strict behaviour off: a test turns on the one it is about. */
const ALL_OFF = {
  CLOUD_STRICT_THROTTLE: '0',
  CLOUD_STRICT_SQS_THROTTLE: '0',
  CLOUD_STRICT_UNPROCESSED: '0',
  CLOUD_STRICT_INDEX_LAG_MS: '0',
  CLOUD_STRICT_SEND_FAILURES: '0',
  CLOUD_STRICT_REDELIVERY: '0',
  CLOUD_STRICT_SHORT_RECEIVES: '0',
};

export interface StrictCloud {
  endpoint: string;
  /** dynalite itself, behind the endpoint: what the emulator does without strict mode. */
  dynamodb: string;
  dataDir: string;
  status: () => Promise<StrictStatus>;
  faults: () => Promise<StrictStatus['faults']>;
  /** Kills the cloud's process (SIGKILL) and starts it again on the same data. */
  restart: (signal?: NodeJS.Signals) => Promise<void>;
  stop: () => Promise<void>;
}

/**
 * A local cloud of its own in strict mode (stage "test", so the functions' environment applies), with
 * every behaviour off except those `env` sets, and a fixed seed: the same decisions on every run.
 * The app's clients in the calling test file are pointed at it (they read AWS_ENDPOINT_URL when first
 * used, and each test file has its own modules); stop() points them back.
 */
export const startStrictCloud = async (env: Record<string, string>): Promise<StrictCloud> => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'log-aggregator-strict-'));
  const port = await freePort();
  const previous = process.env.AWS_ENDPOINT_URL;
  let child: ChildProcess;
  let ready: { endpoint: string; dynamodb: string };
  const start = async (): Promise<void> => {
    child = spawnScript('scripts/local-cloud.ts', ['--json'], {
      DATA_DIR: dataDir,
      CLOUD_PORT: String(port),
      STAGE: 'test',
      CLOUD_STRICT: '1',
      CLOUD_STRICT_SEED: '7',
      ...ALL_OFF,
      ...env,
    });
    ready = JSON.parse(await waitForLine(child, /^\{"ready":true/, 120_000)) as { endpoint: string; dynamodb: string };
  };
  await start();
  process.env.AWS_ENDPOINT_URL = ready!.endpoint;
  const status = async (): Promise<StrictStatus> => (await fetch(`${ready.endpoint}/_strict`)).json() as Promise<StrictStatus>;
  return {
    get endpoint() {
      return ready.endpoint;
    },
    get dynamodb() {
      return ready.dynamodb;
    },
    dataDir,
    status,
    faults: async () => (await status()).faults,
    restart: async (signal = 'SIGKILL') => {
      await stopProcess(child, signal);
      await start();
    },
    stop: async () => {
      process.env.AWS_ENDPOINT_URL = previous;
      await stopProcess(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
};
