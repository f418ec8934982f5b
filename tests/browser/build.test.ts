// The console's build, without a browser: it type-checks (DOM and JSX, which the root tsconfig does not
// cover), fits its size budget, is embedded in the `console` function's bundle by the esbuild plugin
// serverless.yml uses, and the function serves it with the right headers.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { buildConsoleSync } from '../../console/build.cjs';
import { serveAsset } from '../../functions/console.ts';
import type { HttpEvent } from '../../functions/http/api.ts';
import { projectRoot } from '../support/processes.ts';

jest.setTimeout(60_000);

/** The budget for the console's JavaScript and CSS together, gzipped. */
const BUDGET_BYTES = 150 * 1024;

const request = (rawPath: string, headers: Record<string, string> = {}): HttpEvent =>
  ({
    rawPath,
    headers,
    pathParameters: rawPath.startsWith('/console/') ? { file: rawPath.slice('/console/'.length) } : undefined,
    requestContext: { http: { method: 'GET' } },
  }) as unknown as HttpEvent;

describe('the console build', () => {
  const { assets, inputs } = buildConsoleSync();
  const [page, ...files] = assets;

  it('type-checks (tsc -p console)', () => {
    const tsc = path.join(projectRoot, 'node_modules', '.bin', 'tsc');
    const result = spawnSync(tsc, ['-p', 'console', '--noEmit'], { cwd: projectRoot, encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it(`keeps its JavaScript and CSS within ${BUDGET_BYTES / 1024} KB gzipped`, () => {
    const sizes = Object.fromEntries(files.map((file) => [file.path, gzipSync(file.body, { level: 9 }).length]));
    const total = Object.values(sizes).reduce((sum, size) => sum + size, 0);
    expect({ total: total <= BUDGET_BYTES, sizes }).toEqual({ total: true, sizes });
    // Built from the console's sources and its two libraries only.
    const packages = new Set(inputs.filter((input) => input.includes('node_modules')).map((input) => input.split(/node_modules[\\/]/)[1]!.split(/[\\/]/)[0]));
    expect([...packages].sort()).toEqual(['preact', 'uplot']);
  });

  it('names its files by content hash in index.html, with no external URL', () => {
    expect(page!.path).toBe('');
    for (const file of files) {
      expect(file.path).toMatch(/^console\/app\.[0-9a-f]{12}\.(js|css)$/);
      expect(page!.body).toContain(`"${file.path}"`);
    }
    expect(page!.body).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('is embedded in the console function by the esbuild plugin of serverless.yml', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'console-bundle-'));
    try {
      const plugins = require(path.join(projectRoot, 'console', 'esbuild-plugins.cjs'));
      await build({
        entryPoints: [path.join(projectRoot, 'functions', 'console.ts')],
        absWorkingDir: projectRoot,
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node22',
        outdir: out,
        plugins,
        logLevel: 'silent',
      });
      const bundled = readFileSync(path.join(out, 'console.js'), 'utf8');
      for (const file of files) expect(bundled).toContain(JSON.stringify(file.path));
      // The build code and esbuild itself stay out of the Lambda artifact.
      expect(bundled).not.toMatch(/buildConsoleSync|require\("esbuild"\)/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('the console function', () => {
  it('serves index.html at /, revalidated, with a strict content security policy', () => {
    const answer = serveAsset(request('/'));
    expect(answer.statusCode).toBe(200);
    expect(answer.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      'content-security-policy': expect.stringContaining("script-src 'self'"),
      'x-content-type-options': 'nosniff',
    });
    expect(answer.body).toContain('<div id="app">');
  });

  it('serves the hashed files gzipped when asked, cacheable forever, and 304 for a known ETag', () => {
    const html = serveAsset(request('/')).body!;
    const script = /src="(console\/app\.[0-9a-f]+\.js)"/.exec(html)![1]!;
    const plain = serveAsset(request(`/${script}`));
    expect(plain.headers).toMatchObject({ 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=31536000, immutable' });
    const zipped = serveAsset(request(`/${script}`, { 'accept-encoding': 'gzip, deflate, br' }));
    expect(zipped).toMatchObject({ statusCode: 200, isBase64Encoded: true, headers: { 'content-encoding': 'gzip', vary: 'accept-encoding' } });
    expect(gunzipSync(Buffer.from(zipped.body!, 'base64')).toString('utf8')).toBe(plain.body);
    const etag = String(plain.headers!.etag);
    expect(serveAsset(request(`/${script}`, { 'if-none-match': etag }))).toMatchObject({ statusCode: 304, body: '' });
  });

  it('answers 404 in JSON for a file it does not have', () => {
    const answer = serveAsset(request('/console/app.000000000000.js'));
    expect(answer.statusCode).toBe(404);
    expect(JSON.parse(answer.body!)).toEqual({ error: 'not_found', message: expect.stringContaining('/console/app.000000000000.js') });
  });
});
