// SQS-triggered processor. Each record (one queue message) is processed on its own; a record that
// throws is reported in batchItemFailures and retried alone, its neighbours' effects stand.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { faultCheckpoint } from '#lib/core/faults';
import { logger } from '#lib/app/logger';
import { parseMessage } from '#lib/queue/message';
import { processMessage, type ProcessResult } from '#lib/core/processor';
import { getServices } from '#lib/app/services';

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  // One per invocation: a BatchProcessor holds the state of the batch it is processing.
  const processor = new BatchProcessor(EventType.SQS);
  const started = performance.now();
  const { store, config } = getServices();
  const results: ProcessResult[] = [];
  const recordHandler = async (record: SQSRecord): Promise<void> => {
    try {
      results.push(
        await processMessage(store, parseMessage(record.body), {
          checkpoint: faultCheckpoint(),
          retentionSeconds: config.RETENTION_DAYS * 86_400,
        }),
      );
    } catch (error) {
      logger.warn('record failed; it will be retried', {
        request_id: context.awsRequestId,
        message_id: record.messageId,
        receive_count: record.attributes.ApproximateReceiveCount,
        error: error as Error,
      });
      throw error;
    }
  };
  const response = await processPartialResponse(event, recordHandler, processor, { context });
  logger.info('batch processed', {
    request_id: context.awsRequestId,
    records: event.Records.length,
    failed: response.batchItemFailures.length,
    events: results.reduce((sum, result) => sum + result.events, 0),
    unique: results.reduce((sum, result) => sum + result.unique, 0),
    duplicate: results.reduce((sum, result) => sum + result.duplicate, 0),
    counters_already_applied: results.filter((result) => result.counters === 'already-applied').length,
    duration_ms: Math.round(performance.now() - started),
  });
  return response;
};
