import { checkHealth } from '#lib/api/health';
import { catHealth } from '#lib/ingest/elastic';
import { getServices } from '#lib/app/services';
import { httpHandler, json } from '#http/api';

// GET /health, and GET /_cat/health: the same checks in Elasticsearch's terms, which rsyslog's
// omelasticsearch asks before it sends (green, yellow when degraded; red and 503 when failing, so an
// agent holds its logs rather than sending them into errors).
export const handler = httpHandler(async (event) => {
  const report = await checkHealth(getServices());
  if (event.rawPath.endsWith('/_cat/health')) {
    const answer = catHealth(report.status, event.queryStringParameters ?? {}, new Date());
    return { statusCode: report.ok ? 200 : 503, headers: answer.headers, body: answer.body };
  }
  return json(report.ok ? 200 : 503, report);
});
