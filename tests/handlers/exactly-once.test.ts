// Exactly-once effects under failure: the processor and the fold are made to fail at every point
// between two of their calls (lib/core/faults.ts), messages are redelivered (at once and long after
// their fold), dead-lettered and redriven, and folds run concurrently; the counts must come out exact
// every time. Real emulators, no mocks.
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { ulid } from 'ulid';
import { handler as eventsHandler } from '../../functions/events.ts';
import { handler as processHandler } from '../../functions/process.ts';
import { handler as publishHandler } from '../../functions/publish.ts';
import { handler as statsHandler } from '../../functions/stats.ts';
import { armFaults, disarmFaults, faultsAllowed } from '../../lib/core/faults.ts';
import { getServices } from '../../lib/app/services.ts';
import { redriveDeadLetters } from '../../lib/queue/redrive.ts';
import { handler as topicsHandler } from '../../functions/topics.ts';
import {
  callHttp,
  context,
  deleteMessages,
  deliverQueue,
  expireVisibility,
  httpEvent,
  invokeProcess,
  makeEvent,
  purge,
  queueCount,
  queueUrlOf,
  receiveAll,
  sqs,
  sqsEvent,
  uniqueTopic,
} from '../support/lambda.ts';
import { settle, strictMode } from '../support/strict.ts';

const queueName = (): string => process.env.QUEUE_NAME!;
const dlqName = (): string => process.env.DLQ_NAME!;
const publish = (body: unknown) => callHttp(publishHandler, httpEvent('POST', '/publish', { body: JSON.stringify(body) }));
const stats = async () => (await callHttp(statsHandler, httpEvent('GET', '/stats'))).body;
const topicCounts = async (topic: string) => {
  const answer = await callHttp(topicsHandler, httpEvent('GET', `/topics/${topic}`, { pathParameters: { topic } }));
  if (answer.status === 404) return { received: 0, unique: 0, duplicate: 0 };
  const { received, unique, duplicate } = answer.body;
  return { received, unique, duplicate };
};
/** The events listed for a topic, once the index that lists them has caught up (strict mode; AWS). */
const storedIds = async (topic: string): Promise<string[]> =>
  (await settle(), await callHttp(eventsHandler, httpEvent('GET', '/events', { query: { topic, limit: '1000' } }))).body.events.map(
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
  expect((await publish(events)).body).toEqual({ accepted: 7, messages: 1, receipt: expect.any(String) });
};

describe('fault injection', () => {
  it('is refused on real Lambda, whatever else is set', () => {
    expect(faultsAllowed({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', IS_OFFLINE: 'true', JEST_WORKER_ID: '1' })).toBe(false);
    expect(faultsAllowed({})).toBe(false);
    expect(faultsAllowed({ IS_OFFLINE: 'true' })).toBe(true);
  });

  it('rejects a plan it does not understand', () => {
    expect(() => armFaults('before-coffee')).toThrow(/checkpoint of after-put, after-puts, after-outcomes, after-tail, after-record, fold-after-read/);
  });
});

describe('a processor that dies between any two calls still ends with exact counts', () => {
  it.each([
    ['after the first put', 'after-put@1'],
    ['after some puts', 'after-put@3'],
    ['after all puts, before reading conflicts', 'after-puts'],
    ['after deciding outcomes, before the tail item', 'after-outcomes'],
    ['after the tail item, before the message record', 'after-tail'],
    ['after the message record, before the fold', 'after-record'],
    ['in the fold, after reading the counters', 'fold-after-read'],
    ['in the fold, after confirming the records pending', 'fold-after-confirm'],
    ['in the fold, after the first counter update', 'fold-after-apply@1'],
    ['in the fold, after two counter updates', 'fold-after-apply@2'],
    ['in the fold, after marking the record folded', 'fold-after-mark'],
    [
      'at every point in turn',
      'after-put@2,after-puts@1,after-outcomes@1,after-tail@1,after-record@1,fold-after-read@1,fold-after-confirm@1,fold-after-apply@3,fold-after-mark@1',
    ],
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
    expect(await topicCounts(topic)).toEqual({ received: 8, unique: 6, duplicate: 2 });
    expect((await storedIds(topic)).sort()).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'earlier']);
    // The live tail lists every stored event once, whichever attempt wrote its tail item.
    const tail = await getServices().store.tail({ topic, limit: 100, storedBefore: '9999', maxExamined: 10_000, deadline: Date.now() + 10_000 }, new Date());
    expect(tail.events.map((event) => event.event_id).sort()).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'earlier']);
    const after = await stats();
    expect(after.received - before.received).toBe(7);
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
    for (const topic of topics) expect(await topicCounts(topic)).toEqual({ received: 3, unique: 2, duplicate: 1 });
  });
});

