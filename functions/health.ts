import { checkHealth } from '#lib/health';
import { getServices } from '#lib/services';
import { httpHandler, json } from '#http/api';

export const handler = httpHandler(async () => {
  const report = await checkHealth(getServices());
  return json(report.ok ? 200 : 503, report);
});
