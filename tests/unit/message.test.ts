import { validatePublishRequest } from '../../lib/core/publish-request.ts';
import { batchIdOf, eventCountOf, groupIntoBatches, MAX_BATCH_BYTES, MAX_MESSAGE_BYTES, MAX_TOPICS_PER_MESSAGE, packMessages, parseMessage } from '../../lib/queue/message.ts';

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
    const messages = packMessages(input);
    expect(messages.length).toBeGreaterThan(1);
    expect(messages.length).toBeLessThanOrEqual(Math.ceil((2000 * 420) / MAX_MESSAGE_BYTES) + 1);
    const unpacked = messages.flatMap((message) => {
      expect(message.bytes).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      expect(Buffer.byteLength(message.body)).toBe(message.bytes);
      return parseMessage(message.body).events;
    });
    expect(unpacked).toEqual(input.map((accepted) => accepted.event));
  });

  it('escapes the characters SQS refuses without changing the JSON', () => {
    const [message] = packMessages(events(1, 1));
    expect(message!.body).not.toMatch(/[\uFFFE\uFFFF\uD800-\uDFFF]/);
    expect(parseMessage(message!.body).events[0]!.payload.odd).toBe('\uFFFE\uFFFF 😀');
  });

  it('gives each message its own time-ordered batch id', () => {
    const messages = packMessages(events(3000, 300));
    const batches = messages.map((message) => parseMessage(message.body).batch);
    expect(new Set(batches).size).toBe(batches.length);
    expect([...batches].sort()).toEqual(batches);
    expect(messages.map((message) => batchIdOf(message.body))).toEqual(batches);
  });

  it('starts a new message rather than carry more than MAX_TOPICS_PER_MESSAGE topics', () => {
    const many = validatePublishRequest(
      Array.from({ length: 1000 }, (_, i) => ({ topic: `topic-${i % 250}`, event_id: `e-${i}`, timestamp: '2026-11-22T10:00:00Z', source: 's', payload: {} })),
    );
    const messages = packMessages(many);
    for (const message of messages) {
      expect(new Set(parseMessage(message.body).events.map((event) => event.topic)).size).toBeLessThanOrEqual(MAX_TOPICS_PER_MESSAGE);
    }
    // Small events: only the topic limit splits them.
    expect(messages).toHaveLength(Math.ceil(1000 / MAX_TOPICS_PER_MESSAGE));
    expect(messages.flatMap((message) => parseMessage(message.body).events)).toEqual(many.map((accepted) => accepted.event));
  });

  it('still reads messages of the first version, which named a counter shard', () => {
    const [message] = packMessages(events(2, 1));
    const old = message!.body.replace('"events":', '"shard":3,"events":');
    expect(parseMessage(old).events).toEqual(parseMessage(message!.body).events);
  });

  it('groups messages into SendMessageBatch calls of at most 10 entries and 1 MiB', () => {
    const groups = groupIntoBatches(packMessages(events(6000, 600)));
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

describe('eventCountOf (the local event source weighs messages with it)', () => {
  it('counts the events a packed message carries', () => {
    const events = validatePublishRequest(Array.from({ length: 7 }, (_, i) => ({ topic: 't', event_id: `e${i}`, timestamp: '2026-11-25T00:00:00Z', source: 's', payload: {} })));
    expect(packMessages(events).map((message) => eventCountOf(message.body))).toEqual([7]);
  });

  it('weighs a foreign or broken body as one message', () => {
    expect(eventCountOf('not json')).toBe(1);
    expect(eventCountOf('{"events":"no"}')).toBe(1);
    expect(eventCountOf('{"events":[]}')).toBe(1);
  });
});
