// The Grafana dashboard (deploy/grafana/log-aggregator.json) queries only what GET /metrics exposes:
// every metric name in its panels and variables, and every label value it selects on, exist in the
// output of renderMetrics (the code behind /metrics) for a sample of statistics.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { renderMetrics } from '../../lib/api/metrics.ts';
import type { Stats } from '../../lib/api/stats.ts';

const dashboard = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'deploy', 'grafana', 'log-aggregator.json'), 'utf8'));

const sample: Stats = {
  received: 12,
  unique_processed: 9,
  duplicate_dropped: 3,
  processed: 12,
  dedup_rate: 0.25,
  top_topics: [
    { topic: 'orders', received: 8, unique: 6, duplicate: 2 },
    { topic: 'auth', received: 4, unique: 3, duplicate: 1 },
  ],
  queue: { visible: 1, in_flight: 2, delayed: 0, dlq: 1 },
  started_at: '2026-11-22T10:00:00.000Z',
  uptime_seconds: 60,
};

interface Series {
  name: string;
  labels: Record<string, string>;
}

/** The series of a Prometheus text exposition (names and labels; values do not matter here). */
const parseExposition = (text: string): Series[] =>
  text
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s/.exec(line);
      if (!match) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
      return { name: match[1]!, labels };
    });

/** Every PromQL expression of the dashboard: panel targets (rows included) and query variables. */
const expressions = (): string[] => {
  const out: string[] = [];
  const visit = (panels: any[]): void => {
    for (const panel of panels ?? []) {
      for (const target of panel.targets ?? []) if (target.expr) out.push(target.expr);
      visit(panel.panels);
    }
  };
  visit(dashboard.panels);
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    if (query) out.push(query);
  }
  return out;
};

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'inf', 'nan']);

/** Metric names an expression selects, and the label matchers on each selector. */
const selectors = (expr: string): Array<{ metric: string; matchers: Array<{ label: string; op: string; value: string }> }> => {
  // label_values(<selector>, <label>): only the selector is a query.
  const text = expr.replace(/label_values\((.*),\s*[a-zA-Z_]\w*\s*\)/g, '$1');
  const found: Array<{ metric: string; matchers: Array<{ label: string; op: string; value: string }> }> = [];
  // Blank out (same length, so positions still match `text`) what holds no metric name: strings,
  // label matcher blocks, range and subquery brackets, grouping clauses.
  const blank = (match: string): string => ' '.repeat(match.length);
  const masked = text
    .replace(/"(?:[^"\\]|\\.)*"/g, blank)
    .replace(/\{[^}]*\}/g, (block) => `{${' '.repeat(block.length - 2)}}`)
    .replace(/\[[^\]]*\]/g, blank)
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, blank);
  for (const match of masked.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const name = match[0];
    const end = match.index! + name.length;
    const after = masked.slice(end);
    if (/^\s*\(/.test(after)) continue; // a function or aggregation
    if (KEYWORDS.has(name) || masked[match.index! - 1] === '$') continue; // a keyword or a Grafana variable
    const block = /^\s*\{/.test(after) ? /^\s*(\{[^}]*\})/.exec(text.slice(end))![1]! : '';
    const matchers = [...block.matchAll(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)].map((m) => ({ label: m[1]!, op: m[2]!, value: m[3]! }));
    found.push({ metric: name, matchers });
  }
  return found;
};

describe('deploy/grafana/log-aggregator.json', () => {
  let series: Series[];
  beforeAll(async () => {
    series = parseExposition(await renderMetrics(sample));
  });

  it('is a dashboard with panels that query Prometheus', () => {
    expect(dashboard.uid).toBe('log-aggregator');
    expect(expressions().length).toBeGreaterThan(10);
  });

  it('finds the selectors of a PromQL expression (the checker itself)', () => {
    expect(selectors('sum by (topic) (rate(a_total{job=~"$job", topic=~"$topic"}[$__rate_interval])) / sum(increase(b[5m]))')).toEqual([
      { metric: 'a_total', matchers: [{ label: 'job', op: '=~', value: '$job' }, { label: 'topic', op: '=~', value: '$topic' }] },
      { metric: 'b', matchers: [] },
    ]);
    expect(selectors('label_values(m{job=~"$job"}, topic)').map((s) => s.metric)).toEqual(['m']);
  });

  it('queries only metrics that /metrics exposes', () => {
    const exposed = new Set(series.map((s) => s.name));
    const queried = new Set(expressions().flatMap((expr) => selectors(expr).map((s) => s.metric)));
    expect(queried.size).toBeGreaterThan(0);
    expect([...queried].filter((name) => !exposed.has(name))).toEqual([]);
  });

  it('selects only labels and label values that /metrics has (job is added by Prometheus)', () => {
    const problems: string[] = [];
    for (const expr of expressions()) {
      for (const { metric, matchers } of selectors(expr)) {
        const ofMetric = series.filter((s) => s.name === metric);
        for (const { label, op, value } of matchers) {
          if (label === 'job' || label === 'instance') continue;
          if (!ofMetric.some((s) => label in s.labels)) problems.push(`${metric} has no label ${label} (in ${expr})`);
          else if (op === '=' && !value.includes('$') && !ofMetric.some((s) => s.labels[label] === value)) {
            problems.push(`${metric} never has ${label}="${value}" (in ${expr})`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('shows every metric /metrics exposes somewhere', () => {
    const queried = new Set(expressions().flatMap((expr) => selectors(expr).map((s) => s.metric)));
    expect([...new Set(series.map((s) => s.name))].filter((name) => !queried.has(name))).toEqual([]);
  });
});
