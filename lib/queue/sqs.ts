// SQS adapter: queue URLs by name (the same environment works on AWS, LocalStack and the embedded
// emulator), batched sends that retry only the entries SQS refused, and queue depth.
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DependencyError } from '../core/errors.ts';
import type { PackedMessage } from './message.ts';

const urls = new Map<string, Promise<string>>();

export const queueUrl = (sqs: SQSClient, name: string): Promise<string> => {
  let url = urls.get(name);
  if (!url) {
    url = sqs.send(new GetQueueUrlCommand({ QueueName: name })).then((response) => {
      if (!response.QueueUrl) throw new DependencyError(`queue ${name} has no URL`);
      return response.QueueUrl;
    });
    // A failed lookup must not be cached: the next call tries again.
    url.catch(() => urls.delete(name));
    urls.set(name, url);
  }
  return url;
};

const ENTRY_RETRIES = 4;

/** Some messages of a SendMessageBatch were never accepted; `accepted` are in the queue. */
export class PartialSendError extends DependencyError {
  constructor(
    message: string,
    readonly accepted: PackedMessage[],
  ) {
    super(message);
  }
}

/**
 * Sends one SendMessageBatch worth of messages. Entries SQS refuses are retried with backoff; returns
 * the messages that were accepted, and throws with the accepted ones attached if some never were.
 */
export const sendBatch = async (sqs: SQSClient, url: string, messages: PackedMessage[]): Promise<PackedMessage[]> => {
  let pending = messages;
  const accepted: PackedMessage[] = [];
  let lastFailure = '';
  for (let attempt = 0; attempt <= ENTRY_RETRIES && pending.length > 0; attempt += 1) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt * (0.5 + Math.random())));
    const response = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: pending.map((message, index) => ({ Id: String(index), MessageBody: message.body })),
      }),
    );
    for (const ok of response.Successful ?? []) accepted.push(pending[Number(ok.Id)]!);
    const failed = response.Failed ?? [];
    lastFailure = failed.map((entry) => `${entry.Code}: ${entry.Message}`).join('; ');
    // Sender faults (malformed entries) will not succeed on retry.
    if (failed.some((entry) => entry.SenderFault)) break;
    pending = failed.map((entry) => pending[Number(entry.Id)]!);
  }
  if (accepted.length < messages.length) {
    throw new PartialSendError(`SQS refused ${messages.length - accepted.length} message(s): ${lastFailure}`, accepted);
  }
  return accepted;
};

export interface QueueDepth {
  visible: number;
  in_flight: number;
  delayed: number;
}

export const queueDepth = async (sqs: SQSClient, name: string): Promise<QueueDepth> => {
  const response = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: await queueUrl(sqs, name),
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  const attributes = response.Attributes ?? {};
  return {
    visible: Number(attributes.ApproximateNumberOfMessages ?? 0),
    in_flight: Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
};
