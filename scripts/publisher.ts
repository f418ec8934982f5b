// `npm run publisher -- --events 20000 --dup-rate 0.3 ...`; see client/publisher/cli.ts.
import { publisherMain, UsageError } from '../client/publisher/cli.ts';

publisherMain(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`publisher failed: ${(error as Error).message}`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
