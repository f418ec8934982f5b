// Running it for real: backpressure, health that says "degraded" before anything is lost, failures of
// the table or the queue answered as 503 with Retry-After, and read keys. Real emulators; where a
// failure cannot be caused here for real (throttling), the test says so.
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { handler as processHandler } from '../../functions/process.ts';
import { toHttpError } from '../../functions/http/errors.ts';
import { authorize, readKeys } from '../../lib/api/auth.ts';
import { checkHealth } from '../../lib/api/health.ts';
import { publishEvents } from '../../lib/api/ingest.ts';
import { queryEvents } from '../../lib/api/query.ts';
import { dynamoClient, isDependencyFailure } from '../../lib/app/aws.ts';
import { getServices } from '../../lib/app/services.ts';
import { BacklogError, ForbiddenError, OutOfTimeError, UnauthorizedError } from '../../lib/core/errors.ts';
import { processMessage } from '../../lib/core/processor.ts';
import { processingDeadline } from '../../lib/api/process.ts';
import { packMessages, parseMessage } from '../../lib/queue/message.ts';
import { validatePublishRequest } from '../../lib/core/publish-request.ts';
import { DynamoEventStore } from '../../lib/table/events-repo.ts';
import { deleteMessages, deliverQueue, makeEvent, queueUrlOf, receiveAll, sqs, uniqueTopic } from '../support/lambda.ts';

const queueName = (): string => process.env.QUEUE_NAME!;
const dlqName = (): string => process.env.DLQ_NAME!;

afterEach(async () => {
  await deliverQueue(processHandler, queueName());
});

describe('backpressure', () => {
  it('refuses to publish above MAX_BACKLOG_MESSAGES with 429 and Retry-After, and accepts again once processed', async () => {
    const services = getServices();
    const strict = { ...services, config: { ...services.config, MAX_BACKLOG_MESSAGES: 2, BACKLOG_CHECK_SECONDS: 0 } };
    const topic = uniqueTopic('backlog');
    const one = () => validatePublishRequest(makeEvent(topic, `e-${Math.random()}`));
    await publishEvents(strict, one());
    await publishEvents(strict, one());
    const refused = await publishEvents(strict, one()).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BacklogError);
    const answer = toHttpError(refused, 'req-1');
    expect(answer).toMatchObject({ statusCode: 429, body: { error: 'backlog_full' }, headers: { 'retry-after': expect.stringMatching(/^\d+$/) } });
    // /health warns before publishing is refused (at 80% of the limit).
    expect(await checkHealth(strict)).toMatchObject({ ok: true, status: 'degraded', warnings: [expect.stringMatching(/^backlog: 2 messages waiting/)] });
    await deliverQueue(processHandler, queueName());
    await expect(publishEvents(strict, one())).resolves.toMatchObject({ accepted: 1 });
  });

  it('says "degraded" while messages sit in the dead-letter queue', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: await queueUrlOf(dlqName()), MessageBody: '{"dead":true}' }));
    const report = await checkHealth(getServices());
    expect(report).toMatchObject({ ok: true, status: 'degraded' });
    expect(report.warnings).toContainEqual(expect.stringMatching(/^dead letters: 1 message/));
    await deleteMessages(dlqName(), await receiveAll(dlqName(), 10));
    expect((await checkHealth(getServices())).status).toBe('ok');
  });
});

describe('failures of the table or the queue', () => {
  it('answers a table that is not there with 503 and Retry-After, not 500', async () => {
    const store = new DynamoEventStore(dynamoClient(), 'no-such-table');
    const error = await queryEvents({ store }, { topic: 'x' }).catch((caught: unknown) => caught);
    expect((error as Error).name).toBe('ResourceNotFoundException');
    expect(toHttpError(error, 'req-2')).toMatchObject({ statusCode: 503, body: { error: 'unavailable' }, headers: { 'retry-after': '2' } });
  });

  it('treats throttling, 5xx and network failures as unavailable, and bad requests as ours', () => {
    // Throttling cannot be caused on the embedded DynamoDB: these are the SDK's error shapes.
    expect(isDependencyFailure({ name: 'ProvisionedThroughputExceededException', $metadata: { httpStatusCode: 400 } })).toBe(true);
    expect(isDependencyFailure({ name: 'InternalServerError', $metadata: { httpStatusCode: 500 } })).toBe(true);
    expect(isDependencyFailure(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isDependencyFailure({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } })).toBe(false);
    expect(toHttpError(new Error('bug'), 'req-3').statusCode).toBe(500);
  });
});

describe('bounded work per invocation', () => {
  it('stops a message that runs out of time before its deadline, and its retry counts it exactly once', async () => {
    const services = getServices();
    const topic = uniqueTopic('late');
    const [packed] = packMessages(validatePublishRequest(Array.from({ length: 40 }, (_, i) => makeEvent(topic, `e${i}`))));
    const message = parseMessage(packed!.body);
    // A clock that moves 10 ms per look: the deadline passes after about 20 writes.
    let ticks = 0;
    const now = () => new Date(Date.UTC(2026, 0, 1) + 10 * ticks++);
    const stores = { events: services.store, counters: services.counters };
    const late = await processMessage(stores, message, { horizonSeconds: 60, now, deadline: Date.UTC(2026, 0, 1) + 200, putConcurrency: 1 }).catch((error: unknown) => error);
    expect(late).toBeInstanceOf(OutOfTimeError);
    expect(await services.counters.pendingRecords([message.batch])).toEqual(new Set());
    const retried = await processMessage(stores, message, { horizonSeconds: 60 });
    expect(retried.record.totals).toEqual({ received: 40, unique: 40, duplicate: 0 });
    expect(processingDeadline(30_000, 1_000)).toBe(1_000 + 30_000 - 7_500);
    expect(processingDeadline(4_000, 0)).toBe(2_000);
  });
});

describe('read keys', () => {
  it('leave reads open when none is configured, and otherwise take a read or an admin key', () => {
    expect(() => authorize('read', undefined, readKeys({ READ_API_KEYS: [], ADMIN_API_KEYS: ['a1'] }))).not.toThrow();
    const keys = readKeys({ READ_API_KEYS: ['r1'], ADMIN_API_KEYS: ['a1'] });
    expect(() => authorize('read', undefined, keys)).toThrow(UnauthorizedError);
    expect(() => authorize('read', 'p1', keys)).toThrow(ForbiddenError);
    expect(() => authorize('read', 'r1', keys)).not.toThrow();
    expect(() => authorize('read', 'a1', keys)).not.toThrow();
  });
});
