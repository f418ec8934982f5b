// `logagg`: the aggregator from the command line. `npx logagg --help` lists the commands; every
// command takes --url, --api-key and --json (NDJSON, for jq).
import yargs, { type Argv } from 'yargs';
import { publisherMain, UsageError } from '../publisher/cli.ts';
import { KeyRefusedError } from '../publisher/run.ts';
import { SEVERITIES } from '../../lib/core/log-line.ts';
import type { ReceiptStatus } from '../../lib/api/wire.ts';
import { eventLine, styleFor, type PrintedEvent } from './format.ts';
import { AggregatorClient, CliError, defaultApiKey, EXIT, resolveUrl } from './http.ts';

interface Page {
  events: PrintedEvent[];
  next_cursor: string | null;
}

interface Common {
  url?: string;
  'api-key'?: string;
  json: boolean;
}

interface Filters {
  topic?: string;
  source?: string;
  grep?: string;
  severity?: string;
  where?: string[];
}

const client = async (args: Common): Promise<AggregatorClient> => {
  const { url, found } = await resolveUrl(args.url);
  // On stderr, so that --json output stays clean.
  if (found) console.error(`logagg: ${found}: ${url}`);
  return new AggregatorClient(url, args['api-key']);
};

/** --topic, --source, --grep and --where as the API's query parameters. */
const filterParams = (args: Filters): Record<string, string | undefined> => {
  const params: Record<string, string | undefined> = { topic: args.topic, source: args.source, q: args.grep, severity: args.severity };
  for (const where of args.where ?? []) {
    const match = /^(payload\.[^=]+)=(.*)$/s.exec(where);
    if (!match) throw new CliError(`--where ${where}: write it as payload.<field>=<value>, e.g. payload.level=error`, EXIT.usage);
    params[match[1]!] = match[2]!;
  }
  return params;
};

const printEvents = (events: PrintedEvent[], args: Common): void => {
  const style = styleFor(process.stdout);
  for (const event of events) process.stdout.write(`${args.json ? JSON.stringify(event) : eventLine(event, style)}\n`);
};

const withFilters = <T>(command: Argv<T>) =>
  command
    .option('topic', { alias: 't', type: 'string', describe: 'one topic (default: all)' })
    .option('source', { type: 'string', describe: 'exact source' })
    .option('grep', { alias: 'g', type: 'string', describe: 'text anywhere in the payload or source, any case' })
    .option('severity', { alias: 's', choices: SEVERITIES, describe: 'log lines of this severity or worse (e.g. warn: warn, error, fatal)' })
    .option('where', { alias: 'w', type: 'string', array: true, describe: 'payload.<path>=<value>, repeatable (all must hold)' });

