// Where a running stack is. `npm start` (and `npm run cloud`) write `endpoints.json` into their data
// folder once they answer, and remove it when they stop. The scripts and clients on this machine
// (`npm run redrive`, the publisher, `logagg`) read it, so they reach the stack on whatever ports it
// was started, instead of assuming :4566 and :3000. A file can outlive its stack (a kill, a crash),
// so a reader believes it only when its process exists and its endpoint answers.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { projectRoot } from './service-config.ts';

const stackFileSchema = z.object({
  /** The process that runs the stack (`npm start`'s node). */
  pid: z.number().int().positive(),
  stage: z.string().min(1),
  started_at: z.string(),
  /** The LocalStack-style endpoint (DynamoDB and SQS), and each emulator's own (the functions' path). */
  cloud: z.url(),
  dynamodb: z.url(),
  sqs: z.url(),
  /** The HTTP API; absent when only the cloud runs (`npm run cloud`). */
  http: z.url().optional(),
});

export type StackFile = z.infer<typeof stackFileSchema>;

export const STACK_FILE = 'endpoints.json';

/**
 * Where `npm run migrate` keeps the table's items while it rebuilds the table; there only while a
 * migration is under way or was interrupted (done, it is renamed with its date).
 */
export const migrationBackup = (dataDir: string): string => path.join(dataDir, 'migration', 'backup.jsonl');

/**
 * Refuses a data folder whose migration was interrupted: its table holds only some of its items, and
 * the migration, run again, rebuilds it from the backup, so events taken meanwhile would be lost.
 */
export const assertNoInterruptedMigration = (dataDir: string): void => {
  if (existsSync(migrationBackup(dataDir))) {
    throw new Error(
      `a migration of ${dataDir} was interrupted (${migrationBackup(dataDir)} is still there): ` +
        'run `npm run migrate` again to finish it, then start the stack',
    );
  }
};

const fileIn = (dataDir: string): string => path.join(dataDir, STACK_FILE);

export const writeStackFile = (dataDir: string, stack: StackFile): void => writeFileSync(fileIn(dataDir), `${JSON.stringify(stack, null, 2)}\n`);

/** The data folder's stack file as written, or undefined when there is none (or it is not one). */
export const readStackFile = (dataDir: string): StackFile | undefined => {
  let text: string;
  try {
    text = readFileSync(fileIn(dataDir), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = stackFileSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
};

/** Removes the file at a stop, unless another stack has written its own there since. */
export const removeStackFile = (dataDir: string, pid: number): void => {
  if (readStackFile(dataDir)?.pid === pid) rmSync(fileIn(dataDir), { force: true });
};

const processExists = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, and belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const answers = async (url: string): Promise<boolean> => {
  try {
    await fetch(url, { signal: AbortSignal.timeout(5_000) });
    return true;
  } catch {
    return false;
  }
};

export type Found = { ok: true; stack: StackFile; url: string; description: string } | { ok: false; why: string };

/**
 * The stack running from this data folder, if its process exists and its endpoint answers: `http` for
 * the HTTP API (asked at /health: any answer counts), `cloud` for DynamoDB + SQS. Otherwise why not,
 * for the caller to say next to what to do.
 */
export const findRunningStack = async (dataDir: string, need: 'http' | 'cloud'): Promise<Found> => {
  const relative = path.relative(projectRoot, dataDir);
  const shown = relative === '' ? '.' : relative.startsWith('..') ? dataDir : relative;
  const stack = readStackFile(dataDir);
  if (!stack) return { ok: false, why: `no aggregator is running from ${shown} (there is no ${path.join(shown, STACK_FILE)})` };
  if (!processExists(stack.pid)) {
    return { ok: false, why: `no aggregator is running from ${shown}: the one that wrote ${path.join(shown, STACK_FILE)} (pid ${stack.pid}) has stopped` };
  }
  const url = need === 'http' ? stack.http : stack.cloud;
  if (url === undefined) return { ok: false, why: `only the local cloud runs from ${shown} (npm run cloud, pid ${stack.pid}), without the HTTP API` };
  if (!(await answers(need === 'http' ? `${url}/health` : url))) {
    return { ok: false, why: `the aggregator running from ${shown} (pid ${stack.pid}) does not answer at ${url}` };
  }
  return { ok: true, stack, url, description: `the aggregator running from ${shown} (stage ${stack.stage}, pid ${stack.pid})` };
};
