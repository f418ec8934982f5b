// Exactly-once effects under failure: the processor is made to fail at every point between two of
// its calls (lib/core/faults.ts), messages are redelivered, dead-lettered and redriven, and applied batch
// ids are pruned; the counts must come out exact every time. Real emulators, no mocks.
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { ulid } from 'ulid';
import { handler as eventsHandler } from '../../functions/events.ts';
import { handler as processHandler } from '../../functions/process.ts';
import { handler as publishHandler } from '../../functions/publish.ts';
import { handler as statsHandler } from '../../functions/stats.ts';
import { armFaults, disarmFaults, faultsAllowed } from '../../lib/core/faults.ts';
import { pruneAppliedBatches } from '../../lib/api/prune.ts';
import { redriveDeadLetters } from '../../lib/queue/redrive.ts';
import { getServices } from '../../lib/app/services.ts';
import {
  callHttp,
  context,
  deleteMessages,
  deliverQueue,
  expireVisibility,
  httpEvent,
  invokeProcess,
  makeEvent,
  queueCount,
  queueUrlOf,
  receiveAll,
  sqs,
  sqsEvent,
  uniqueTopic,
} from '../support/lambda.ts';

const queueName = (): string => process.env.QUEUE_NAME!;
const dlqName = (): string => process.env.DLQ_NAME!;
const publish = (body: unknown) => callHttp(publishHandler, httpEvent('POST', '/publish', { body: JSON.stringify(body) }));
const stats = async () => (await callHttp(statsHandler, httpEvent('GET', '/stats'))).body;
const topicCounts = async (topic: string) => (await stats()).topics[topic] ?? { unique: 0, duplicate: 0 };
const storedIds = async (topic: string): Promise<string[]> =>
  (await callHttp(eventsHandler, httpEvent('GET', '/events', { query: { topic, limit: '1000' } }))).body.events.map(
    (event: { event_id: string }) => event.event_id,
  );

afterEach(async () => {
  disarmFaults();
  await deliverQueue(processHandler, queueName());
  expect(await queueCount(queueName())).toBe(0);
});

/**
 * One message with 5 new events, 1 repeat of an event stored earlier and 1 repeat inside the message:
 * exact counts are 5 unique and 2 duplicates, 6 stored events.
 */
const publishMixedMessage = async (topic: string): Promise<void> => {
  await publish(makeEvent(topic, 'earlier'));
  await deliverQueue(processHandler, queueName());
  const events = ['e1', 'e2', 'e3', 'e4', 'e5', 'earlier', 'e1'].map((id) => makeEvent(topic, id));
  expect((await publish(events)).body).toEqual({ accepted: 7, messages: 1 });
};

describe('fault injection', () => {
  it('is refused on real Lambda, whatever else is set', () => {
    expect(faultsAllowed({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', IS_OFFLINE: 'true', JEST_WORKER_ID: '1' })).toBe(false);
    expect(faultsAllowed({})).toBe(false);
    expect(faultsAllowed({ IS_OFFLINE: 'true' })).toBe(true);
  });

  it('rejects a plan it does not understand', () => {
    expect(() => armFaults('before-coffee')).toThrow(/checkpoint of after-put, after-puts, after-outcomes, after-counters/);
  });
});

describe('a processor that dies between any two calls still ends with exact counts', () => {
  it.each([
    ['after the first put', 'after-put@1'],
    ['after some puts', 'after-put@3'],
    ['after all puts, before reading conflicts', 'after-puts'],
    ['after deciding outcomes, before the counter update', 'after-outcomes'],
    ['after the counter update, before returning', 'after-counters'],
    ['at every point in turn', 'after-put@2,after-puts@1,after-outcomes@1,after-counters@1'],
  ])('%s (%s)', async (_name, plan) => {
    const topic = uniqueTopic('fault');
    await publishMixedMessage(topic);
    const before = await stats();
    const [message] = await receiveAll(queueName(), 1);
    armFaults(plan);
    const attempts = plan.split(',').length + 1;
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      // Every attempt fails until the plan is used up; the last one succeeds.
      expect(await invokeProcess(processHandler, [message!])).toEqual(attempt < attempts ? [message!.MessageId] : []);
    }
    await deleteMessages(queueName(), [message!]);
    expect(await topicCounts(topic)).toEqual({ unique: 6, duplicate: 2 });
    expect((await storedIds(topic)).sort()).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'earlier']);
    const after = await stats();
    expect(after.unique_processed - before.unique_processed).toBe(5);
    expect(after.duplicate_dropped - before.duplicate_dropped).toBe(2);
  });
});

