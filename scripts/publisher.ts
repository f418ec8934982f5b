// `npm run publisher -- --events 20000 --dup-rate 0.3 ...`; see client/publisher/cli.ts.
import { CliError } from '../client/cli/http.ts';
import { publisherMain, UsageError } from '../client/publisher/cli.ts';

publisherMain(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`publisher failed: ${(error as Error).message}`);
  // The exit codes of `logagg` (README): 2 usage, 3 no aggregator to reach, else 1.
  process.exit(error instanceof UsageError ? 2 : error instanceof CliError ? error.exitCode : 1);
});
