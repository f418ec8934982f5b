// SQS-triggered processor. Each record (one queue message) is stored and recorded on its own; a record
// that throws is reported in batchItemFailures and retried alone. Then the records of the messages
// that succeeded are folded into the counters; if that fails, those messages are reported too, and
// their retry finds their records and finishes the fold (see lib/core/fold.ts).
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { foldProcessed, processingDeadline, processQueueMessage, readBatch, upgradeOnce } from '#lib/api/process';
import { OutOfTimeError } from '#lib/core/errors';
import { logger } from '#lib/app/logger';
import { getServices } from '#lib/app/services';
import type { MessageRecord } from '#lib/core/counting';
import { faultCheckpoint } from '#lib/core/faults';

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  // One per invocation: a BatchProcessor holds the state of the batch it is processing.
  const processor = new BatchProcessor(EventType.SQS);
  const started = performance.now();
  const services = getServices('batch');
  await upgradeOnce(services);
  const processed = new Map<string, MessageRecord>();
  const outOfTime: string[] = [];
  let recordsReused = 0;
  const deadline = processingDeadline(context.getRemainingTimeInMillis());
  const read = await readBatch(services, event.Records.map((record) => record.body));
  if (read.readError !== undefined) {
    logger.warn("the batch's key read failed; each message reads its own keys", { request_id: context.awsRequestId, error: read.readError as Error });
  }
  const recordHandler = async (record: SQSRecord): Promise<void> => {
    try {
      const result = await processQueueMessage(services, record.body, { checkpoint: faultCheckpoint(), deadline, read });
      processed.set(record.messageId, result.record);
      if (!result.recordCreated) recordsReused += 1;
    } catch (error) {
      if (error instanceof OutOfTimeError) {
        outOfTime.push(record.messageId);
        throw error;
      }
      logger.warn('record failed; it will be retried', {
        request_id: context.awsRequestId,
        message_id: record.messageId,
        receive_count: record.attributes.ApproximateReceiveCount,
        error: error as Error,
      });
      throw error;
    }
  };
  // A copy: for a batch with no failures Powertools returns one shared default object.
  const response: SQSBatchResponse = { batchItemFailures: [...(await processPartialResponse(event, recordHandler, processor, { context })).batchItemFailures] };
  const records = [...processed.values()];
  let fold = { records: 0, counters: 0, conflicts: 0 };
  try {
    fold = await foldProcessed(services, records, faultCheckpoint());
  } catch (error) {
    logger.warn('fold failed; its messages will be retried', { request_id: context.awsRequestId, records: records.length, error: error as Error });
    response.batchItemFailures.push(...[...processed.keys()].map((itemIdentifier) => ({ itemIdentifier })));
  }
  logger.info('batch processed', {
    request_id: context.awsRequestId,
    records: event.Records.length,
    failed: response.batchItemFailures.length,
    events: records.reduce((sum, record) => sum + record.totals.received, 0),
    unique: records.reduce((sum, record) => sum + record.totals.unique, 0),
    duplicate: records.reduce((sum, record) => sum + record.totals.duplicate, 0),
    records_reused: recordsReused,
    out_of_time: outOfTime.length,
    counters_updated: fold.counters,
    fold_conflicts: fold.conflicts,
    duration_ms: Math.round(performance.now() - started),
  });
  // Messages that only ran out of time are fine to retry at once. Lambda ignores this field and retries
  // them after the visibility timeout; the local event source (local/event-source.ts) does not wait.
  return outOfTime.length > 0 ? Object.assign(response, { retryNow: outOfTime }) : response;
};
