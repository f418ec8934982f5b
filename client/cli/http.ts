// The aggregator's HTTP API as the command line uses it: where it is, the key, and what a failure
// means for the person at the terminal (a message with the next step, and an exit code scripts can
// rely on).
import { findRunningStack } from '../../local/running-stack.ts';
import { dataDirFrom } from '../../local/settings.ts';

/** Exit codes of `logagg` (documented in the README). */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3, denied: 4 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/**
 * Where the aggregator is: the URL given (--url), else $LOGAGG_URL, else $HTTP_PORT on this machine,
 * else the stack running from this checkout's data folder ($DATA_DIR, `.data`), which says where it
 * listens (local/running-stack.ts). `found` describes that stack when it was looked up, so the
 * commands can say which one they talk to.
 */
export const resolveUrl = async (given: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<{ url: string; found?: string }> => {
  if (given) return { url: given };
  if (env.LOGAGG_URL) return { url: env.LOGAGG_URL };
  if (env.HTTP_PORT) return { url: `http://127.0.0.1:${env.HTTP_PORT}` };
  const running = await findRunningStack(dataDirFrom(env), 'http');
  if (!running.ok) throw new CliError(`${running.why}. Start it with \`npm start\`, or point to a running one with --url or LOGAGG_URL.`, EXIT.unreachable);
  return { url: running.url, found: running.description };
};

export const defaultApiKey = (env: NodeJS.ProcessEnv = process.env): string | undefined => env.LOGAGG_API_KEY || undefined;

export class AggregatorClient {
  constructor(
    readonly url: string,
    private readonly apiKey?: string,
  ) {}

  async get<T>(path: string, query: Record<string, string | undefined> = {}, signal?: AbortSignal): Promise<T> {
    const params = new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined));
    const target = `${this.url.replace(/\/$/, '')}${path}${params.size > 0 ? `?${params}` : ''}`;
    let response: Response;
    try {
      response = await fetch(target, { headers: this.apiKey ? { 'x-api-key': this.apiKey } : {}, ...(signal ? { signal } : {}) });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new CliError(
        `cannot reach the aggregator at ${this.url} (${String((error as Error).cause ?? (error as Error).message)}). ` +
          'Is it running? Start it with `npm start`, or point to it with --url or LOGAGG_URL.',
        EXIT.unreachable,
      );
    }
    const text = await response.text();
    let body: { message?: string } & Record<string, unknown>;
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new CliError(`${target} answered ${response.status} with something that is not JSON: ${text.slice(0, 200)}`, EXIT.failed);
    }
    if (response.ok) return body as T;
    const why = body.message ?? text.slice(0, 200);
    if (response.status === 401 || response.status === 403) {
      throw new CliError(`${response.status}: ${why}. Pass a key with --api-key or LOGAGG_API_KEY.`, EXIT.denied);
    }
    if (response.status === 400 || response.status === 404 || response.status === 422) throw new CliError(`${response.status}: ${why}`, EXIT.usage);
    throw new CliError(`the aggregator answered ${response.status}: ${why}`, EXIT.failed);
  }
}
