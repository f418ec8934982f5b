import { checkHealth } from '#lib/api/health';
import { getServices } from '#lib/app/services';
import { httpHandler, json } from '#http/api';

export const handler = httpHandler(async () => {
  const report = await checkHealth(getServices());
  return json(report.ok ? 200 : 503, report);
});