describe('partial batch failures', () => {
  it('retries only the failed record; its neighbours are applied once', async () => {
    const topics = [uniqueTopic('pa'), uniqueTopic('pb'), uniqueTopic('pc')];
    for (const topic of topics) await publish([makeEvent(topic, '1'), makeEvent(topic, '2'), makeEvent(topic, '1')]);
    const messages = await receiveAll(queueName(), 3);
    expect(messages).toHaveLength(3);
    armFaults('after-outcomes@2');
    const first = await processHandler(sqsEvent(messages), context('process'));
    expect(first.batchItemFailures).toHaveLength(1);
    const failedId = first.batchItemFailures[0]!.itemIdentifier;
    await deleteMessages(queueName(), messages.filter((message) => message.MessageId !== failedId));
    // Lambda retries only the failed record.
    const retry = await processHandler(sqsEvent(messages.filter((message) => message.MessageId === failedId)), context('process'));
    expect(retry.batchItemFailures).toEqual([]);
    await deleteMessages(queueName(), messages.filter((message) => message.MessageId === failedId));
    for (const topic of topics) expect(await topicCounts(topic)).toEqual({ unique: 2, duplicate: 1 });
  });
});

describe('dead-letter queue and redrive', () => {
  it('moves a message that keeps failing to the DLQ after 5 receives; redriven, it counts exactly once', async () => {
    const topic = uniqueTopic('dlq');
    await publishMixedMessage(topic);
    // Fails after its counters were applied, five times running: the worst case for double counting.
    armFaults('after-counters@1,after-counters@2,after-counters@3,after-counters@4,after-counters@5');
    for (let receive = 1; receive <= 5; receive += 1) {
      const messages = await receiveAll(queueName(), 10);
      expect(messages).toHaveLength(1);
      expect(messages[0]!.Attributes?.ApproximateReceiveCount).toBe(String(receive));
      expect(await invokeProcess(processHandler, messages)).toEqual([messages[0]!.MessageId]);
      await expireVisibility(queueName(), messages);
    }
    // The sixth receive finds the message moved to the DLQ by the redrive policy (maxReceiveCount 5).
    expect(await receiveAll(queueName(), 10)).toEqual([]);
    expect(await queueCount(dlqName())).toBe(1);
    disarmFaults();

    const result = await redriveDeadLetters(sqs, { from: dlqName(), to: queueName(), horizonSeconds: 3600 });
    expect(result).toEqual({ moved: 1, beyondHorizon: 0 });
    expect(await queueCount(dlqName())).toBe(0);
    await deliverQueue(processHandler, queueName());
    expect(await topicCounts(topic)).toEqual({ unique: 6, duplicate: 2 });
  });

  it('dead-letters a message that is not ours instead of blocking the queue', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: await queueUrlOf(queueName()), MessageBody: '{"hello":"world"}' }));
    for (let receive = 1; receive <= 5; receive += 1) {
      const messages = await receiveAll(queueName(), 10);
      expect(messages).toHaveLength(1);
      expect(await invokeProcess(processHandler, messages)).toEqual([messages[0]!.MessageId]);
      await expireVisibility(queueName(), messages);
    }
    expect(await receiveAll(queueName(), 10)).toEqual([]);
    expect(await queueCount(dlqName())).toBe(1);
    // Cleanup: take it out of the DLQ.
    await deleteMessages(dlqName(), await receiveAll(dlqName(), 10));
  });

  it('warns about redriven messages older than the dedup horizon', async () => {
    const old = ulid(Date.now() - 10 * 86_400_000);
    await sqs.send(
      new SendMessageCommand({ QueueUrl: await queueUrlOf(dlqName()), MessageBody: JSON.stringify({ v: 1, batch: old, shard: 0, events: [] }) }),
    );
    const result = await redriveDeadLetters(sqs, { from: dlqName(), to: queueName(), horizonSeconds: 86_400 });
    expect(result).toEqual({ moved: 1, beyondHorizon: 1 });
    await deleteMessages(queueName(), await receiveAll(queueName(), 10));
  });
});

describe('pruning applied batch ids', () => {
  it('forgets ids older than the horizon, keeps recent ones, and leaves counts unchanged', async () => {
    const { store } = getServices();
    const shard = 7;
    const now = Date.now();
    const oldBatch = ulid(now - 3 * 3_600_000);
    const recentBatch = ulid(now - 60_000);
    const counts = { unique: 1, duplicate: 0, byTopic: { [uniqueTopic('prune')]: { unique: 1, duplicate: 0 } } };
    expect(await store.applyCounts(shard, oldBatch, counts, new Date())).toBe('applied');
    expect(await store.applyCounts(shard, recentBatch, counts, new Date())).toBe('applied');
    const before = await stats();

    const result = await pruneAppliedBatches(store, { shards: 8, horizonSeconds: 3600, now: new Date(now) });
    expect(result.pruned).toBeGreaterThanOrEqual(1);
    const applied = await store.appliedBatches(shard);
    expect(applied).not.toContain(oldBatch);
    expect(applied).toContain(recentBatch);
    expect((await stats()).unique_processed).toBe(before.unique_processed);
    // A redelivery of the recent batch is still recognized.
    expect(await store.applyCounts(shard, recentBatch, counts, new Date())).toBe('already-applied');
  });
});
