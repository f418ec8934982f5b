import { LIMITS } from '../../lib/core/event.ts';
import { validatePublishRequest } from '../../lib/core/publish-request.ts';
import { normalizeTimestamp } from '../../lib/core/time.ts';
import { TooLargeError, ValidationError } from '../../lib/core/errors.ts';

const valid = { topic: 'orders', event_id: 'o-1', timestamp: '2026-11-22T10:00:00Z', source: 'shop', payload: { a: 1 } };

const issuesOf = (body: unknown) => {
  try {
    validatePublishRequest(body);
  } catch (error) {
    if (error instanceof ValidationError) return error.issues;
    throw error;
  }
  throw new Error('expected a ValidationError');
};

describe('timestamps', () => {
  it.each([
    ['2026-11-22T10:00:00Z', '2026-11-22T10:00:00Z', '2026-11-22T10:00:00.000000000Z'],
    ['2026-11-22T11:30:00+01:30', '2026-11-22T10:00:00Z', '2026-11-22T10:00:00.000000000Z'],
    ['2026-11-22t10:00:00.123456789z', '2026-11-22T10:00:00.123456789Z', '2026-11-22T10:00:00.123456789Z'],
    ['2026-01-01T00:30:00.5+01:00', '2025-12-31T23:30:00.5Z', '2025-12-31T23:30:00.500000000Z'],
    ['2024-02-29T23:00:00-02:00', '2024-03-01T01:00:00Z', '2024-03-01T01:00:00.000000000Z'],
    ['0050-06-01T00:00:00Z', '0050-06-01T00:00:00Z', '0050-06-01T00:00:00.000000000Z'],
  ])('%s is normalized to UTC', (input, iso, sortable) => {
    expect(normalizeTimestamp(input)).toEqual({ iso, sortable });
  });

  it.each([
    ['2026-11-22T10:00:00', /with a zone/],
    ['2026-11-22', /RFC 3339/],
    ['2026-02-29T00:00:00Z', /day 29 does not exist/],
    ['2026-13-01T00:00:00Z', /month 13/],
    ['2026-04-31T00:00:00Z', /day 31/],
    ['2026-11-22T24:00:00Z', /does not exist/],
    ['2026-11-22T23:59:60Z', /leap seconds/],
    ['2026-11-22T10:00:00+24:00', /zone offset/],
    ['0001-01-01T00:00:00+01:00', /between years/],
    ['1700000000', /RFC 3339/],
  ])('%s is rejected', (input, reason) => {
    expect(normalizeTimestamp(input)).toMatch(reason);
  });

  it('orders sortable forms like the instants they stand for', () => {
    const inputs = ['2026-01-01T00:00:00.1Z', '2026-01-01T00:00:00.09Z', '2026-01-01T00:00:00Z', '2025-12-31T23:59:59.999999999-00:01'];
    const sorted = inputs.map((input) => normalizeTimestamp(input) as { sortable: string }).map((t) => t.sortable).sort();
    expect(sorted).toEqual([
      '2026-01-01T00:00:00.000000000Z',
      '2026-01-01T00:00:00.090000000Z',
      '2026-01-01T00:00:00.100000000Z',
      '2026-01-01T00:00:59.999999999Z',
    ]);
  });
});

describe('publish request validation', () => {
  it('accepts one event, {"events": [...]} and a bare array', () => {
    expect(validatePublishRequest(valid)).toHaveLength(1);
    expect(validatePublishRequest({ events: [valid, { ...valid, event_id: 'o-2' }] })).toHaveLength(2);
    expect(validatePublishRequest([valid])[0]!.event).toMatchObject({ topic: 'orders', timestamp: '2026-11-22T10:00:00Z' });
  });

  it('keeps the payload exactly as sent', () => {
    const payload = { n: 1.5, big: 12345678901234, s: 'ü 😀', list: [null, true, { deep: [] }], empty: {} };
    expect(validatePublishRequest({ ...valid, payload })[0]!.event.payload).toEqual(payload);
  });

  it('names the index and field of every problem', () => {
    const issues = issuesOf({ events: [valid, { ...valid, topic: 'a#b' }, { ...valid, timestamp: 'yesterday', payload: [1] }] });
    expect(issues).toEqual([
      { index: 1, field: 'topic', message: 'may contain only A-Z a-z 0-9 . _ -' },
      { index: 2, field: 'timestamp', message: expect.stringMatching(/RFC 3339/) },
      { index: 2, field: 'payload', message: expect.any(String) },
    ]);
  });

  it.each([
    ['topic', { topic: '' }, /must not be empty/],
    ['topic', { topic: 'x'.repeat(LIMITS.topicMaxLength + 1) }, /at most 128/],
    ['event_id', { event_id: '' }, /must not be empty/],
    ['event_id', { event_id: 'é'.repeat(LIMITS.eventIdMaxBytes) }, /at most 512 bytes/],
    ['event_id', { event_id: 'a\ud800b' }, /lone surrogates/],
    ['event_id', { event_id: 42 }, /string/],
    ['source', { source: undefined }, /is required/],
    ['payload', { payload: 'text' }, /object/],
    ['payload', { payload: null }, /object/],
    ['timestamp', { timestamp: 1700000000 }, /string/],
  ])('%s: bad value %#', (field, change, message) => {
    const issues = issuesOf({ ...valid, ...change });
    expect(issues).toEqual([{ field, message: expect.stringMatching(message) }]);
  });

  it('rejects payloads nested too deeply', () => {
    let payload: Record<string, unknown> = {};
    for (let depth = 0; depth < LIMITS.payloadMaxDepth + 1; depth += 1) payload = { child: payload };
    expect(issuesOf({ ...valid, payload })).toEqual([{ field: 'payload', message: expect.stringMatching(/levels deep/) }]);
  });

  it('rejects an event larger than the event size limit', () => {
    const issues = issuesOf({ ...valid, payload: { blob: 'x'.repeat(LIMITS.maxEventBytes) } });
    expect(issues).toEqual([{ field: 'payload', message: expect.stringMatching(/at most 245760 are accepted/) }]);
  });

  it('measures an event the way it travels in the queue, escapes included', () => {
    // 50,000 emoji are 200,000 bytes of UTF-8 but 600,000 once escaped for SQS (see lib/core/json.ts).
    const issues = issuesOf({ ...valid, payload: { emoji: '😀'.repeat(50_000) } });
    expect(issues).toEqual([{ field: 'payload', message: expect.stringMatching(/is 600\d{3} bytes as JSON/) }]);
  });

  it('rejects an empty request and a non-array events field', () => {
    expect(issuesOf({ events: [] })).toEqual([{ field: 'events', message: 'must contain at least one event' }]);
    expect(issuesOf({ events: 'x' })).toEqual([{ field: 'events', message: 'must be an array of events' }]);
  });

  it('refuses more events than one request may carry', () => {
    const events = Array.from({ length: LIMITS.maxEventsPerRequest + 1 }, (_, i) => ({ ...valid, event_id: String(i) }));
    expect(() => validatePublishRequest(events)).toThrow(TooLargeError);
  });
});
