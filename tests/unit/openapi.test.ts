// The contract itself (openapi/openapi.yaml): valid OpenAPI 3.1 by the OpenAPI Initiative's own schema
// (checked with @seriousme/openapi-schema-validator), the routes of serverless.yml exactly, every
// response schema a valid JSON Schema 2020-12, and served unchanged at GET /openapi.json. That every
// answer the tests receive is described is checked where they receive them (tests/support/contract.ts).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { parse } from 'yaml';
import { handler } from '../../functions/openapi.ts';
import { documentFile, loadDocument } from '../../openapi/build.cjs';
import { checkAnswer, ContractError, theContract } from '../support/contract.ts';
import { callRaw, httpEvent } from '../support/lambda.ts';
import { projectRoot } from '../support/processes.ts';
import { httpRoutes, loadServiceConfig } from '../../local/service-config.ts';

const document = loadDocument();

/** `METHOD /path` of every httpApi event, as the framework reads serverless.yml (`serverless print`). */
const serverlessRoutes = async (): Promise<string[]> =>
  httpRoutes(await loadServiceConfig({ stage: 'local' })).map((route) => `${route.method} ${route.path}`);

const documentRoutes = (): string[] =>
  Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([route, item]) =>
    Object.keys(item)
      .filter((key) => ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'].includes(key))
      .map((method) => `${method.toUpperCase()} ${route}`),
  );

it('is valid OpenAPI 3.1, by the specification schema', () => {
  expect(document.openapi).toMatch(/^3\.1\.\d+$/);
  // The validator is an ES module that jest's CommonJS runtime cannot load: run its command line.
  const cli = path.join(projectRoot, 'node_modules', '@seriousme', 'openapi-schema-validator', 'bin', 'validate-api-cli.js');
  const result = spawnSync(process.execPath, [cli, documentFile], { encoding: 'utf8' });
  expect({ status: result.status, output: JSON.parse(result.stdout) }).toEqual({ status: 0, output: { valid: true } });
});

it('describes every route of serverless.yml, and no other', async () => {
  const routes = await serverlessRoutes();
  expect(documentRoutes().sort()).toEqual(routes.sort());
  expect(routes.length).toBeGreaterThanOrEqual(23);
}, 120_000);

it('gives every operation an id, a summary, and the failures every route can answer', () => {
  for (const [route, item] of Object.entries(document.paths as Record<string, Record<string, any>>)) {
    for (const [method, operation] of Object.entries(item)) {
      const what = `${method.toUpperCase()} ${route}`;
      expect({ what, id: typeof operation.operationId, summary: typeof operation.summary }).toEqual({ what, id: 'string', summary: 'string' });
      // A function that throws past its handling, and one that cannot load or run (the gateway's answer).
      expect({ what, statuses: Object.keys(operation.responses) }).toEqual({ what, statuses: expect.arrayContaining(['500', '502']) });
    }
  }
});

