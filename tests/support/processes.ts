// Starting and stopping the project's own processes (local cloud, whole stack) from tests.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const projectRoot = path.resolve(__dirname, '..', '..');

export { freePort } from '../../local/ports.ts';

/** Runs a project script on the Node that runs the tests, in its own process group. */
export const spawnScript = (script: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess =>
  spawn(process.execPath, ['--import', 'tsx', '--disable-warning=ExperimentalWarning', script, ...args], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });

/** Resolves with the first stdout line that matches, or rejects with everything the process printed. */
export const waitForLine = (child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> =>
  new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; output:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const line = output.split('\n').find((candidate) => pattern.test(candidate));
      if (line) finish(undefined, line);
    };
    const onExit = (code: number | null): void => finish(new Error(`process exited (${code}) before ${pattern}; output:\n${output}`));
    const finish = (error?: Error, line?: string): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(line!);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });

export const stopProcess = async (child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(-child.pid!, signal);
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, timeoutMs);
  await exited;
  clearTimeout(timer);
};
