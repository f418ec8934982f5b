// DynamoDB limits the embedded emulator does not enforce (dynalite accepts a 5 KB expression): the
// largest request and item the counting code can build must fit AWS's documented limits.
import { LIMITS as EVENT_LIMITS } from '../../lib/core/event.ts';
import { MAX_FOLD_RECORDS } from '../../lib/core/fold.ts';
import { MAX_TOPICS_PER_MESSAGE } from '../../lib/queue/message.ts';
import { buildCounterUpdate, MAX_FORGET_PER_UPDATE } from '../../lib/table/counters-repo.ts';
import { LIMITS } from '../../lib/table/schema.ts';

const ULID = '01KAW3Z8Y6S3ZQ0V6M5N4P3R2T';
const ids = (count: number, tag: string): string[] => Array.from({ length: count }, (_, i) => `${ULID.slice(0, 20)}${tag}${String(i).padStart(5, '0')}`);
const longestTopic = 'T'.repeat(EVENT_LIMITS.topicMaxLength);
const huge = { received: Number.MAX_SAFE_INTEGER, unique: Number.MAX_SAFE_INTEGER, duplicate: Number.MAX_SAFE_INTEGER };

/** DynamoDB's item size: attribute names plus values, numbers at most 21 bytes, booleans 1. */
const itemBytes = (item: Record<string, unknown>): number =>
  Object.entries(item).reduce((sum, [name, value]) => {
    const size = typeof value === 'string' ? Buffer.byteLength(value) : typeof value === 'number' ? 21 : typeof value === 'boolean' ? 1 : 0;
    return sum + Buffer.byteLength(name) + size;
  }, 0);

describe('the largest counter update', () => {
  // Every kind of counter, with the most ids one update can carry: all records of the largest fold
  // applied at once, and far more stale guard ids than one update forgets.
  const updates = (['total', 'topic', 'minute'] as const).map((kind) =>
    buildCounterUpdate(
      kind === 'total' ? { kind, shard: 7 } : kind === 'topic' ? { kind, topic: longestTopic } : { kind, minute: '2026-11-24T23:59' },
      Number.MAX_SAFE_INTEGER,
      huge,
      { apply: ids(MAX_FOLD_RECORDS, 'A'), forget: ids(10 * MAX_FORGET_PER_UPDATE, 'F') },
      { expiresAt: 4_102_444_800, firstAt: '2026-11-24T23:59:59.999Z' },
    ),
  );

  it.each(updates.map((update) => [update.Key.pk, update]))('keeps each expression of %s under 4 KB', (_key, update) => {
    expect(Buffer.byteLength(update.UpdateExpression)).toBeLessThan(LIMITS.expressionBytes);
    expect(Buffer.byteLength(update.ConditionExpression)).toBeLessThan(LIMITS.expressionBytes);
  });

  it('forgets at most MAX_FORGET_PER_UPDATE ids per update (the rest the next time)', () => {
    for (const update of updates) expect((update.UpdateExpression.match(/#f\d+/g) ?? []).length).toBe(MAX_FORGET_PER_UPDATE);
  });

  it('stays under 300 operators and functions per expression', () => {
    for (const update of updates) expect(update.UpdateExpression.split(',').length + 3).toBeLessThan(300);
  });
});

describe('the largest items', () => {
  it('a message record with the most topics and the longest names fits an item', () => {
    const topics = JSON.stringify(
      Object.fromEntries(Array.from({ length: MAX_TOPICS_PER_MESSAGE }, (_, i) => [`${longestTopic.slice(0, -3)}${String(i).padStart(3, '0')}`, [1e15, 1e15, 1e15]])),
    );
    const record = { pk: `#record#${ULID}`, at: '2026-11-24T23:59:59.999Z', received: 1, unique: 1, duplicate: 1, topics, expires_at: 1, folded: true };
    expect(itemBytes(record)).toBeLessThan(20 * 1024);
  });

  it('a counter item with a guard as full as the most concurrent folds Lambda allows make it fits an item', () => {
    // An SQS event source runs at most 1,000 invocations at once (MaximumConcurrency), each folding one
    // batch of 10 messages; the guard holds their ids plus those of the last fold.
    const guard = Object.fromEntries(ids(1000 * 10 + MAX_FOLD_RECORDS, 'G').map((id) => [`g:${id}`, true]));
    const item = { pk: `#topic#${longestTopic}`, v: 1, received: 1, unique: 1, duplicate: 1, tix: 't', tname: longestTopic, vsh: 'v#7', ...guard };
    expect(itemBytes(item)).toBeLessThan(LIMITS.itemBytes);
  });
});
