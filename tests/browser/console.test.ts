// The web console in a real browser: Debian's chromium driven by playwright-core, against a whole
// stack (`scripts/start.ts`, what `npm start` runs) with read and admin keys configured. Each view's
// screenshot is saved under docs/ (docs/console.md shows them).
//
// Skipped, with a warning, where chromium is not installed (`apt-get install chromium`); CI sets
// REQUIRE_CHROMIUM=1 and installs it, so there it runs or fails.
/// <reference lib="dom" />
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Stats } from '../../lib/api/stats.ts';
import { validatePublishRequest } from '../../lib/core/publish-request.ts';
import { packMessages } from '../../lib/queue/message.ts';
import { browserSuite, launchChromium, requireChromium } from '../support/browser.ts';
import { freePort, projectRoot, spawnScript, stopProcess, waitForLine } from '../support/processes.ts';

jest.setTimeout(120_000);

const suite = browserSuite('the console');

const READ_KEY = 'browser-read-key';
const ADMIN_KEY = 'browser-admin-key';
const STAGE = 'browser';
const docs = path.join(projectRoot, 'docs');
let dataDir: string | undefined;

let stack: ChildProcess | undefined;
let baseUrl: string;
let cloudPort: number;
let browser: Browser;
let context: BrowserContext;
let page: Page;

/** Console errors and uncaught exceptions of every page; a test that provokes some takes them out. */
const errors: string[] = [];
const watch = (target: Page): Page => {
  target.on('console', (message) => {
    if (message.type() === 'error') errors.push(`${message.text()} (${message.location().url})`);
  });
  target.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  return target;
};
/** Removes the errors a test provoked on purpose (the browser logs every 4xx and failed fetch). */
const expectedErrors = (pattern: RegExp): void => {
  const matching = errors.filter((error) => pattern.test(error));
  expect(matching.length).toBeGreaterThan(0);
  errors.splice(0, errors.length, ...errors.filter((error) => !pattern.test(error)));
};

// ---------------------------------------------------------------------------------------- the API

