// Scheduled: forgets applied batch ids older than the dedup horizon (see lib/api/prune.ts).
import type { Context } from 'aws-lambda';
import { logger } from '#lib/app/logger';
import { pruneAppliedBatches } from '#lib/api/prune';
import { getServices } from '#lib/app/services';
import { MAX_COUNTER_SHARDS } from '#lib/api/stats';

export const handler = async (_event: unknown, context: Context): Promise<{ pruned: number; kept: number }> => {
  const { store, config } = getServices();
  const result = await pruneAppliedBatches(store, { shards: MAX_COUNTER_SHARDS, horizonSeconds: config.DEDUP_HORIZON_SECONDS });
  logger.info('applied batch ids pruned', { request_id: context.awsRequestId, ...result });
  return result;
};
