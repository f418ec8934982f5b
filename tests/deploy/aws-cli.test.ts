// Every aws-cli command docs/local-runtime.md shows, run as written against the embedded default (the suite's
// local cloud), with the endpoint and names the page's variables stand for. The page cannot drift.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { handler as processHandler } from '../../functions/process.ts';
import { handler as publishHandler } from '../../functions/publish.ts';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { callHttp, deleteMessages, deliverQueue, httpEvent, makeEvent, queueCount, queueUrlOf, receiveAll, sqs } from '../support/lambda.ts';
import { projectRoot } from '../support/processes.ts';

jest.setTimeout(120_000);

const readme = readFileSync(path.join(projectRoot, 'docs', 'local-runtime.md'), 'utf8');
const block = /```bash aws-cli\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
const commands = block.split('\n').filter((line) => line.startsWith('aws '));
const hasCli = spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasCli) console.warn('the aws CLI (1.x) is not installed: the aws-cli commands of docs/local-runtime.md are not run');
const withCli = hasCli ? describe : describe.skip;

const run = (command: string): string => {
  const queueUrl = `${process.env.AWS_ENDPOINT_URL}/000000000000/${process.env.QUEUE_NAME}`;
  return execFileSync('bash', ['-c', command], {
    encoding: 'utf8',
    env: {
      ...process.env,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_PAGER: '',
      E: process.env.AWS_ENDPOINT_URL,
      Q: queueUrl,
      T: process.env.TABLE_NAME,
    },
  });
};

it('docs/local-runtime.md shows the everyday aws-cli commands', () => {
  expect(commands.length).toBe(7);
  for (const needed of ['sqs list-queues', 'sqs get-queue-attributes', 'sqs receive-message', 'dynamodb scan', 'dynamodb get-item', 'dynamodb query']) {
    expect(commands.some((command) => command.includes(needed))).toBe(true);
  }
});

withCli('the aws-cli commands of docs/local-runtime.md against the embedded default', () => {
  beforeAll(async () => {
    // The examples use the event orders#o-1.
    await callHttp(publishHandler, httpEvent('POST', '/publish', { body: JSON.stringify(makeEvent('orders', 'o-1')) }));
    await deliverQueue(processHandler, process.env.QUEUE_NAME!);
  });

  const find = (needle: string): string => {
    const command = commands.find((candidate) => candidate.includes(needle));
    if (!command) throw new Error(`docs/local-runtime.md has no command with "${needle}"`);
    return command;
  };

  it('lists the queues', () => {
    const out = JSON.parse(run(find('list-queues'))) as { QueueUrls: string[] };
    expect(out.QueueUrls.some((url) => url.endsWith(`/${process.env.QUEUE_NAME}`))).toBe(true);
    expect(out.QueueUrls.some((url) => url.endsWith(`/${process.env.DLQ_NAME}`))).toBe(true);
  });

  it('shows queue depth and messages in flight', () => {
    const out = JSON.parse(run(find('get-queue-attributes'))) as { Attributes: Record<string, string> };
    expect(Object.keys(out.Attributes).sort()).toEqual(['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible']);
  });

  it('peeks at the DLQ, and the message stays there', async () => {
    const body = JSON.stringify({ dead: 'letter', at: Date.now() });
    await sqs.send(new SendMessageCommand({ QueueUrl: await queueUrlOf(process.env.DLQ_NAME!), MessageBody: body }));
    const out = JSON.parse(run(find('receive-message'))) as { Messages: Array<{ Body: string }> };
    expect(out.Messages.map((message) => message.Body)).toContain(body);
    // Peeking hid it for a second only.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(await queueCount(process.env.DLQ_NAME!)).toBe(1);
    await deleteMessages(process.env.DLQ_NAME!, await receiveAll(process.env.DLQ_NAME!));
  });

  it('counts the stored events', () => {
    const out = JSON.parse(run(find('--select COUNT'))) as { Count: number };
    expect(out.Count).toBeGreaterThanOrEqual(1);
  });

  it('gets one event by its key and decodes its body', () => {
    const out = JSON.parse(run(find('get-item'))) as { t: string; s: string; p: unknown };
    const event = makeEvent('orders', 'o-1');
    expect(out).toMatchObject({ t: event.timestamp, s: event.source, p: event.payload });
  });

  it("queries a topic's events through the index", () => {
    const out = JSON.parse(run(find('dynamodb query'))) as { Items: Array<Record<string, { S: string }>> };
    expect(out.Items.map((item) => item.pk!.S)).toContain('orders#o-1');
  });

  it('scans a few items', () => {
    const out = JSON.parse(run(find('--max-items 5'))) as { Items: unknown[] };
    expect(out.Items.length).toBeGreaterThanOrEqual(1);
    expect(out.Items.length).toBeLessThanOrEqual(5);
  });
});
