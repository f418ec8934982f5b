// `npm start`: the aggregator on this machine, in the foreground, with no Docker and no AWS account.
// Ctrl-C stops everything; starting again resumes with the same data.
import path from 'node:path';
import { projectRoot } from '../local/service-config.ts';
import { startStack } from '../local/stack.ts';
import { readStackSettings } from '../local/settings.ts';

const main = async (): Promise<void> => {
  const settings = readStackSettings(process.env);
  const log = (line: string): void => console.log(line);
  const started = Date.now();
  log(`starting the log aggregator (stage ${settings.stage}, data ${path.relative(projectRoot, settings.dataDir) || '.'}) ...`);
  const stack = await startStack({ ...settings, log });
  log(`console       ${stack.httpUrl}/   (the web console; the JSON API is on the same port)`);
  log(`ready in ${((Date.now() - started) / 1000).toFixed(1)}s: curl ${stack.httpUrl}/stats   (Ctrl-C stops)`);

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) {
      log('second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log(`${signal}: stopping (finishing batches in flight) ...`);
    await stack.stop();
    log('stopped; data kept for the next start');
    process.exit(0);
  };
  // SIGUSR2 pauses or resumes the event source: build up a backlog, then watch it drain.
  process.on('SIGUSR2', () => {
    if (stack.eventSource.paused) stack.eventSource.resume();
    else stack.eventSource.pause();
    log(`event source ${stack.eventSource.paused ? 'paused (kill -USR2 again to resume)' : 'resumed'}`);
  });
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
};

main().catch((error: unknown) => {
  console.error(`npm start failed: ${(error as Error).message}`);
  process.exit(1);
});
