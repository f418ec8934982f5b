import { config } from '#lib/app/config';
import { LIMITS } from '#lib/core/event';
import { ingestBatch } from '#lib/api/ingest';
import { assertBulkMediaType, bulkResponse, ELASTIC_PRODUCT_HEADER, mapBulk } from '#lib/ingest/elastic';
import { getServices } from '#lib/app/services';
import { apiKey } from '#http/auth';
import { json, mediaType, protocolHandler, rawBody } from '#http/api';
import { elasticErrors } from '#http/protocols';

// POST /_bulk and POST /{index}/_bulk: Elasticsearch's bulk API (lib/ingest/elastic.ts), one result
// item per action in order; every answer carries the product header the official clients check.
export const handler = protocolHandler(
  elasticErrors,
  async (event) => {
    const started = performance.now();
    assertBulkMediaType(mediaType(event));
    const request = mapBulk(event.rawBody!, { index: event.pathParameters?.index, now: new Date(), maxRecords: LIMITS.maxEventsPerRequest });
    await ingestBatch(getServices(), request.batch);
    return json(200, bulkResponse(request, Math.round(performance.now() - started)), ELASTIC_PRODUCT_HEADER);
  },
  apiKey('publish', () => config().PUBLISH_API_KEYS),
  rawBody(),
);