export const buildCli = (argv: string[]) =>
  yargs(argv)
    .scriptName('logagg')
    .usage('$0 <command> [options]\n\nThe log aggregator from the command line.')
    .option('url', { type: 'string', describe: 'the aggregator (default LOGAGG_URL, else 127.0.0.1:$HTTP_PORT, else the stack running from DATA_DIR, .data)' })
    .option('api-key', { type: 'string', default: defaultApiKey(), describe: 'sent as x-api-key (LOGAGG_API_KEY)' })
    .option('json', { type: 'boolean', default: false, describe: 'one JSON object per line (NDJSON), for jq' })
    .command(
      'tail',
      'the newest events, and with -f every new one as it is stored',
      (command) =>
        withFilters(command)
          .option('follow', { alias: 'f', type: 'boolean', default: false, describe: 'keep following (Ctrl-C stops)' })
          .option('lines', { alias: 'n', type: 'number', default: 20, describe: 'how many of the newest to show first' }),
      async (args) => {
        const api = await client(args);
        const filters = filterParams(args);
        let page = await api.get<Page>('/events/tail', { ...filters, limit: String(Math.max(1, Math.min(1000, args.lines))) });
        printEvents(args.lines > 0 ? page.events : [], args);
        if (!args.follow) return;
        const stop = new AbortController();
        process.once('SIGINT', () => stop.abort());
        while (!stop.signal.aborted) {
          try {
            page = await api.get<Page>('/events/tail', { ...filters, cursor: page.next_cursor ?? undefined, wait: '20', limit: '1000' }, stop.signal);
          } catch (error) {
            if ((error as Error).name === 'AbortError') break;
            throw error;
          }
          printEvents(page.events, args);
        }
      },
    )
    .command(
      ['query', 'search'],
      'events by event time, with filters; --all pages through everything',
      (command) =>
        withFilters(command)
          .option('from', { type: 'string', describe: 'RFC 3339 instant, inclusive' })
          .option('to', { type: 'string', describe: 'RFC 3339 instant, inclusive' })
          .option('order', { choices: ['asc', 'desc'] as const, describe: 'default: asc with --topic, desc without' })
          .option('limit', { alias: 'l', type: 'number', default: 100, describe: 'events to show (a page)' })
          .option('all', { alias: 'a', type: 'boolean', default: false, describe: 'every matching event, page after page' }),
      async (args) => {
        const api = await client(args);
        const params = { ...filterParams(args), from: args.from, to: args.to, order: args.order };
        let cursor: string | null = null;
        let shown = 0;
        do {
          const page: Page = await api.get<Page>('/events', { ...params, limit: String(Math.min(1000, args.all ? 1000 : args.limit - shown)), cursor: cursor ?? undefined });
          printEvents(page.events, args);
          shown += page.events.length;
          cursor = page.next_cursor;
        } while (cursor && (args.all || shown < args.limit));
      },
    )
    .command('stats', 'totals, top topics, queue depth', (command) => command, async (args) => {
      const stats = await (await client(args)).get<{
        received: number;
        unique_processed: number;
        duplicate_dropped: number;
        dedup_rate: number;
        top_topics: Array<{ topic: string; received: number; unique: number; duplicate: number }>;
        queue: { visible: number; in_flight: number; dlq: number };
        uptime_seconds: number;
      }>('/stats');
      if (args.json) {
        console.log(JSON.stringify(stats));
        return;
      }
      const style = styleFor(process.stdout);
      console.log(
        [
          `received     ${stats.received}`,
          `unique       ${stats.unique_processed}`,
          `duplicates   ${stats.duplicate_dropped}   (dedup rate ${(stats.dedup_rate * 100).toFixed(1)}%)`,
          `queue        ${stats.queue.visible} waiting, ${stats.queue.in_flight} in flight, ${stats.queue.dlq} in the DLQ (messages)`,
          `uptime       ${stats.uptime_seconds}s`,
          ...(stats.top_topics.length > 0 ? ['top topics', ...stats.top_topics.map((t) => `  ${style.accent(t.topic.padEnd(24))} ${String(t.received).padStart(10)} received ${String(t.unique).padStart(10)} unique ${String(t.duplicate).padStart(10)} duplicate`)] : []),
        ].join('\n'),
      );
    })
    .command(
      'topics',
      'topics by name with their counts',
      (command) => command.option('all', { alias: 'a', type: 'boolean', default: false, describe: 'every topic, page after page' }),
      async (args) => {
        const api = await client(args);
        const style = styleFor(process.stdout);
        let cursor: string | null = null;
        do {
          const page: { topics: Array<{ topic: string; received: number; unique: number; duplicate: number; last_event_at: string | null }>; next_cursor: string | null } =
            await api.get('/topics', { limit: '100', cursor: cursor ?? undefined });
          for (const topic of page.topics) {
            console.log(
              args.json
                ? JSON.stringify(topic)
                : `${style.accent(topic.topic.padEnd(24))} ${String(topic.received).padStart(10)} received ${String(topic.unique).padStart(10)} unique ${String(topic.duplicate).padStart(10)} duplicate   last ${topic.last_event_at ?? '-'}`,
            );
          }
          cursor = page.next_cursor;
        } while (cursor && args.all);
      },
    )
    .command(
      'wait <receipt>',
      'wait until the events of a publish are counted (the receipt POST /publish answered with)',
      (command) =>
        command
          .positional('receipt', { type: 'string', demandOption: true, describe: 'the `receipt` of a 202 from POST /publish' })
          .option('timeout', { type: 'number', default: 60, describe: 'seconds to wait at most' }),
      async (args) => {
        const api = await client(args);
        const deadline = Date.now() + Math.max(0, args.timeout) * 1000;
        let status: ReceiptStatus;
        // Long-polls: each request waits up to 20 s (the API's limit) and answers as soon as they are counted.
        do {
          const wait = Math.min(20, Math.max(0, Math.ceil((deadline - Date.now()) / 1000)));
          status = await api.get<ReceiptStatus>(`/receipts/${encodeURIComponent(args.receipt)}`, { wait: String(wait) });
        } while (!status.counted && Date.now() < deadline);
        if (args.json) console.log(JSON.stringify(status));
        else console.log(`${status.counted ? 'counted' : 'not counted yet'}: ${status.counted_messages} of ${status.messages} message(s)`);
        if (!status.counted) {
          throw new CliError(`not counted within ${args.timeout}s: its messages may still wait in the queue (logagg stats shows the queue)`, EXIT.failed);
        }
      },
    )
    .command(
      'publish',
      'load the aggregator with generated events (the publisher; `logagg publish --help`)',
      (command) => command.help(false).version(false).strict(false),
      async () => {
        // The publisher parses its own options: hand it everything after `publish`.
        await publisherMain(argv.slice(argv.indexOf('publish') + 1));
      },
    )
    .completion('completion', 'print a bash or zsh completion script (eval "$(npx logagg completion)")')
    .demandCommand(1, 'name a command: tail, query, stats, topics, wait, publish, completion')
    .strictCommands()
    .recommendCommands()
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new CliError(`${message}. See --help.`, EXIT.usage);
    })
    .help()
    .version(false)
    .wrap(Math.min(110, process.stdout.columns ?? 110));

export const runCli = async (argv: string[]): Promise<number> => {
  try {
    await buildCli(argv).parseAsync();
    return process.exitCode === undefined ? EXIT.ok : Number(process.exitCode);
  } catch (error) {
    if (error instanceof CliError) {
      console.error(`logagg: ${error.message}`);
      return error.exitCode;
    }
    if (error instanceof UsageError) {
      console.error(`logagg: ${error.message}`);
      return EXIT.usage;
    }
    if (error instanceof KeyRefusedError) {
      console.error(`logagg: ${error.message}`);
      return EXIT.denied;
    }
    console.error(`logagg: ${(error as Error).message}`);
    return EXIT.failed;
  }
};
