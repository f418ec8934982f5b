// Strict mode: throttling (docs/strict-mode.md). The local cloud answers some DynamoDB and SQS calls
// with AWS's throttling errors; a raw SDK client sees them as AWS's, and the pipeline, whose clients
// retry throttles patiently (lib/app/retry.ts), still stores and counts every event exactly.
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { isThrottlingError } from '@smithy/core/retry';
import { handler as eventsHandler } from '../../functions/events.ts';
import { handler as processHandler } from '../../functions/process.ts';
import { handler as publishHandler } from '../../functions/publish.ts';
import { handler as statsHandler } from '../../functions/stats.ts';
import { getServices } from '../../lib/app/services.ts';
import { callHttp, drainQueue, httpEvent, makeEvent, queueUrlOf, uniqueTopic } from '../support/lambda.ts';
import { settle, startStrictCloud, type StrictCloud } from '../support/strict.ts';

jest.setTimeout(180_000);

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
let cloud: StrictCloud;

beforeAll(async () => {
  // A tenth of all calls throttled: far more than AWS does, so that every retry path is taken.
  cloud = await startStrictCloud({ CLOUD_STRICT_THROTTLE: '0.1', CLOUD_STRICT_SQS_THROTTLE: '0.1' });
});

afterAll(async () => {
  await cloud?.stop();
});

it('answers DynamoDB calls ProvisionedThroughputExceededException as AWS does; the SDK classifies it as throttling', async () => {
  const raw = new DynamoDBClient({ endpoint: cloud.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  const before = (await cloud.faults()).dynamodb_throttled;
  const errors: Array<Error & { $metadata?: { httpStatusCode?: number }; $fault?: string }> = [];
  for (let call = 0; call < 100; call += 1) {
    try {
      await raw.send(new GetItemCommand({ TableName: process.env.TABLE_NAME!, Key: { pk: { S: '#ping' } } }));
    } catch (error) {
      errors.push(error as Error);
    }
  }
  raw.destroy();
  expect(errors.length).toBeGreaterThan(3);
  for (const error of errors) {
    expect(error.name).toBe('ProvisionedThroughputExceededException');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(error.$fault).toBe('client');
    expect(error.message).toMatch(/^Throughput exceeds the current capacity of your table or index/);
    expect(isThrottlingError(error as never)).toBe(true);
  }
  expect((await cloud.faults()).dynamodb_throttled - before).toBe(errors.length);
});

it('answers SQS calls RequestThrottled or ThrottlingException as AWS does; the SDK classifies both as throttling', async () => {
  const raw = new SQSClient({ endpoint: cloud.endpoint, region: 'us-east-1', credentials, maxAttempts: 1, useQueueUrlAsEndpoint: false });
  const QueueUrl = await queueUrlOf(process.env.QUEUE_NAME!);
  const before = (await cloud.faults()).sqs_throttled;
  const errors: Array<Error & { $metadata?: { httpStatusCode?: number } }> = [];
  for (let call = 0; call < 100; call += 1) {
    try {
      await raw.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    } catch (error) {
      errors.push(error as Error);
    }
  }
  raw.destroy();
  expect(new Set(errors.map((error) => error.name))).toEqual(new Set(['RequestThrottled', 'ThrottlingException']));
  for (const error of errors) {
    expect(error.$metadata?.httpStatusCode).toBe(error.name === 'RequestThrottled' ? 403 : 400);
    expect(isThrottlingError(error as never)).toBe(true);
  }
  expect((await cloud.faults()).sqs_throttled - before).toBe(errors.length);
});

it('gets the functions\' reads through: 300 calls of an HTTP function\'s client, a tenth of them throttled, none failing', async () => {
  // The HTTP functions' client retries a throttle up to 6 times (lib/app/retry.ts); with 2 tries, as
  // before strict mode, about 1 call in 100 failed here.
  const { store } = getServices();
  const before = (await cloud.faults()).dynamodb_throttled;
  for (let call = 0; call < 300; call += 1) await store.ping();
  expect((await cloud.faults()).dynamodb_throttled - before).toBeGreaterThan(10);
});

it('publishes, stores and counts every event exactly while a tenth of all calls are throttled, and dead-letters nothing', async () => {
  const topic = uniqueTopic('throttled');
  const before = (await cloud.faults()).dynamodb_throttled + (await cloud.faults()).sqs_throttled;
  for (let request = 0; request < 10; request += 1) {
    const events = Array.from({ length: 20 }, (_, i) => makeEvent(topic, `e${request * 15 + i}`)); // 5 of each 20 repeat the last request's
    const answer = await callHttp(publishHandler, httpEvent('POST', '/publish', { body: JSON.stringify({ events }) }));
    expect(answer).toEqual({ status: 202, body: { accepted: 20, messages: 1, receipt: expect.any(String) } });
  }
  // A message whose processing ran out of retries goes back to the queue, as on Lambda; none may fail 5 times.
  await drainQueue(processHandler, process.env.QUEUE_NAME!);
  const stats = (await callHttp(statsHandler, httpEvent('GET', '/stats'))).body;
  expect(stats).toMatchObject({ received: 200, unique_processed: 155, duplicate_dropped: 45 });
  await settle(cloud.endpoint);
  const listed = (await callHttp(eventsHandler, httpEvent('GET', '/events', { query: { topic, limit: '1000' } }))).body.events;
  expect(listed).toHaveLength(155);
  // The faults did happen meanwhile.
  expect((await cloud.faults()).dynamodb_throttled + (await cloud.faults()).sqs_throttled - before).toBeGreaterThan(10);
});
