// The local stand-in for API Gateway's HTTP API, in front of `serverless offline`: the public HTTP
// port is this, and offline listens on an internal one. It does what API Gateway does and offline
// does not:
//
// - a function that fails (cannot load, throws past middy, times out) is a 502 with a JSON body, never
//   offline's 200 carrying `errorMessage`; the failure goes to the console, and `/health` answers 503
//   naming the function until it answers again;
// - an unknown path is a JSON 404, a known path with the wrong method a JSON 405 with `Allow`;
// - CORS follows CORS_ORIGINS (offline would echo any Origin with credentials allowed).
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

export interface Route {
  method: string;
  path: string;
  functionKey: string;
}

export interface GatewayOptions {
  host: string;
  port: number;
  /** Where `serverless offline` answers. */
  upstream: string;
  routes: Route[];
  /** Origins a browser may call from (exact match); empty: no CORS headers at all. */
  corsOrigins: string[];
  log: (line: string) => void;
}

export interface Gateway {
  url: string;
  /** Functions whose last answer was a failure to load or run, with why. */
  failing(): Record<string, string>;
  stop(): Promise<void>;
}

const CORS_ALLOW_HEADERS = 'content-type, x-api-key, authorization';

const matcher = (route: Route): RegExp =>
  new RegExp(
    `^${route.path
      .split('/')
      .map((segment) => (/^\{[^}]+\+\}$/.test(segment) ? '.+' : /^\{[^}]+\}$/.test(segment) ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/')}$`,
  );

const sendJson = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

/** Offline's shape of a failed Lambda: `{"errorMessage": …, "errorType": …}` instead of our response. */
const lambdaFailure = (status: number, body: Buffer): string | undefined => {
  if (status < 500 && status !== 200) return undefined;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errorType?: unknown; errorMessage?: unknown; error?: unknown };
    if (typeof parsed.errorType === 'string' || (status === 200 && typeof parsed.errorMessage === 'string')) {
      return `${String(parsed.errorType ?? 'Error')}: ${String(parsed.errorMessage ?? '').split('\n')[0]}`;
    }
    // Our own error bodies ({error, message}) pass through unchanged.
    if (status >= 500 && typeof parsed.error === 'string') return undefined;
  } catch {
    // not JSON
  }
  return status >= 500 ? `HTTP ${status} from serverless offline: ${body.toString('utf8').slice(0, 200)}` : undefined;
};

export const startGateway = async (options: GatewayOptions): Promise<Gateway> => {
  const routes = options.routes.map((route) => ({ ...route, pattern: matcher(route) }));
  const failing = new Map<string, string>();
  const upstream = new URL(options.upstream);

  const corsHeaders = (origin: string | undefined): Record<string, string> =>
    origin && options.corsOrigins.includes(origin) ? { 'access-control-allow-origin': origin, vary: 'origin' } : {};

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const method = (req.method ?? 'GET').toUpperCase();
    const origin = req.headers.origin;
    const onPath = routes.filter((route) => route.pattern.test(url.pathname));

    if (method === 'OPTIONS' && onPath.length > 0) {
      const allowed = corsHeaders(origin);
      res.writeHead(204, {
        ...allowed,
        ...(Object.keys(allowed).length > 0
          ? { 'access-control-allow-methods': [...new Set(onPath.map((route) => route.method))].join(', '), 'access-control-allow-headers': CORS_ALLOW_HEADERS, 'access-control-max-age': '600' }
          : {}),
      });
      res.end();
      return;
    }
    const route = onPath.find((candidate) => candidate.method === method);
    if (!route) {
      if (onPath.length > 0) {
        const allow = [...new Set(onPath.map((candidate) => candidate.method))].join(', ');
        sendJson(res, 405, { error: 'method_not_allowed', message: `${method} is not allowed on ${url.pathname}; use ${allow}` }, { allow, ...corsHeaders(origin) });
      } else {
        sendJson(res, 404, { error: 'not_found', message: `no route ${method} ${url.pathname}; see docs/api.md, or GET /openapi.json` }, corsHeaders(origin));
      }
      return;
    }

    const headers = { ...req.headers, host: upstream.host };
    // Offline adds its own CORS headers when it sees an Origin; CORS is decided here. And the answer
    // must come back readable (not compressed) for failures to be recognized.
    delete headers.origin;
    delete headers['accept-encoding'];
    const forward = http.request({ hostname: upstream.hostname, port: upstream.port, path: req.url, method, headers }, (upstreamRes) => {
      const chunks: Buffer[] = [];
      upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk));
      upstreamRes.on('end', () => {
        const body = Buffer.concat(chunks);
        const status = upstreamRes.statusCode ?? 502;
        const failure = lambdaFailure(status, body);
        if (failure) {
          failing.set(route.functionKey, failure);
          options.log(`gateway       ${method} ${url.pathname}: the ${route.functionKey} function failed: ${failure}`);
          sendJson(res, 502, { error: 'function_failed', message: `the ${route.functionKey} function failed (${failure.split(':')[0]}); the stack's console and .data/logs/offline.log have details` }, corsHeaders(origin));
          return;
        }
        failing.delete(route.functionKey);
        const passed: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(upstreamRes.headers)) {
          if (value !== undefined && !name.startsWith('access-control-')) passed[name] = value;
        }
        if (url.pathname === '/health' && failing.size > 0 && status === 200) {
          // The health function answers, but others do not load or run: the stack is not healthy.
          const report = JSON.parse(body.toString('utf8')) as { checks?: Record<string, unknown> };
          const functions = Object.fromEntries([...failing].map(([name, why]) => [name, why]));
          sendJson(res, 503, { ...report, ok: false, status: 'failing', checks: { ...report.checks, functions: { ok: false, error: functions } } }, corsHeaders(origin));
          return;
        }
        res.writeHead(status, { ...passed, ...corsHeaders(origin) });
        res.end(body);
      });
    });
    forward.on('error', (error) => {
      options.log(`gateway       ${method} ${url.pathname}: serverless offline did not answer: ${error.message}`);
      if (!res.headersSent) sendJson(res, 502, { error: 'function_failed', message: 'the functions did not answer; is the stack starting or stopping?' }, corsHeaders(origin));
    });
    req.pipe(forward);
  });
  server.keepAliveTimeout = 65_000;
  server.listen(options.port, options.host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const reachable = options.host === '0.0.0.0' ? '127.0.0.1' : options.host;
  return {
    url: `http://${reachable}:${port}`,
    failing: () => Object.fromEntries(failing),
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