const api = async (pathAndQuery: string): Promise<Response> => fetch(`${baseUrl}${pathAndQuery}`, { headers: { 'x-api-key': READ_KEY } });
const getJson = async <T>(pathAndQuery: string): Promise<T> => {
  const response = await api(pathAndQuery);
  expect(response.status).toBe(200);
  return (await response.json()) as T;
};
const publish = async (body: unknown): Promise<void> => {
  const response = await fetch(`${baseUrl}/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  expect(response.status).toBe(202);
};
const drained = async (processed: number): Promise<Stats> => {
  const deadline = Date.now() + 60_000;
  let stats: Stats;
  do {
    stats = await getJson<Stats>('/stats');
    if (stats.processed >= processed && stats.queue.visible === 0 && stats.queue.in_flight === 0) return stats;
    await new Promise((resolve) => setTimeout(resolve, 200));
  } while (Date.now() < deadline);
  throw new Error(`not drained within 60 s: ${JSON.stringify(stats)}`);
};

interface SentEvent {
  topic: string;
  event_id: string;
  timestamp: string;
  source: string;
  payload: Record<string, unknown>;
}
const SOURCES = ['web', 'mobile', 'batch'];
const base = Date.UTC(2026, 10, 22, 10, 0, 0);
const seedEvent = (topic: string, i: number): SentEvent => ({
  topic,
  event_id: `${topic}-${String(i).padStart(3, '0')}`,
  timestamp: new Date(base + i * 60_000).toISOString(),
  source: SOURCES[i % 3]!,
  payload: { i, user: { id: `u${i % 4}` }, message: i % 5 === 0 ? 'timeout while charging the card' : 'ok' },
});
const orders = Array.from({ length: 30 }, (_, i) => seedEvent('orders', i));
const payments = Array.from({ length: 12 }, (_, i) => seedEvent('payments', i));
const auth = Array.from({ length: 6 }, (_, i) => seedEvent('auth', i));

// ------------------------------------------------------------------------------------ the browser

const open = async (hash: string, target: Page = page): Promise<void> => {
  await target.goto(`${baseUrl}/${hash}`);
  await target.locator('main').waitFor();
};
const screenshot = async (name: string, target: Page = page, fullPage = false): Promise<void> => {
  mkdirSync(docs, { recursive: true });
  // Let the charts and the "updated" line settle on their latest data.
  await target.waitForTimeout(300);
  await target.screenshot({ path: path.join(docs, name), fullPage });
};
const statValue = async (name: string, target: Page = page): Promise<number> =>
  Number(await target.locator(`main [data-stat="${name}"]`).first().getAttribute('data-value'));
const waitForStat = async (name: string, value: number, target: Page = page): Promise<void> => {
  await target.waitForFunction(
    ([stat, expected]) => document.querySelector(`main [data-stat="${stat}"]`)?.getAttribute('data-value') === String(expected),
    [name, value] as const,
    { timeout: 30_000 },
  );
};
const eventIds = async (target: Page = page): Promise<string[]> =>
  target.locator('article.event').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-event-id') ?? ''));
/** Waits until the events view is done loading (no spinner, no "Loading…" button). */
const settled = async (target: Page = page): Promise<void> => {
  await target.waitForFunction(() => !document.querySelector('.notice.loading') && !document.querySelector('button.more[disabled]'), undefined, {
    timeout: 30_000,
  });
};
/**
 * Clears the filters and waits for the cleared view. Clear is a link: the hash changes, then the
 * hashchange event remounts the events view with an empty form. Waiting only for "not loading"
 * could return before that remount, and a field filled into the old form was then lost with it.
 */
const clearFilters = async (): Promise<void> => {
  const oldForm = (await page.evaluate(() => location.hash)) === '#/events' ? null : await page.locator('form.filters').elementHandle();
  await page.getByRole('link', { name: 'Clear' }).click();
  await oldForm?.waitForElementState('hidden');
  await settled();
};
const applyFilters = async (fill: Record<string, string>): Promise<void> => {
  await clearFilters();
  for (const [label, value] of Object.entries(fill)) await page.getByLabel(label, { exact: true }).fill(value);
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.waitForFunction(() => location.hash.includes('?'));
  await settled();
};

/** JSON text with the whitespace outside strings removed. */
const minify = (text: string): string => {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i]!;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (!/\s/.test(c)) out += c;
  }
  return out;
};

suite('the web console', () => {
  beforeAll(async () => {
    requireChromium();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'log-aggregator-browser-'));
    const [httpPort, lambdaPort] = [await freePort(), await freePort()];
    cloudPort = await freePort();
    stack = spawnScript('scripts/start.ts', [], {
      DATA_DIR: dataDir,
      CLOUD_PORT: String(cloudPort),
      HTTP_PORT: String(httpPort),
      LAMBDA_PORT: String(lambdaPort),
      STAGE,
      LOG_LEVEL: 'WARN',
      READ_API_KEYS: READ_KEY,
      ADMIN_API_KEYS: ADMIN_KEY,
    });
    baseUrl = `http://127.0.0.1:${httpPort}`;
    const [, launched] = await Promise.all([
      waitForLine(stack, /^ready in/, 110_000),
      launchChromium(),
    ]);
    browser = launched;
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: 'UTC', locale: 'en-US' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl });
    page = watch(await context.newPage());
  }, 120_000);

  afterEach(() => {
    const seen = errors.splice(0);
    expect(seen).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    if (stack) await stopProcess(stack, 'SIGINT');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('asks for a read key, refuses a wrong one, then shows an empty aggregator as empty', async () => {
    await open('');
    await page.getByRole('heading', { name: 'An API key is needed to read' }).waitFor();
    await page.getByLabel('API key', { exact: true }).fill('not-a-read-key');
    await page.getByRole('button', { name: 'Use this key' }).click();
    await page.getByRole('alert').filter({ hasText: 'Refused' }).waitFor();
    await page.getByLabel('API key', { exact: true }).fill(READ_KEY);
    await page.getByRole('button', { name: 'Use this key' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expectedErrors(/status of 40[13]/);
    // New pages and reloads of this context start with the key (as this tab's session would).
    await context.addInitScript((key) => sessionStorage.setItem('log-aggregator.read-key', key), READ_KEY);

    await waitForStat('received', 0);
    await page.getByText('No events yet. Publish one and watch it arrive:').waitFor();
    await open('#/topics');
    await page.getByText('No topics yet: a topic appears when its first event is processed.').waitFor();
    await open('#/events');
    await page.getByText('No events stored yet.').waitFor();
  });

  it('shows the numbers of /stats, top topics and the history', async () => {
    const repeats = [...orders.slice(0, 8), ...payments.slice(0, 3)];
    await publish({ events: [...orders, ...payments, ...auth, ...repeats] });
    const stats = await drained(orders.length + payments.length + auth.length + repeats.length);
    await open('#/overview');
    await waitForStat('received', stats.received);
    // Counts move when a batch is folded, the queue a moment later, when the event source deletes the
    // batch's messages: compare with /stats only once the console shows the drained queue as well.
    await waitForStat('queue.in_flight', 0);
    await waitForStat('queue.visible', 0);
    await page.waitForFunction((sum) => document.querySelector('figure.throughput')?.getAttribute('data-received-sum') === String(sum), stats.received);

    const shown = {
      received: await statValue('received'),
      unique_processed: await statValue('unique_processed'),
      duplicate_dropped: await statValue('duplicate_dropped'),
      dedup_rate: await statValue('dedup_rate'),
      queue: {
        visible: await statValue('queue.visible'),
        in_flight: await statValue('queue.in_flight'),
        dlq: await statValue('queue.dlq'),
      },
    };
    const now = await getJson<Stats>('/stats');
    expect(shown).toEqual({
      received: now.received,
      unique_processed: now.unique_processed,
      duplicate_dropped: now.duplicate_dropped,
      dedup_rate: now.dedup_rate,
      queue: { visible: now.queue.visible, in_flight: now.queue.in_flight, dlq: now.queue.dlq },
    });
    expect(shown).toMatchObject({ received: 59, unique_processed: 48, duplicate_dropped: 11 });
    // What is shown is what is in data-value, formatted.
    expect(await page.locator('main [data-stat="received"] .card-value').textContent()).toBe(now.received.toLocaleString('en-US'));
    expect(await page.locator('main [data-stat="dedup_rate"] .card-value').textContent()).toBe(`${(now.dedup_rate * 100).toFixed(1)}%`);

    const rows = await page.locator('table.top-topics tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('th, td')].slice(0, 4).map((cell) => cell.textContent)),
    );
    expect(rows).toEqual(now.top_topics.map((t) => [t.topic, String(t.received), String(t.unique), String(t.duplicate)]));
    await page.locator('.throughput canvas').first().waitFor();
    await screenshot('console-overview.png');
  });

  it('moves the counts and the chart when events are published, without redrawing the page', async () => {
    const before = await statValue('received');
    const sumBefore = Number(await page.locator('figure.throughput').getAttribute('data-received-sum'));
    const canvas = await page.locator('.throughput canvas').first().elementHandle();
    const more = Array.from({ length: 20 }, (_, i) => seedEvent('orders', 100 + i));
    await publish({ events: [...more, ...more.slice(0, 5)] });
    await waitForStat('received', before + 25);
    await page.waitForFunction((sum) => document.querySelector('figure.throughput')?.getAttribute('data-received-sum') === String(sum), sumBefore + 25, {
      timeout: 30_000,
    });
    expect(await statValue('duplicate_dropped')).toBe(11 + 5);
    // Refreshed in place: the same chart, fed new data.
    expect(await canvas!.evaluate((node) => node.isConnected)).toBe(true);
  });

  it('lists topics with a filter and sortable columns; a click opens the topic’s events', async () => {
    await open('#/topics');
    const names = async (): Promise<string[]> => page.locator('table.topics tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-topic') ?? ''));
    await page.locator('table.topics').waitFor();
    expect(await names()).toEqual(['auth', 'orders', 'payments']);
    await screenshot('console-topics.png');

    await page.getByLabel('Filter topics').fill('pay');
    expect(await names()).toEqual(['payments']);
    await page.getByLabel('Filter topics').fill('');
    await page.getByRole('button', { name: 'Received' }).click();
    const listed = (await getJson<{ topics: Array<{ topic: string; received: number }> }>('/topics')).topics;
    expect(await names()).toEqual([...listed].sort((a, b) => b.received - a.received).map((t) => t.topic));
    expect(await page.locator('th[aria-sort="descending"]').textContent()).toMatch(/^Received/);

    await page.getByRole('link', { name: 'payments', exact: true }).click();
    await page.waitForFunction(() => location.hash === '#/events?topic=payments');
    await settled();
    expect((await eventIds()).sort()).toEqual(payments.map((e) => e.event_id));
  });

  it('narrows the events with each filter: source, text, payload field, time range', async () => {
    await open('#/events?topic=orders&limit=200');
    await settled();
    const all = [...orders, ...Array.from({ length: 20 }, (_, i) => seedEvent('orders', 100 + i))];
    expect((await eventIds()).sort()).toEqual(all.map((e) => e.event_id).sort());

    await applyFilters({ Topic: 'orders', Source: 'web' });
    expect((await eventIds()).sort()).toEqual(all.filter((e) => e.source === 'web').map((e) => e.event_id).sort());
    expect(new Set(await page.locator('article.event').evaluateAll((n) => n.map((a) => a.getAttribute('data-source'))))).toEqual(new Set(['web']));

    await applyFilters({ Topic: 'orders', 'Text in the payload': 'timeout' });
    expect((await eventIds()).sort()).toEqual(all.filter((e) => e.payload.message !== 'ok').map((e) => e.event_id).sort());
    await screenshot('console-events.png');

    await clearFilters();
    await page.getByRole('button', { name: 'Add payload field filter' }).click();
    await page.getByLabel('Topic', { exact: true }).fill('orders');
    await page.getByLabel('Payload field', { exact: true }).fill('user.id');
    await page.getByLabel('equals', { exact: true }).fill('u1');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForFunction(() => location.hash.includes('payload.user.id=u1'));
    await settled();
    expect((await eventIds()).sort()).toEqual(all.filter((e) => (e.payload.user as { id: string }).id === 'u1').map((e) => e.event_id).sort());

    // From 10:05 to 10:09 UTC (the page runs in UTC): orders 5..9.
    await applyFilters({ Topic: 'orders', 'From (local time, UTC)': '2026-11-22T10:05:00', 'To (local time, UTC)': '2026-11-22T10:09:00' });
    expect(await eventIds()).toEqual(['orders-005', 'orders-006', 'orders-007', 'orders-008', 'orders-009']);
    await applyFilters({ Topic: 'orders', 'From (local time, UTC)': '2026-11-22T10:05:00', 'To (local time, UTC)': '2026-11-22T10:09:00' });
    await page.getByLabel('Order', { exact: true }).selectOption('desc');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForFunction(() => location.hash.includes('order=desc'));
    await settled();
    expect(await eventIds()).toEqual(['orders-009', 'orders-008', 'orders-007', 'orders-006', 'orders-005']);
  });

  it('pages with "load more" through every event exactly once, also while searching', async () => {
    const paged = Array.from({ length: 130 }, (_, i) => ({
      ...seedEvent('paging', i),
      payload: { i, note: i % 3 === 0 ? 'needle in the haystack' : 'hay' },
    }));
    const before = (await getJson<Stats>('/stats')).processed;
    await publish({ events: paged });
    await drained(before + paged.length);

    const loadAll = async (): Promise<number> => {
      let clicks = 0;
      await settled();
      while (await page.locator('button.more').isVisible()) {
        await page.locator('button.more').click();
        clicks += 1;
        await settled();
      }
      await page.getByText('End of the results.').waitFor();
      return clicks;
    };
    await open('#/events?topic=paging&limit=25');
    expect(await loadAll()).toBe(5);
    const ids = await eventIds();
    expect(ids).toEqual(paged.map((e) => e.event_id)); // once each, in event-time order

    await open('#/events?topic=paging&q=needle&limit=25');
    await loadAll();
    expect(await eventIds()).toEqual(paged.filter((e) => e.payload.note.startsWith('needle')).map((e) => e.event_id));
  });

  it('shows a payload exactly as stored, collapsible, and copies it', async () => {
    // Raw text: key order (integer-like keys included), "__proto__", an empty key, escapes, emoji,
    // numbers in several notations. The viewer must show what the API returns, byte for byte.
    const payload =
      '{"zeta":1,"alpha":{"b":"bee","10":"ten","2":"two","":"empty","__proto__":{"polluted":false},"dot.ted":null},' +
      '"numbers":[0,-0.5,1e21,1.5e-7,9007199254740991,100.0],' +
      '"text":"ünïcødé ✓ 😀 \\"quoted\\" back\\\\slash\\nnew line\\ttab \\u0001 </script>",' +
      '"nested":{"deep":{"deeper":{"deepest":[true,false,null,{},[]]}}}}';
    await publish(`{"topic":"json","event_id":"exact-1","timestamp":"2026-11-22T10:00:00.123456789+01:00","source":"viewer","payload":${payload}}`);
    let raw = '';
    for (let tries = 0; tries < 100 && !raw; tries += 1) {
      const response = await api('/events/json/exact-1');
      if (response.status === 200) raw = await response.text();
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const stored = raw.slice(raw.indexOf('"payload":') + '"payload":'.length, raw.lastIndexOf(',"stored_at":'));

    await open('#/events?topic=json&view=details');
    await settled();
    const view = page.locator('article.event[data-event-id="exact-1"] pre.json');
    const text = (await view.textContent())!;
    expect(minify(text)).toBe(stored);
    expect(text.split('\n').slice(0, 3)).toEqual(['{', '  "zeta": 1,', '  "alpha": {']);
    expect(text).toContain('"text": "ünïcødé ✓ 😀 \\"quoted\\" back\\\\slash\\nnew line\\ttab \\u0001 </script>"');
    expect(await page.locator('article.event[data-event-id="exact-1"] time').textContent()).toBe('2026-11-22T09:00:00.123456789Z');
    // Stored times say their zone, as the time filters say theirs (this page runs in UTC).
    expect(await page.locator('article.event[data-event-id="exact-1"] .event-foot').textContent()).toMatch(/^stored \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{3})? UTC$/);
    await screenshot('console-json.png');

    await page.getByRole('button', { name: 'Collapse payload of exact-1.alpha', exact: true }).click();
    expect(await view.textContent()).toContain('"alpha": { 6 keys }');
    await page.getByRole('button', { name: 'Expand payload of exact-1.alpha', exact: true }).click();
    expect(await view.textContent()).toBe(text);

    await page.getByRole('button', { name: 'Copy payload of exact-1 as JSON' }).click();
    await page.getByRole('button', { name: 'Copy payload of exact-1 as JSON' }).filter({ hasText: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(text);
    const link = page.getByRole('link', { name: 'Open exact-1 as JSON (new tab)' });
    expect(await link.getAttribute('href')).toBe(`${baseUrl}/events/json/exact-1`);
  });

  it('shows logs from the shippers as lines: time, coloured severity, topic, source, message; JSON one click away; a severity filter', async () => {
    const post = async (path: string, contentType: string, body: string, status: number): Promise<void> => {
      const response = await fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });
      expect(response.status).toBe(status);
    };
    const ns = (second: number): string => `${Date.UTC(2026, 11, 2, 9, 0, second)}000000`;
    // OTLP/JSON from a "checkout" service, a Loki stream and an Elasticsearch document, all topic "shop".
    const record = (second: number, severityNumber: number, severityText: string, body: string) =>
      ({ timeUnixNano: ns(second), severityNumber, severityText, body: { stringValue: body }, attributes: [{ key: 'log.record.uid', value: { stringValue: `otlp-${second}` } }] });
    await post(
      '/v1/logs?topic=shop',
      'application/json',
      JSON.stringify({
        resourceLogs: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }, { key: 'service.instance.id', value: { stringValue: 'checkout-7d9f' } }] },
            scopeLogs: [
              {
                logRecords: [
                  record(1, 9, 'INFO', 'order 1042 paid: 3 items, 42.50 EUR'),
                  record(2, 5, 'DEBUG', 'cache hit for cart 1042'),
                  record(3, 13, 'WARN', 'payment provider slow: 2.4 s'),
                  record(4, 17, 'ERROR', 'order 1043 failed: card declined'),
                  record(5, 21, 'FATAL', 'ledger unreachable, giving up'),
                ],
              },
            ],
          },
        ],
      }),
      200,
    );
    await post('/loki/api/v1/push', 'application/json', JSON.stringify({ streams: [{ stream: { topic: 'shop', host: 'edge-1', level: 'warn' }, values: [[ns(6), 'rate limit at 90% for tenant acme']] }] }), 204);
    await post('/_bulk', 'application/x-ndjson', `${JSON.stringify({ index: { _index: 'shop' } })}\n${JSON.stringify({ '@timestamp': '2026-12-02T09:00:07Z', message: 'GET /cart 200 12 ms', 'log.level': 'info', host: { name: 'web-3' } })}\n`, 200);
    for (let tries = 0; tries < 150 && (await getJson<{ events: unknown[] }>('/events?topic=shop')).events.length < 7; tries += 1) await new Promise((resolve) => setTimeout(resolve, 200));

    await open('#/events?topic=shop');
    await settled();
    const rows = page.locator('article.event.line');
    expect(await rows.count()).toBe(7);
    const row = rows.filter({ hasText: 'card declined' });
    expect(await row.locator('.severity').textContent()).toBe('ERROR');
    expect(await row.locator('.source').textContent()).toBe('checkout-7d9f');
    expect(await row.locator('.message').textContent()).toBe('order 1043 failed: card declined');
    // Coloured by severity: error red, warn amber, a Loki level label and an ECS log.level read too.
    const colour = (text: string) => rows.filter({ hasText: text }).locator('.severity').evaluate((el) => getComputedStyle(el).color);
    expect(await colour('card declined')).toBe('rgb(185, 28, 28)');
    expect(await colour('payment provider slow')).toBe('rgb(146, 64, 14)');
    expect(await rows.filter({ hasText: 'rate limit' }).locator('.severity').textContent()).toBe('WARN');
    expect(await rows.filter({ hasText: 'GET /cart' }).locator('.severity').textContent()).toBe('INFO');
    await screenshot('console-lines.png');

    // The JSON is one click away, under the row.
    await row.getByRole('button', { name: 'Show the JSON of otlp-4' }).click();
    expect(await row.locator('pre.json').textContent()).toContain('"severity_text": "ERROR"');
    await row.getByRole('button', { name: 'Hide the JSON of otlp-4' }).click();
    expect(await row.locator('pre.json').count()).toBe(0);

    // Warn or worse: the warn, error and fatal records and the Loki warning.
    await page.getByLabel('Severity', { exact: true }).selectOption('warn');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForFunction(() => location.hash.includes('severity=warn'));
    await settled();
    expect(await page.locator('article.event.line').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-severity')))).toEqual(['warn', 'error', 'fatal', 'warn']);
    await screenshot('console-lines-warn.png');

    // And the cards of before, a click away.
    await page.getByRole('button', { name: 'Details' }).click();
    await page.waitForFunction(() => location.hash.includes('view=details'));
    await settled();
    expect(await page.locator('article.event:not(.line)').count()).toBe(4);
  });

  it('follows new events live, pauses, and catches up on resume', async () => {
    await open('#/events?topic=tail');
    await settled();
    await page.getByRole('button', { name: 'Live tail' }).click();
    await page.getByText('Waiting for events…').waitFor();
    await publish(seedEvent('tail', 1));
    await page.locator('article.event[data-event-id="tail-001"]').waitFor({ timeout: 30_000 });

    await page.getByRole('button', { name: 'Pause' }).click();
    const processed = (await getJson<Stats>('/stats')).processed;
    await publish(seedEvent('tail', 2));
    await drained(processed + 1);
    await page.waitForTimeout(3_000); // past the tail's lag: it would have shown by now
    expect(await page.locator('article.event[data-event-id="tail-002"]').count()).toBe(0);

    await page.getByRole('button', { name: 'Live tail' }).click();
    await page.locator('article.event[data-event-id="tail-002"]').waitFor({ timeout: 30_000 });
    expect(await eventIds()).toEqual(['tail-002', 'tail-001']);
    await page.getByRole('button', { name: 'Pause' }).click();
  });

  it('redrives the DLQ only with the admin key: refuses a wrong key, then works with the right one', async () => {
    // A message as the publisher sends it, dead-lettered by hand.
    const sqs = new SQSClient({ endpoint: `http://127.0.0.1:${cloudPort}`, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: `log-aggregator-${STAGE}-events-dlq` }));
    const [message] = packMessages(validatePublishRequest({ events: [seedEvent('dead', 1)] }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: message!.body }));
    sqs.destroy();

    await open('#/queue');
    await waitForStat('queue.dlq', 1);
    await page.getByRole('button', { name: 'Redrive 1 message' }).click();
    await page.getByLabel(/^Admin API key/).fill('not-the-admin-key');
    await page.getByRole('button', { name: 'Redrive with this key' }).click();
    await page.getByRole('alert').filter({ hasText: 'Refused: This key is not an admin key' }).waitFor();
    expect((await getJson<Stats>('/stats')).queue.dlq).toBe(1);
    expectedErrors(/status of 403.*admin\/redrive/);

    await page.getByLabel(/^Admin API key/).fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Redrive with this key' }).click();
    await page.getByText('Moved 1 message back to the queue').waitFor();
    await waitForStat('queue.dlq', 0);
    // Processed once back in the queue: the dead-lettered event is stored.
    for (let tries = 0; tries < 100 && !(await api('/events/dead/dead-001')).ok; tries += 1) await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await api('/events/dead/dead-001')).status).toBe(200);
    // The key is kept for this session: the button now redrives at once, and can forget it.
    await page.getByRole('button', { name: 'Forget the admin key' }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('.chart canvas').length > 0);
    await screenshot('console-queue.png', page, true);
  });

  it('fits a 390-pixel phone without horizontal scrolling', async () => {
    const phone = watch(await context.newPage());
    await phone.setViewportSize({ width: 390, height: 844 });
    for (const hash of ['#/overview', '#/topics', '#/events?topic=json&view=details', '#/events?topic=orders', '#/events?topic=shop', '#/queue']) {
      await open(hash, phone);
      await settled(phone);
      await phone.locator('main h1').first().waitFor();
      await phone.waitForTimeout(300);
      const widths = await phone.evaluate(() => ({ page: document.documentElement.scrollWidth, body: document.body.scrollWidth, viewport: window.innerWidth }));
      expect({ hash, ...widths }).toEqual({ hash, page: 390, body: 390, viewport: 390 });
      // Every drop-down shows its chosen option whole (the Order one's long default was cut off).
      const cut = await phone.evaluate(() => {
        const context2d = document.createElement('canvas').getContext('2d')!;
        return [...document.querySelectorAll('select')].flatMap((select) => {
          const style = getComputedStyle(select);
          context2d.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
          const text = select.selectedOptions[0]?.textContent ?? '';
          const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 16;
          return context2d.measureText(text).width > room ? [`${select.id || select.getAttribute('name')}: "${text}"`] : [];
        });
      });
      expect({ hash, cut }).toEqual({ hash, cut: [] });
      if (hash === '#/events?topic=shop') await screenshot('console-phone-lines.png', phone, true);
      if (hash === '#/overview') {
        await phone.locator('.throughput canvas').first().waitFor();
        await screenshot('console-phone.png', phone, true);
      }
    }
    await phone.close();
  });

  it('labels every control and can be driven from the keyboard', async () => {
    await open('#/events?topic=orders');
    await settled();
    const unlabelled = await page.evaluate(() => [
      ...[...document.querySelectorAll('input, select, textarea')]
        .filter((el) => (el as HTMLInputElement).labels?.length === 0 && !el.getAttribute('aria-label'))
        .map((el) => `${el.tagName} ${el.getAttribute('name')}`),
      ...[...document.querySelectorAll('button, a[href]')]
        .filter((el) => !el.textContent?.trim() && !el.getAttribute('aria-label'))
        .map((el) => el.outerHTML.slice(0, 80)),
    ]);
    expect(unlabelled).toEqual([]);

    // Keyboard focus moves only in the focused tab (the phone test opened another one); a fresh load
    // starts tabbing from the top of the page.
    await page.bringToFront();
    await page.reload();
    await settled();
    const focused: string[] = [];
    for (let presses = 0; presses < 12 && focused.at(-1) !== 'Topics'; presses += 1) {
      await page.keyboard.press('Tab');
      focused.push(await page.evaluate(() => document.activeElement?.textContent ?? ''));
    }
    expect(focused).toEqual(['Skip to content', 'log-aggregator', 'Overview', 'Topics']);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.hash === '#/topics');
    await page.getByRole('heading', { name: 'Topics' }).waitFor();
  });

  it('says so when the API does not answer, and recovers', async () => {
    await open('#/overview');
    await waitForStat('queue.dlq', 0);
    await page.route('**/stats', (route) => route.abort());
    await page.getByRole('alert').filter({ hasText: 'The API does not answer' }).waitFor({ timeout: 10_000 });
    await page.getByText('API not answering').waitFor();
    await page.unroute('**/stats');
    await page.getByText(/live · updated/).waitFor({ timeout: 10_000 });
    expect(await page.getByRole('alert').filter({ hasText: 'The API does not answer' }).count()).toBe(0);
    expectedErrors(/ERR_FAILED/);
  });
});
