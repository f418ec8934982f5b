import { METRICS_CONTENT_TYPE, renderMetrics } from '#lib/metrics';
import { getServices } from '#lib/services';
import { readStats } from '#lib/stats';
import { httpHandler } from '#http/api';

export const handler = httpHandler(async () => ({
  statusCode: 200,
  headers: { 'content-type': METRICS_CONTENT_TYPE },
  body: await renderMetrics(await readStats(getServices())),
}));