it('compiles every schema of every answer with Ajv (JSON Schema 2020-12, strict), and resolves every $ref', () => {
  const contract = theContract();
  let compiled = 0;
  const refs: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if (key === '$ref' && typeof child === 'string') refs.push(child);
        walk(child);
      }
    }
  };
  walk(document);
  for (const ref of refs) expect({ ref, resolves: (() => contract.resolve(ref.replace(/^#/, '')).pointer)() }).toEqual({ ref, resolves: expect.any(String) });
  for (const [route, item] of Object.entries(document.paths as Record<string, Record<string, any>>)) {
    for (const [method, operation] of Object.entries(item)) {
      for (const status of Object.keys(operation.responses)) {
        const response = contract.resolve(`/paths/${route.replace(/~/g, '~0').replace(/\//g, '~1')}/${method}/responses/${status}`).value;
        for (const [type, media] of Object.entries((response.content ?? {}) as Record<string, any>)) {
          if (!media.schema || media['x-protobuf-message']) continue;
          contract.validatorAt(`${contract.resolve(`/paths/${route.replace(/~/g, '~0').replace(/\//g, '~1')}/${method}/responses/${status}`).pointer}/content/${type.replace(/\//g, '~1')}/schema`);
          compiled += 1;
        }
      }
    }
  }
  expect(compiled).toBeGreaterThan(50);
});

describe('GET /openapi.json', () => {
  it('serves the document, unchanged, as JSON, revalidated by its ETag', async () => {
    const answer = await callRaw(handler, httpEvent('GET', '/openapi.json'));
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(JSON.parse(answer.body.toString('utf8'))).toEqual(parse(readFileSync(documentFile, 'utf8')));
    const again = await callRaw(handler, httpEvent('GET', '/openapi.json', { headers: { 'if-none-match': answer.headers.etag! } }));
    expect({ status: again.status, body: again.body.length }).toEqual({ status: 304, body: 0 });
  });

  it('serves the API page, whose scripts and styles are its own files (no CDN), and 404 for others', async () => {
    const page = await callRaw(handler, httpEvent('GET', '/api-docs'));
    const html = page.body.toString('utf8');
    expect(page.headers).toMatchObject({ 'content-type': 'text/html; charset=utf-8', 'content-security-policy': expect.stringContaining("script-src 'self'") });
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    const files = [...html.matchAll(/(?:src|href)="(api-docs\/[^"]+)"/g)].map((match) => match[1]!);
    expect(files.map((file) => file.replace(/\.[0-9a-f]{12}\./, '.')).sort()).toEqual(['api-docs/init.js', 'api-docs/page.css', 'api-docs/swagger-ui-bundle.js', 'api-docs/swagger-ui.css']);
    for (const file of files) {
      const name = file.slice('api-docs/'.length);
      const answer = await callRaw(handler, httpEvent('GET', `/${file}`, { pathParameters: { file: name }, headers: { 'accept-encoding': 'gzip' } }));
      expect({ file, status: answer.status, cache: answer.headers['cache-control'] }).toEqual({ file, status: 200, cache: 'public, max-age=31536000, immutable' });
    }
    const missing = await callRaw(handler, httpEvent('GET', '/api-docs/nope.js', { pathParameters: { file: 'nope.js' } }));
    expect(missing.status).toBe(404);
  });
});

it('is embedded in the openapi function by the esbuild plugins of serverless.yml, without the YAML parser', async () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'openapi-bundle-'));
  try {
    const plugins = require(path.join(projectRoot, 'console', 'esbuild-plugins.cjs'));
    await build({ entryPoints: [path.join(projectRoot, 'functions', 'openapi.ts')], absWorkingDir: projectRoot, bundle: true, platform: 'node', format: 'cjs', target: 'node22', outdir: out, plugins, logLevel: 'silent' });
    const bundled = readFileSync(path.join(out, 'openapi.js'), 'utf8');
    // Checked as booleans: a failure should not print a 2 MB bundle.
    const holds = (what: string, pattern: RegExp) => ({ what, holds: pattern.test(bundled) });
    expect([holds('the document', /operationId\\?":\\?"getStats/), holds('Swagger UI', /api-docs\/swagger-ui-bundle\.[0-9a-f]{12}\.js/), holds('the build code', /buildApiAssets|require\("yaml"\)|swagger-ui-dist\/package/)]).toEqual([
      { what: 'the document', holds: true },
      { what: 'Swagger UI', holds: true },
      { what: 'the build code', holds: false },
    ]);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

describe('the contract check (tests/support/contract.ts)', () => {
  const json = (body: unknown) => Buffer.from(JSON.stringify(body));
  const stats = { received: 1, unique_processed: 1, duplicate_dropped: 0, processed: 1, dedup_rate: 0, top_topics: [], queue: { visible: 0, in_flight: 0, delayed: 0, dlq: 0 }, started_at: null, uptime_seconds: 0 };
  const fails = (asked: { method: string; path: string }, answered: { status: number; headers: Record<string, string>; body: Buffer }, why: RegExp) => {
    expect(() => checkAnswer(asked, answered)).toThrow(ContractError);
    expect(() => checkAnswer(asked, answered)).toThrow(why);
  };

  it('passes what the document describes', () => {
    checkAnswer({ method: 'GET', path: '/stats' }, { status: 200, headers: { 'content-type': 'application/json' }, body: json(stats) });
    checkAnswer({ method: 'GET', path: '/nope' }, { status: 404, headers: { 'content-type': 'application/json' }, body: json({ error: 'not_found', message: 'no route' }) });
    checkAnswer({ method: 'GET', path: '/publish' }, { status: 405, headers: { 'content-type': 'application/json', allow: 'POST' }, body: json({ error: 'method_not_allowed', message: 'use POST' }) });
  });

  it('fails a status, a content type, a body, a missing header or an unknown route the document does not describe', () => {
    fails({ method: 'GET', path: '/stats' }, { status: 418, headers: { 'content-type': 'application/json' }, body: json(stats) }, /GET \/stats answered 418, which the document does not list/);
    fails({ method: 'GET', path: '/stats' }, { status: 200, headers: { 'content-type': 'text/plain' }, body: json(stats) }, /Content-Type text\/plain; the document lists application\/json/);
    fails({ method: 'GET', path: '/stats' }, { status: 200, headers: { 'content-type': 'application/json' }, body: json({ ...stats, received: -1 }) }, /\/received must be >= 0/);
    fails({ method: 'GET', path: '/stats' }, { status: 200, headers: { 'content-type': 'application/json' }, body: json({ ...stats, extra: 1 }) }, /must NOT have additional properties/);
    fails({ method: 'GET', path: '/stats' }, { status: 400, headers: { 'content-type': 'application/json' }, body: json({ error: 'bad_request', message: 'x' }) }, /answered 400, which the document does not list/);
    fails({ method: 'GET', path: '/events' }, { status: 400, headers: { 'content-type': 'application/json' }, body: json({ error: 'malformed_json', message: 'x' }) }, /\/error must be equal to constant/);
    fails({ method: 'POST', path: '/publish' }, { status: 202, headers: { 'content-type': 'application/json' }, body: json({ accepted: 1, messages: 1, receipt: '01KB0000000000000000000000' }) }, /the Location header is required/);
    fails({ method: 'POST', path: '/publish' }, { status: 429, headers: { 'content-type': 'application/json' }, body: json({ error: 'backlog_full', message: 'x' }) }, /the Retry-After header is required/);
    fails({ method: 'POST', path: '/v1/logs' }, { status: 200, headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.from([0xff, 0xff, 0xff]) }, /not a opentelemetry\.proto\.collector\.logs\.v1\.ExportLogsServiceResponse/);
    fails({ method: 'POST', path: '/loki/api/v1/push' }, { status: 204, headers: {}, body: Buffer.from('{}') }, /described without a body/);
    fails({ method: 'GET', path: '/nope' }, { status: 200, headers: { 'content-type': 'application/json' }, body: json({}) }, /x-gateway\.unknownPath\) answered 200; the document says 404/);
  });
});
