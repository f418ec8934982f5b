// The local SQS event source (local/event-source.ts) against the real embedded SQS: pausing is
// immediate and resumable. The function side is a stand-in for serverless-offline's Lambda invoke
// endpoint that records what it is handed (the processor itself is tested elsewhere); it answers as a
// function that processed everything.
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { startEventSource, type BatchSummary, type EventSource, type EventSourceOptions } from '../../local/event-source.ts';
import { purge, queueCount, queueUrlOf, sqs } from '../support/lambda.ts';

const queueName = (): string => process.env.QUEUE_NAME!;
let lambda: http.Server;
let invocations: number[] = [];
let source: EventSource | undefined;
/** Bodies the stand-in answers as failed-for-lack-of-time, once each. */
const outOfTimeOnce = new Set<string>();
const seenBodies: string[] = [];
/** The stand-in answers an invocation that carries this body only after this many ms. */
const slowBodies = new Map<string, number>();
/** The receive count each body had when the stand-in was handed it (the last time). */
const receiveCounts = new Map<string, string>();

beforeAll(async () => {
  lambda = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const records = (JSON.parse(body) as { Records: Array<{ messageId: string; body: string; attributes: { ApproximateReceiveCount: string } }> }).Records;
      invocations.push(records.length);
      for (const record of records) receiveCounts.set(record.body, record.attributes.ApproximateReceiveCount);
      seenBodies.push(...records.map((record) => record.body));
      const late = records.filter((record) => outOfTimeOnce.delete(record.body)).map((record) => record.messageId);
      const delay = Math.max(0, ...records.map((record) => slowBodies.get(record.body) ?? 0));
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ batchItemFailures: late.map((itemIdentifier) => ({ itemIdentifier })), ...(late.length ? { retryNow: late } : {}) }));
      }, delay);
    });
  });
  lambda.listen(0, '127.0.0.1');
  await once(lambda, 'listening');
});

afterAll(async () => {
  await source?.stop();
  lambda.close();
});

const send = async (count: number, body = (n: number) => `{"n":${n}}`): Promise<void> => {
  const QueueUrl = await queueUrlOf(queueName());
  for (let start = 0; start < count; start += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: Array.from({ length: Math.min(10, count - start) }, (_, i) => ({ Id: String(i), MessageBody: body(start + i) })),
      }),
    );
  }
};

const until = async (condition: () => Promise<boolean> | boolean, ms: number): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/** The real event source on the test queue, invoking the stand-in function. */
const startSource = (
  concurrency: number,
  onBatch?: (summary: BatchSummary) => void,
  extra: Partial<EventSourceOptions> = {},
): Promise<EventSource> =>
  startEventSource({
    ...(onBatch ? { onBatch } : {}),
    sqsEndpoint: process.env.AWS_ENDPOINT_URL!,
    lambdaEndpoint: `http://127.0.0.1:${(lambda.address() as AddressInfo).port}`,
    region: 'us-east-1',
    queueName: queueName(),
    functionName: 'stand-in',
    batchSize: 10,
    batchingWindowSeconds: 0,
    concurrency,
    ...extra,
  });

it('stops invoking the moment it is paused, keeps the messages, and picks them up on resume', async () => {
  source = await startSource(4);
  await send(5);
  await until(async () => (await queueCount(queueName())) === 0, 10_000);

  // Paused while its pollers sit in a receive: whatever they get back goes back to the queue.
  source.pause();
  invocations = [];
  await send(30);
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  expect(invocations).toEqual([]);
  expect(await queueCount(queueName())).toBe(30);

  source.resume();
  await until(async () => invocations.reduce((sum, n) => sum + n, 0) >= 30 && (await queueCount(queueName())) === 0, 15_000);
  await source.stop();
  source = undefined;
});

it('hands a message that ran out of time back at once, not after the visibility timeout', async () => {
  source = await startSource(1);
  seenBodies.length = 0;
  outOfTimeOnce.add('{"n":0}');
  await send(1);
  // The queue's visibility timeout is 180 s: seeing it twice within seconds means it was handed back.
  await until(() => seenBodies.filter((body) => body === '{"n":0}').length === 2, 10_000);
  await until(async () => (await queueCount(queueName())) === 0, 10_000);
  await source.stop();
  source = undefined;
});

it('reports how long each invocation took (the benchmark reads it against the timeout)', async () => {
  const summaries: BatchSummary[] = [];
  source = await startSource(1, (summary) => summaries.push(summary));
  slowBodies.set('{"n":0}', 400);
  await send(1);
  await until(() => summaries.length === 1, 10_000);
  expect(summaries[0]).toMatchObject({ records: 1, failed: 0 });
  expect(summaries[0]!.invocationMs).toBeGreaterThanOrEqual(400);
  expect(summaries[0]!.invocationMs).toBeLessThan(5_000);
  slowBodies.clear();
  await source.stop();
  source = undefined;
});

