import { config } from '#lib/app/config';
import { readKeys } from '#lib/api/auth';
import { apiKey } from '#http/auth';
import { METRICS_CONTENT_TYPE, renderMetrics } from '#lib/api/metrics';
import { getServices } from '#lib/app/services';
import { readStats } from '#lib/api/stats';
import { httpHandler } from '#http/api';

// Label cardinality is bounded: totals, plus the METRICS_TOP_TOPICS topics with the most events.
export const handler = httpHandler(
  async () => ({
    statusCode: 200,
    headers: { 'content-type': METRICS_CONTENT_TYPE },
    body: await renderMetrics(await readStats(getServices(), { topTopics: getServices().config.METRICS_TOP_TOPICS })),
  }),
  apiKey('read', () => readKeys(config())),
);
