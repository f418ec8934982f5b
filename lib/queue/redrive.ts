// Moves dead-lettered messages back to the main queue. A message keeps its body, and so its batch
// id: if its totals were applied before it was dead-lettered, the counter guard still recognizes it.
// Each message is deleted from the DLQ only after the main queue accepted its copy, so a crash in
// between duplicates a message (harmless here) and never loses one.
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { decodeTime } from 'ulid';
import { groupIntoBatches } from './message.ts';
import { queueUrl, sendBatch } from './sqs.ts';

export interface RedriveResult {
  moved: number;
  /** Messages older than the dedup horizon: their applied batch id may have been pruned. */
  beyondHorizon: number;
}

const batchIdOf = (body: string): string | undefined => {
  try {
    const batch = (JSON.parse(body) as { batch?: unknown }).batch;
    return typeof batch === 'string' ? batch : undefined;
  } catch {
    return undefined;
  }
};

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
    const packed = Messages.map((message) => ({
      batch: batchIdOf(message.Body ?? '') ?? '',
      body: message.Body ?? '',
      bytes: Buffer.byteLength(message.Body ?? ''),
      eventCount: 0,
    }));
    for (const group of groupIntoBatches(packed)) await sendBatch(sqs, toUrl, group);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: fromUrl,
        Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
      }),
    );
    for (const { batch } of packed) {
      if (batch && now() - decodeTime(batch) > options.horizonSeconds * 1000) result.beyondHorizon += 1;
    }
    result.moved += Messages.length;
    options.onProgress?.(result.moved);
  }
  return result;
};
