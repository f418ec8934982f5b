import { config } from '#lib/app/config';
import { LIMITS } from '#lib/core/event';
import { ingestBatch, topicParameter } from '#lib/api/ingest';
import { mapOtlpLogs, OTLP_MEDIA_TYPES, otlpFormatOf, otlpResponse } from '#lib/ingest/otlp';
import { getServices } from '#lib/app/services';
import { apiKey } from '#http/auth';
import { binary, mediaType, protocolHandler, rawBody } from '#http/api';
import { otlpErrors } from '#http/protocols';

// POST /v1/logs: OTLP/HTTP logs (lib/ingest/otlp.ts). 200 with an ExportLogsServiceResponse in the
// request's encoding, partial_success naming the records refused; failures as google.rpc.Status.
export const handler = protocolHandler(
  otlpErrors,
  async (event) => {
    const format = otlpFormatOf(mediaType(event));
    const batch = mapOtlpLogs(event.rawBody!, {
      format,
      topic: topicParameter(event.queryStringParameters?.topic),
      now: new Date(),
      maxRecords: LIMITS.maxEventsPerRequest,
    });
    await ingestBatch(getServices(), batch);
    return binary(200, OTLP_MEDIA_TYPES[format], otlpResponse(batch, format));
  },
  apiKey('publish', () => config().PUBLISH_API_KEYS),
  rawBody({ emptyIsValid: true }),
);