describe('dead-letter queue and redrive', () => {
  // These tests count the messages in both queues exactly, and two of them leave messages that are not
  // ours (or carry no events) behind on purpose. SQS may deliver a deleted message again (strict mode
  // does), so each test starts and ends with both queues empty: copies due to come back have come back
  // (settle) and are purged, instead of reaching a later test.
  const emptyQueues = async (): Promise<void> => {
    await settle();
    await purge(queueName());
    await purge(dlqName());
  };
  beforeEach(emptyQueues);
  afterEach(emptyQueues);

  it.each([
    ['after its record was folded', 'fold-after-mark@1,fold-after-mark@2,fold-after-mark@3,fold-after-mark@4,fold-after-mark@5'],
    ['after its record was written, never folded', 'after-record@1,after-record@2,after-record@3,after-record@4,after-record@5'],
    // The first attempt dies after one of its three counter updates (the other two land), the rest after the fold.
    ['half-way through its fold, then after it', 'fold-after-apply@1,fold-after-mark@1,fold-after-mark@2,fold-after-mark@3,fold-after-mark@4'],
  ])('moves a message that keeps failing %s to the DLQ after 5 receives; redriven, it counts exactly once', async (_name, plan) => {
    const topic = uniqueTopic('dlq');
    await publishMixedMessage(topic);
    // Fails five times running: after the fold, the worst case for double counting.
    armFaults(plan);
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
    // SQS may deliver a message the redrive just deleted from the DLQ again (strict mode does), and the
    // redrive then moves that copy too: at least the one message. The counts below are exact either way.
    expect(result.moved).toBeGreaterThanOrEqual(1);
    expect(result.beyondHorizon).toBe(0);
    if (!strictMode()) expect(await queueCount(dlqName())).toBe(0);
    await deliverQueue(processHandler, queueName());
    expect(await topicCounts(topic)).toEqual({ received: 8, unique: 6, duplicate: 2 });
  });

  it('adds nothing for a stale redelivery long after the message was folded', async () => {
    const topic = uniqueTopic('stale');
    await publishMixedMessage(topic);
    const [message] = await receiveAll(queueName(), 1);
    expect(await invokeProcess(processHandler, [message!])).toEqual([]);
    await deleteMessages(queueName(), [message!]);
    const before = await stats();
    // SQS hands back the same body days later (a redrive, a rare redelivery after a delete): it finds
    // its message record, folded, and counts nothing. Its events are recognized by their delivery ids.
    await sqs.send(new SendMessageCommand({ QueueUrl: await queueUrlOf(queueName()), MessageBody: message!.Body! }));
    await deliverQueue(processHandler, queueName());
    const after = await stats();
    expect([after.received, after.unique_processed, after.duplicate_dropped]).toEqual([before.received, before.unique_processed, before.duplicate_dropped]);
    expect(await topicCounts(topic)).toEqual({ received: 8, unique: 6, duplicate: 2 });
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
      new SendMessageCommand({ QueueUrl: await queueUrlOf(dlqName()), MessageBody: JSON.stringify({ v: 1, batch: old, events: [] }) }),
    );
    const result = await redriveDeadLetters(sqs, { from: dlqName(), to: queueName(), horizonSeconds: 86_400 });
    // (A copy SQS delivers again after the redrive's delete is moved too, and is as old.)
    expect(result.moved).toBeGreaterThanOrEqual(1);
    expect(result.beyondHorizon).toBe(result.moved);
    await deleteMessages(queueName(), await receiveAll(queueName(), 10));
  });
});
