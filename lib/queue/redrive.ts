// Moves dead-lettered messages back to the main queue. A message keeps its body, and so its batch
// id: if it was processed before it was dead-lettered, its message record still says so.
// Each message is deleted from the DLQ only after the main queue accepted its copy, so a crash in
// between duplicates a message (harmless here) and never loses one.
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { isBeyondHorizon } from './batch-id.ts';
import { groupIntoBatches, resendable } from './message.ts';
import { queueUrl, sendBatch } from './sqs.ts';

export interface RedriveResult {
  moved: number;
  /** Messages older than the dedup horizon: their message record may have expired. */
  beyondHorizon: number;
}

export const redriveDeadLetters = async (
  sqs: SQSClient,
  options: {
    from: string;
    to: string;
    horizonSeconds: number;
    max?: number;
    now?: () => number;
    onProgress?: (moved: number) => void;
  },
): Promise<RedriveResult> => {
  const [fromUrl, toUrl] = await Promise.all([queueUrl(sqs, options.from), queueUrl(sqs, options.to)]);
  const now = options.now ?? Date.now;
  const result: RedriveResult = { moved: 0, beyondHorizon: 0 };
  while (result.moved < (options.max ?? Number.POSITIVE_INFINITY)) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: fromUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60 }),
    );
    if (Messages.length === 0) break;
    const packed = Messages.map((message) => resendable(message.Body ?? ''));
    for (const group of groupIntoBatches(packed)) await sendBatch(sqs, toUrl, group);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: fromUrl,
        Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
      }),
    );
    for (const { batch } of packed) {
      if (isBeyondHorizon(batch, options.horizonSeconds, now())) result.beyondHorizon += 1;
    }
    result.moved += Messages.length;
    options.onProgress?.(result.moved);
  }
  return result;
};
