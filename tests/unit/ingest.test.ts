// The ingest adapters' pure rules: names that become topics, ids from content, instants from the
// shippers' time formats, Loki's label syntax, and how an event reads as a log line.
import { canonicalJson, contentId, topicFromName } from '../../lib/ingest/identity.ts';
import { topicFromIndex } from '../../lib/ingest/elastic.ts';
import { parseLabels } from '../../lib/ingest/loki.ts';
import { fromElasticDate, fromUnixNanos } from '../../lib/ingest/time.ts';
import { logLine, severityOfNumber, severityOfText } from '../../lib/core/log-line.ts';
import { normalizeTimestamp } from '../../lib/core/time.ts';
import { isTopicName } from '../../lib/core/event.ts';

describe('topics from names', () => {
  it('keeps a name that is already a topic, maps every other character to _, and keeps long names apart', () => {
    expect(topicFromName('checkout', 'x')).toBe('checkout');
    expect(topicFromName('checkout api', 'x')).toBe('checkout_api');
    expect(topicFromName('unknown_service:node', 'x')).toBe('unknown_service_node');
    expect(topicFromName('zürich/payments#1', 'x')).toBe('z_rich_payments_1');
    expect(topicFromName('', 'otlp')).toBe('otlp');
    expect(topicFromName(undefined, 'otlp')).toBe('otlp');
    const long = (suffix: string) => topicFromName(`${'a'.repeat(200)}${suffix}`, 'x');
    expect(long('1')).toHaveLength(128);
    expect(isTopicName(long('1'))).toBe(true);
    expect(long('1')).not.toBe(long('2'));
  });

  it('drops a trailing daily or monthly date from an index name', () => {
    expect(topicFromIndex('logs-2026.12.02')).toBe('logs');
    expect(topicFromIndex('logstash-2026-12-02')).toBe('logstash');
    expect(topicFromIndex('app_2026.12')).toBe('app');
    expect(topicFromIndex('logs-generic-default')).toBe('logs-generic-default');
    expect(topicFromIndex('2026.12.02')).toBe('2026.12.02');
  });
});

describe('content ids', () => {
  it('are the same whatever the order of keys, and differ when anything differs', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
    expect(contentId({ b: 1, a: 'x' })).toBe(contentId({ a: 'x', b: 1 }));
    expect(contentId({ a: 'x', b: 1 })).not.toBe(contentId({ a: 'x', b: 2 }));
    expect(contentId({ a: [1, 2] })).not.toBe(contentId({ a: [2, 1] }));
    expect(contentId({ a: 'x' })).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('instants', () => {
  it('keeps all nine digits of unix nanoseconds, and treats 0 as unknown', () => {
    expect(fromUnixNanos(1_796_223_684_123_456_789n)).toBe('2026-12-02T15:01:24.123456789Z');
    expect(fromUnixNanos(1n)).toBe('1970-01-01T00:00:00.000000001Z');
    expect(fromUnixNanos(0n)).toBeUndefined();
    expect(fromUnixNanos(253_402_300_800_000_000_000n)).toBeUndefined();
    expect(typeof normalizeTimestamp(fromUnixNanos(1_796_223_684_123_456_789n)!)).toBe('object');
  });

  it('reads Elasticsearch dates: zoned, zoneless (UTC), date only, epoch milliseconds; refuses the rest', () => {
    expect(fromElasticDate('2026-12-02T10:00:00.123+01:00')).toBe('2026-12-02T10:00:00.123+01:00');
    expect(fromElasticDate('2026-12-02T10:00:00.123+0100')).toBe('2026-12-02T10:00:00.123+01:00');
    expect(fromElasticDate('2026-12-02 10:00:00,5')).toBe('2026-12-02T10:00:00.5Z');
    expect(fromElasticDate('2026-12-02T10:00')).toBe('2026-12-02T10:00:00Z');
    expect(fromElasticDate('2026-12-02')).toBe('2026-12-02T00:00:00Z');
    expect(fromElasticDate(1_796_205_602_000)).toBe('2026-12-02T10:00:02.000Z');
    expect(fromElasticDate('1796205602000')).toBe('2026-12-02T10:00:02.000Z');
    expect(fromElasticDate('yesterday')).toBeUndefined();
    expect(fromElasticDate({})).toBeUndefined();
  });
});

describe("Loki's labels", () => {
  it('parses a stream selector with escapes, and says why one cannot be read', () => {
    expect(parseLabels('{job="api", level="error", msg="say \\"hi\\"\\n"}')).toEqual({ job: 'api', level: 'error', msg: 'say "hi"\n' });
    expect(parseLabels('{}')).toEqual({});
    expect(parseLabels('{ a = "1" ,b="2"}')).toEqual({ a: '1', b: '2' });
    expect(parseLabels('{job=api}')).toMatch(/not of the form/);
    expect(parseLabels('job="api"')).toMatch(/not of the form/);
    expect(parseLabels('{job="api"} trailing')).toMatch(/not of the form/);
    expect(parseLabels('{job="a\\qb"}')).toMatch(/escape/);
  });
});

describe('log lines', () => {
  it('finds the message and severity of each protocol’s payload', () => {
    expect(logLine({ body: 'paid', severity_text: 'ERROR', severity_number: 17 })).toEqual({ message: 'paid', severity: 'error', severityText: 'ERROR' });
    expect(logLine({ body: { a: 1 }, severity_number: 13 })).toEqual({ message: '{"a":1}', severity: 'warn' });
    expect(logLine({ line: 'x', labels: { level: 'warning' } })).toEqual({ message: 'x', severity: 'warn', severityText: 'warning' });
    expect(logLine({ line: 'x', labels: { job: 'j' }, structured_metadata: { detected_level: 'debug' } })).toMatchObject({ severity: 'debug' });
    expect(logLine({ message: 'GET /', 'log.level': 'info' })).toMatchObject({ message: 'GET /', severity: 'info' });
    expect(logLine({ message: 'x', log: { level: 'crit' } })).toMatchObject({ severity: 'fatal' });
    expect(logLine({ msg: 'pino', level: 'fatal' })).toMatchObject({ message: 'pino', severity: 'fatal' });
    expect(logLine({ MESSAGE: 'journald', PRIORITY: '3' })).toMatchObject({ message: 'journald', severity: 'error' });
    expect(logLine({ order: 42 })).toEqual({});
  });

  it('maps OpenTelemetry severity numbers and the usual level names', () => {
    expect([1, 4, 5, 9, 12, 13, 17, 21, 24].map(severityOfNumber)).toEqual(['trace', 'trace', 'debug', 'info', 'info', 'warn', 'error', 'fatal', 'fatal']);
    expect([0, 25, 9.5, '9'].map(severityOfNumber)).toEqual([undefined, undefined, undefined, undefined]);
    expect(['TRACE', 'Debug', 'INFO2', 'notice', 'WARNING', 'err', 'Error', 'CRITICAL', 'emerg', 'panic', 'verbose'].map(severityOfText)).toEqual([
      'trace',
      'debug',
      'info',
      'info',
      'warn',
      'error',
      'error',
      'fatal',
      'fatal',
      'fatal',
      undefined,
    ]);
  });
});
