// Strict mode: what a standard SQS queue does that fauxqs does not (docs/strict-mode.md): a
// SendMessageBatch that refuses some entries, a deleted message delivered again, receives that return
// fewer messages than are waiting. A raw SDK client sees each as on AWS; the code copes: publish
// resends refused entries, and processing stays exact with copies of deleted messages coming back.
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { handler as processHandler } from '../../functions/process.ts';
import { handler as publishHandler } from '../../functions/publish.ts';
import { handler as topicsHandler } from '../../functions/topics.ts';
import { callHttp, deliverQueue, httpEvent, makeEvent, purge, queueUrlOf, uniqueTopic } from '../support/lambda.ts';
import { startStrictCloud, type StrictCloud } from '../support/strict.ts';

jest.setTimeout(180_000);

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
let cloud: StrictCloud;
let raw: SQSClient;
let QueueUrl: string;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  cloud = await startStrictCloud({
    CLOUD_STRICT_SEND_FAILURES: '0.2',
    CLOUD_STRICT_REDELIVERY: '0.5',
    CLOUD_STRICT_REDELIVERY_DELAY_SECONDS: '0.5',
    CLOUD_STRICT_SHORT_RECEIVES: '0.5',
  });
  raw = new SQSClient({ endpoint: cloud.endpoint, region: 'us-east-1', credentials, useQueueUrlAsEndpoint: false });
  QueueUrl = await queueUrlOf(process.env.QUEUE_NAME!);
});

afterAll(async () => {
  raw?.destroy();
  await cloud?.stop();
});

const visible = async (): Promise<number> =>
  Number((await raw.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }))).Attributes!.ApproximateNumberOfMessages);

it('refuses some entries of a SendMessageBatch as AWS does, and queues only the others', async () => {
  await purge(process.env.QUEUE_NAME!);
  const before = (await cloud.faults()).send_entries_failed;
  let failed = 0;
  let successful = 0;
  for (let call = 0; call < 5; call += 1) {
    const answer = await raw.send(
      new SendMessageBatchCommand({ QueueUrl, Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: `body ${call}-${i}` })) }),
    );
    for (const entry of answer.Failed ?? []) expect(entry).toMatchObject({ SenderFault: false, Code: 'InternalError', Message: expect.any(String) });
    failed += answer.Failed?.length ?? 0;
    successful += answer.Successful?.length ?? 0;
  }
  expect(failed).toBeGreaterThan(0);
  expect(failed + successful).toBe(50);
  expect((await cloud.faults()).send_entries_failed - before).toBe(failed);
  expect(await visible()).toBe(successful);
});

it('returns fewer messages than asked for and waiting', async () => {
  expect(await visible()).toBeGreaterThanOrEqual(20);
  const before = (await cloud.faults()).short_receives;
  const counts: number[] = [];
  const received = [];
  for (let call = 0; call < 12; call += 1) {
    const { Messages = [] } = await raw.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 2, WaitTimeSeconds: 0, VisibilityTimeout: 30 }));
    counts.push(Messages.length);
    received.push(...Messages);
  }
  // Twelve receives of two of 20+ waiting messages: some came back with one.
  expect(counts.some((count) => count < 2)).toBe(true);
  expect((await cloud.faults()).short_receives - before).toBe(counts.filter((count) => count < 2).length);
  await raw.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: received.slice(0, 10).map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
});

it('delivers some deleted messages again, with the same body', async () => {
  await purge(process.env.QUEUE_NAME!);
  await sleep(1_000); // copies of the messages deleted above have come back: purged too
  await purge(process.env.QUEUE_NAME!);
  const before = (await cloud.faults()).messages_redelivered;
  // Send, receive and delete a message until a copy comes back (the seed decides; half of deletes bring one).
  let copies = 0;
  for (let round = 0; round < 10 && copies === 0; round += 1) {
    // (An entry refused by the send-failure rule is sent again.)
    while ((await raw.send(new SendMessageBatchCommand({ QueueUrl, Entries: [{ Id: 'a', MessageBody: 'once' }] }))).Failed?.length);
    const { Messages = [] } = await raw.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 2 }));
    expect(Messages[0]?.Body).toBe('once');
    await raw.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: [{ Id: '0', ReceiptHandle: Messages[0]!.ReceiptHandle! }] }));
    await sleep(800);
    copies = await visible();
  }
  expect(copies).toBe(1);
  const { Messages: [copy] = [] } = await raw.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 2 }));
  expect(copy?.Body).toBe('once');
  expect((await cloud.faults()).messages_redelivered - before).toBe(1);
  await purge(process.env.QUEUE_NAME!);
});

it('publishes every event and counts it once while batch entries are refused, deleted messages come back and receives come up short', async () => {
  await sleep(1_000);
  await purge(process.env.QUEUE_NAME!);
  const topic = uniqueTopic('sqs');
  const before = await cloud.faults();
  const publish = (i: number) => callHttp(publishHandler, httpEvent('POST', '/publish', { body: JSON.stringify(makeEvent(topic, `e${i % 50}`)) }));
  // Twenty requests one after the other (a message each), then forty at once, which share messages
  // (coalesce.ts): several messages per SendMessageBatch.
  const answers = [];
  for (let i = 0; i < 20; i += 1) answers.push(await publish(i));
  answers.push(...(await Promise.all(Array.from({ length: 40 }, (_, i) => publish(20 + i)))));
  expect(answers.map((answer) => answer.status)).toEqual(Array(60).fill(202));
  await deliverQueue(processHandler, process.env.QUEUE_NAME!);
  const counts = (await callHttp(topicsHandler, httpEvent('GET', `/topics/${topic}`, { pathParameters: { topic } }))).body;
  expect(counts).toMatchObject({ received: 60, unique: 50, duplicate: 10 });
  const after = await cloud.faults();
  expect(after.messages_redelivered - before.messages_redelivered).toBeGreaterThan(0);
  expect(after.short_receives - before.short_receives).toBeGreaterThan(0);
});
