import { rmSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { stopProcess } from './processes.ts';

export default async (): Promise<void> => {
  const cloud = (globalThis as { __localCloud?: ChildProcess }).__localCloud;
  if (cloud) await stopProcess(cloud);
  if (process.env.TEST_DATA_DIR) rmSync(process.env.TEST_DATA_DIR, { recursive: true, force: true });
};
