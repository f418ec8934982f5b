// Property-based tests of the input contract: whatever JSON arrives, the validator answers with its
// own errors only, and everything it accepts travels through the queue format unchanged.
import fc from 'fast-check';
import { TooLargeError, ValidationError } from '../../lib/core/errors.ts';
import { validatePublishRequest } from '../../lib/core/publish-request.ts';
import { InexactNumber, parseJsonExact, toQueueJson } from '../../lib/core/json.ts';
import { packMessages, parseMessage } from '../../lib/queue/message.ts';

// Strings with any UTF-16 code units: lone surrogates, U+FFFE, control characters, emoji.
const anyString = fc.string({ unit: 'binary', maxLength: 40 });
const anyJson = fc.jsonValue({ maxDepth: 6 });
// Keys that trip up object handling on purpose, besides random ones.
const awkwardKey = fc.oneof(anyString, fc.constantFrom('__proto__', 'constructor', 'prototype', '', 'toString'));
const payload = fc.dictionary(awkwardKey, fc.jsonValue({ maxDepth: 5 }), { maxKeys: 8 });
const validEvent = fc.record({
  topic: fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/),
  event_id: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
  timestamp: fc.date({ min: new Date('0100-01-01T00:00:00Z'), max: new Date('9000-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  source: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
  payload,
});

const SQS_FORBIDDEN = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD]/;

it('answers any JSON body with events or its own errors, never anything else', () => {
  fc.assert(
    fc.property(fc.oneof(anyJson, fc.array(anyJson), fc.record({ events: fc.array(anyJson) })), (body) => {
      try {
        validatePublishRequest(body);
      } catch (error) {
        if (!(error instanceof ValidationError || error instanceof TooLargeError)) throw error;
      }
    }),
    { numRuns: 500 },
  );
});

it('accepts well-formed events and carries their payloads through the queue format unchanged', () => {
  fc.assert(
    fc.property(fc.array(validEvent, { minLength: 1, maxLength: 20 }), (events) => {
      // Through JSON first, as over HTTP: that is what the sender means by the payload.
      const body = parseJsonExact(JSON.stringify({ events }));
      const accepted = validatePublishRequest(body);
      const expected = (JSON.parse(JSON.stringify(events)) as typeof events).map((event) => event.payload);
      const messages = packMessages(accepted);
      for (const message of messages) expect(message.body).not.toMatch(SQS_FORBIDDEN);
      const carried = messages.flatMap((message) => parseMessage(message.body).events.map((event) => event.payload));
      expect(carried).toEqual(expected);
      // Stored as JSON text and read back the same way.
      expect(carried.map((p) => JSON.parse(JSON.stringify(p)))).toEqual(expected);
    }),
    { numRuns: 300 },
  );
});

it('reads every number JSON.stringify writes exactly, and refuses numbers a float would change', () => {
  fc.assert(
    fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
      const text = JSON.stringify({ value });
      expect(parseJsonExact(text)).toEqual(JSON.parse(text));
    }),
    { numRuns: 1000 },
  );
  fc.assert(
    // Exact means: the number comes back as the same text. (Below 1e21, String() writes plain digits.)
    fc.property(fc.bigInt({ min: 2n ** 53n, max: 10n ** 20n }), (big) => {
      const source = big.toString();
      const parsed = parseJsonExact(`{"n":${source}}`) as { n: unknown };
      expect(parsed.n instanceof InexactNumber).toBe(String(Number(source)) !== source);
    }),
    { numRuns: 500 },
  );
});

it('names the field of a number that cannot be stored exactly', () => {
  const body = parseJsonExact(
    '{"topic":"t","event_id":"1","timestamp":"2026-01-01T00:00:00Z","source":"s","payload":{"ok":1.50,"big":[1,123456789012345678901],"huge":1e400}}',
  );
  try {
    validatePublishRequest(body);
    throw new Error('expected a ValidationError');
  } catch (error) {
    expect((error as ValidationError).issues).toEqual([
      { field: 'payload.big.1', message: expect.stringMatching(/123456789012345678901 cannot be stored exactly/) },
      { field: 'payload.huge', message: expect.stringMatching(/1e400 cannot be stored exactly/) },
    ]);
  }
});

it('keeps text the queue format escapes exactly as sent', () => {
  fc.assert(
    fc.property(anyString, (text) => {
      expect(JSON.parse(toQueueJson({ text }))).toEqual({ text });
      expect(toQueueJson({ text })).not.toMatch(SQS_FORBIDDEN);
    }),
    { numRuns: 1000 },
  );
});
