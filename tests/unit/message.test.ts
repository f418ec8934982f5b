import { validatePublishRequest } from '../../lib/core/event.ts';
import { groupIntoBatches, MAX_BATCH_BYTES, MAX_MESSAGE_BYTES, packMessages, parseMessage } from '../../lib/queue/message.ts';

const events = (count: number, payloadBytes: number) =>
  validatePublishRequest(
    Array.from({ length: count }, (_, i) => ({
      topic: `t${i % 3}`,
      event_id: `e-${i}`,
      timestamp: '2026-11-22T10:00:00Z',
      source: 's',
      payload: { i, text: 'x'.repeat(payloadBytes), odd: '\uFFFE\uFFFF 😀' },
    })),
  );

describe('packing events into SQS messages', () => {
  it('keeps every event, in order, in messages within the size limit', () => {
    const input = events(2000, 300);
    const messages = packMessages(input, { shards: 16 });
    expect(messages.length).toBeGreaterThan(1);
    expect(messages.length).toBeLessThanOrEqual(Math.ceil((2000 * 420) / MAX_MESSAGE_BYTES) + 1);
    const unpacked = messages.flatMap((message) => {
      expect(message.bytes).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      expect(Buffer.byteLength(message.body)).toBe(message.bytes);
      return parseMessage(message.body).events;
    });
    expect(unpacked).toEqual(input);
  });

  it('escapes the characters SQS refuses without changing the JSON', () => {
    const [message] = packMessages(events(1, 1), { shards: 1 });
    expect(message!.body).not.toMatch(/[\uFFFE\uFFFF\uD800-\uDFFF]/);
    expect(parseMessage(message!.body).events[0]!.payload.odd).toBe('\uFFFE\uFFFF 😀');
  });

  it('gives each message its own time-ordered batch id and a shard in range', () => {
    const messages = packMessages(events(3000, 300), { shards: 4 });
    const batches = messages.map((message) => parseMessage(message.body).batch);
    expect(new Set(batches).size).toBe(batches.length);
    expect([...batches].sort()).toEqual(batches);
    for (const message of messages) expect(parseMessage(message.body).shard).toBeLessThan(4);
  });

  it('groups messages into SendMessageBatch calls of at most 10 entries and 1 MiB', () => {
    const groups = groupIntoBatches(packMessages(events(6000, 600), { shards: 1 }));
    for (const group of groups) {
      expect(group.length).toBeLessThanOrEqual(10);
      expect(group.reduce((sum, message) => sum + message.bytes, 0)).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    }
  });

  it('refuses a message that is not ours', () => {
    expect(() => parseMessage('{"v":1,"batch":"nope","shard":0,"events":[]}')).toThrow();
    expect(() => parseMessage('not json')).toThrow();
  });
});
