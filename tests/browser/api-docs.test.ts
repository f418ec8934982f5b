// The API page in a real browser: Debian's chromium driven by playwright-core, against a whole stack
// (`scripts/start.ts`, what `npm start` runs). The console links to it; it renders every operation of
// the OpenAPI document (Swagger UI, served by the stack, nothing from another origin, no error under
// the page's content security policy); "Try it out" calls the stack and shows its answer. A
// screenshot goes to docs/ (docs/api.md shows it).
//
// Skipped, with a warning, where chromium is not installed (`apt-get install chromium`); CI sets
// REQUIRE_CHROMIUM=1 and installs it, so there it runs or fails.
/// <reference lib="dom" />
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { loadDocument } from '../../openapi/build.cjs';
import { holdFetchToContract } from '../support/contract.ts';
import { browserSuite, launchChromium, requireChromium } from '../support/browser.ts';
import { freePort, projectRoot, spawnScript, stopProcess, waitForLine } from '../support/processes.ts';

jest.setTimeout(120_000);

const suite = browserSuite('the API page');

/** Every operation of the document, as Swagger UI labels them: `GET /stats`. */
const operations = (): string[] =>
  Object.entries(loadDocument().paths as Record<string, Record<string, unknown>>).flatMap(([route, item]) =>
    Object.keys(item).map((method) => `${method.toUpperCase()} ${route}`),
  );

let baseUrl = '';
holdFetchToContract(() => baseUrl);

suite('the API page', () => {
  let dataDir: string | undefined;
  let stack: ChildProcess | undefined;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  const foreign: string[] = [];

  beforeAll(async () => {
    requireChromium();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'log-aggregator-api-docs-'));
    const [cloudPort, httpPort, lambdaPort] = [await freePort(), await freePort(), await freePort()];
    stack = spawnScript('scripts/start.ts', [], {
      DATA_DIR: dataDir,
      CLOUD_PORT: String(cloudPort),
      HTTP_PORT: String(httpPort),
      LAMBDA_PORT: String(lambdaPort),
      STAGE: 'api-docs',
      LOG_LEVEL: 'WARN',
    });
    baseUrl = `http://127.0.0.1:${httpPort}`;
    const [, launched] = await Promise.all([
      waitForLine(stack, /^ready in/, 110_000),
      launchChromium(),
    ]);
    browser = launched;
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC', locale: 'en-US' })).newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`${message.text()} (${message.location().url})`);
    });
    page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
    // Nothing may come from anywhere but the stack: no CDN, no validator badge, no fonts.
    page.on('request', (request) => {
      if (!request.url().startsWith(baseUrl) && !request.url().startsWith('data:')) foreign.push(request.url());
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (stack) await stopProcess(stack, 'SIGINT');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('is linked from the console, and renders every operation of the contract', async () => {
    await page.goto(`${baseUrl}/`);
    await page.locator('main').waitFor();
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'API' }).click();
    await page.waitForURL(`${baseUrl}/api-docs`);
    await page.locator('.opblock').first().waitFor({ timeout: 30_000 });
    await page.getByRole('heading', { name: /log-aggregator/ }).first().waitFor();
    const shown = await page.locator('.opblock-summary').evaluateAll((nodes) =>
      nodes.map((node) => `${node.querySelector('.opblock-summary-method')?.textContent?.trim()} ${node.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`),
    );
    // Operations with two tags are shown under both.
    expect([...new Set(shown)].sort()).toEqual(operations().sort());
    await page.screenshot({ path: path.join(projectRoot, 'docs', 'api-page.png') });
    expect({ errors, foreign }).toEqual({ errors: [], foreign: [] });
  });

  it('calls the stack from "Try it out" and shows the answer', async () => {
    const stats = page.locator('#operations-counts-getStats');
    await stats.locator('.opblock-summary').click();
    await stats.getByRole('button', { name: 'Try it out' }).click();
    await stats.getByRole('button', { name: 'Execute' }).click();
    await stats.locator('.live-responses-table .response-col_status').filter({ hasText: '200' }).waitFor();
    await expect(stats.locator('.live-responses-table .highlight-code').first().textContent()).resolves.toMatch(/"received": 0/);
    expect({ errors, foreign }).toEqual({ errors: [], foreign: [] });
  });

  it('serves the document it renders, and each answer the test reads holds to it', async () => {
    const served = await fetch(`${baseUrl}/openapi.json`);
    expect(await served.json()).toEqual(loadDocument());
  });
});