it('bounds a batch by the weight of its messages, holds the rest for the next batch, and hands a heavy message alone', async () => {
  const weigh = (body: string): number => (JSON.parse(body) as { w: number }).w;
  const batches: string[][] = [];
  source = await startSource(1, undefined, { maxBatchWeight: 7, weigh });
  source.pause();
  // Nine messages of weight 3 and one of weight 20, all waiting before the source receives any.
  await send(10, (n) => JSON.stringify({ n, w: n === 4 ? 20 : 3 }));
  seenBodies.length = 0;
  invocations = [];
  source.resume();
  await until(async () => seenBodies.length >= 10 && (await queueCount(queueName())) === 0, 15_000);
  // Rebuild each invocation's bodies from the order the stand-in saw them in.
  let at = 0;
  for (const size of invocations) {
    batches.push(seenBodies.slice(at, at + size));
    at += size;
  }
  expect(seenBodies.map((body) => (JSON.parse(body) as { n: number }).n).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  for (const batch of batches) {
    const weight = batch.reduce((sum, body) => sum + weigh(body), 0);
    if (batch.length > 1) expect(weight).toBeLessThanOrEqual(7);
    else expect(batch).toHaveLength(1);
  }
  // Weight 3 + 3 fits 7, a third does not: no batch of light messages has more than two.
  expect(Math.max(...batches.map((batch) => batch.length))).toBe(2);
  expect(batches.filter((batch) => batch.some((body) => weigh(body) === 20))).toEqual([[JSON.stringify({ n: 4, w: 20 })]]);
  await source.stop();
  source = undefined;
});

it('hands a batch of more than 10 messages to one invocation and deletes them all (SQS deletes 10 per call)', async () => {
  source = await startSource(1, undefined, { batchSize: 25, batchingWindowSeconds: 1 });
  source.pause();
  await send(25);
  invocations = [];
  source.resume();
  await until(() => invocations.reduce((sum, n) => sum + n, 0) >= 25, 10_000);
  expect(Math.max(...invocations)).toBeGreaterThan(10);
  await until(async () => (await queueCount(queueName())) === 0, 10_000);
  // Nothing comes back: every message of the batch was deleted, none left to its visibility timeout.
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  expect(invocations.reduce((sum, n) => sum + n, 0)).toBe(25);
  await source.stop();
  source = undefined;
});

it('hands back a message it held for the next batch longer than maxHoldMs, instead of keeping it invisible', async () => {
  const weigh = (body: string): number => (JSON.parse(body) as { w: number }).w;
  source = await startSource(1, undefined, { maxBatchWeight: 3, weigh, maxHoldMs: 300 });
  source.pause();
  await send(3, (n) => JSON.stringify({ n, w: 3, hold: true }));
  seenBodies.length = 0;
  receiveCounts.clear();
  // Each invocation takes 800 ms; the two messages held behind the first are then stale.
  for (let n = 0; n < 3; n += 1) slowBodies.set(JSON.stringify({ n, w: 3, hold: true }), 800);
  source.resume();
  await until(async () => seenBodies.length >= 3 && (await queueCount(queueName())) === 0, 20_000);
  slowBodies.clear();
  // Each handed to the function once; at least one of the held ones went back to the queue and was received again.
  expect([...seenBodies].sort()).toEqual([0, 1, 2].map((n) => JSON.stringify({ n, w: 3, hold: true })).sort());
  expect([...receiveCounts.values()].some((count) => Number(count) >= 2)).toBe(true);
  await source.stop();
  source = undefined;
});

it('hands back the messages it holds for the next batch when paused or stopped, rather than leaving them invisible', async () => {
  const weigh = (body: string): number => (JSON.parse(body) as { w: number }).w;
  const QueueUrl = await queueUrlOf(queueName());
  for (const how of ['pause', 'stop'] as const) {
    // maxHoldMs stays at its 20 s default: only the pause or the stop can hand the held messages back.
    source = await startSource(1, undefined, { maxBatchWeight: 3, weigh });
    source.pause();
    const bodies = [0, 1, 2].map((n) => JSON.stringify({ n, w: 3, at: how }));
    await send(3, (n) => bodies[n]!);
    seenBodies.length = 0;
    // The first batch (one message of weight 3) is still in its invocation when the pause or stop
    // comes; the two messages behind it are held, invisible, for the next batch.
    for (const body of bodies) slowBodies.set(body, 1_500);
    source.resume();
    await until(() => seenBodies.length === 1, 10_000);
    if (how === 'pause') source.pause();
    else await source.stop();
    // Receivable again within seconds (a hand-back makes a message visible after 1 s), not after the
    // queue's visibility timeout (180 s). Received here, by the test, with the source paused or stopped.
    const receivedAgain: Array<{ body: string; receiveCount: number }> = [];
    await until(async () => {
      const { Messages } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
      );
      receivedAgain.push(...(Messages ?? []).map((message) => ({ body: message.Body!, receiveCount: Number(message.Attributes?.ApproximateReceiveCount) })));
      return receivedAgain.length >= 2;
    }, 10_000);
    // The function was handed only the first; the two others are the ones handed back, which the
    // source had received (held) before: this is at least their second receive.
    expect(seenBodies).toHaveLength(1);
    expect([...seenBodies, ...receivedAgain.map(({ body }) => body)].sort()).toEqual([...bodies].sort());
    for (const { receiveCount } of receivedAgain) expect(receiveCount).toBeGreaterThanOrEqual(2);
    slowBodies.clear();
    if (how === 'pause') await source.stop();
    source = undefined;
    await purge(queueName());
  }
});
