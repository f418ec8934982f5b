// Scheduled: forgets applied batch ids older than the dedup horizon (see lib/prune.ts).
import type { Context } from 'aws-lambda';
import { logger } from '#lib/logger';
import { pruneAppliedBatches } from '#lib/prune';
import { getServices } from '#lib/services';
import { MAX_COUNTER_SHARDS } from '#lib/stats';

export const handler = async (_event: unknown, context: Context): Promise<{ pruned: number; kept: number }> => {
  const { store, config } = getServices();
  const result = await pruneAppliedBatches(store, { shards: MAX_COUNTER_SHARDS, horizonSeconds: config.DEDUP_HORIZON_SECONDS });
  logger.info('applied batch ids pruned', { request_id: context.awsRequestId, ...result });
  return result;
};
