import { config } from '#lib/app/config';
import { LIMITS } from '#lib/core/event';
import { ingestBatch } from '#lib/api/ingest';
import { unsnappy } from '#lib/ingest/compression';
import { lokiFormatOf, mapLokiPush } from '#lib/ingest/loki';
import { refusalSummary } from '#lib/ingest/batch';
import { getServices } from '#lib/app/services';
import { apiKey } from '#http/auth';
import { httpHandler, json, mediaType, rawBody } from '#http/api';

// POST /loki/api/v1/push: Loki's push API (lib/ingest/loki.ts). 204 when every entry was accepted;
// 400 naming the entries refused, after accepting the rest, as Loki's distributor answers.
export const handler = httpHandler(
  async (event) => {
    const format = lokiFormatOf(mediaType(event));
    const body = format === 'protobuf' ? unsnappy(event.rawBody!, LIMITS.maxInflatedBodyBytes) : event.rawBody!;
    const batch = mapLokiPush(body, { format, maxRecords: LIMITS.maxEventsPerRequest });
    const result = await ingestBatch(getServices(), batch);
    if (batch.refused.length > 0) {
      return json(400, {
        error: 'entries_refused',
        message: refusalSummary(batch, 'entries'),
        accepted: result.accepted,
        refused: batch.refused.length,
        // The first hundred, each with where it was and why: enough to fix a client without a huge answer.
        refusals: batch.refused.slice(0, 100),
      });
    }
    return { statusCode: 204, body: '' };
  },
  apiKey('publish', () => config().PUBLISH_API_KEYS),
  rawBody(),
);
