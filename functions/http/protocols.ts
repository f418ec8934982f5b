// Error answers in the shipper protocols' own terms. The status code is always the one mapping's
// (errors.ts): 400 malformed (not retried by these clients), 413, 415, 401/403, 429 and 503 with
// Retry-After (retried). Only the body and headers change, to what each protocol's clients read.
import { elasticError, ELASTIC_PRODUCT_HEADER } from '#lib/ingest/elastic';
import { OTLP_MEDIA_TYPES, otlpStatus, type OtlpFormat } from '#lib/ingest/otlp';
import { binary, json, mediaType, type ErrorRenderer } from './api.ts';

/** gRPC codes for google.rpc.Status, as the OpenTelemetry Collector's receivers pair them with HTTP statuses. */
const GRPC_CODE: Record<number, number> = { 400: 3, 401: 16, 403: 7, 404: 5, 413: 3, 415: 3, 429: 8, 503: 14 };

/** OTLP/HTTP: a google.rpc.Status, protobuf or JSON as the request was (protobuf when it cannot tell). */
export const otlpErrors: ErrorRenderer = (mapped, event) => {
  const format: OtlpFormat = mediaType(event) === 'application/json' ? 'json' : 'protobuf';
  return binary(mapped.statusCode, OTLP_MEDIA_TYPES[format], otlpStatus(GRPC_CODE[mapped.statusCode] ?? 13, mapped.body.message, format), mapped.headers);
};

const ELASTIC_TYPE: Record<number, string> = {
  400: 'illegal_argument_exception',
  401: 'security_exception',
  403: 'security_exception',
  404: 'resource_not_found_exception',
  413: 'content_too_long_exception',
  415: 'media_type_header_exception',
  429: 'es_rejected_execution_exception',
  503: 'unavailable_shards_exception',
};

/** Elasticsearch: `{ error: { root_cause, type, reason }, status }` and the product header its clients check. */
export const elasticErrors: ErrorRenderer = (mapped) =>
  json(mapped.statusCode, elasticError(mapped.statusCode, ELASTIC_TYPE[mapped.statusCode] ?? 'exception', mapped.body.message), {
    ...mapped.headers,
    ...ELASTIC_PRODUCT_HEADER,
    ...(mapped.statusCode === 401 ? { 'www-authenticate': 'Basic realm="log-aggregator", charset="UTF-8"' } : {}),
  });
