// middy wiring shared by the HTTP functions: JSON body parsing with size limits, one log line per
// request, and error mapping (functions/http/errors.ts).
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { LIMITS } from '#lib/core/event';
import { MalformedInputError, TooLargeError } from '#lib/core/errors';
import { parseJsonExact } from '#lib/core/json';
import { decodeContentEncoding } from '#lib/ingest/compression';
import { logger } from '#lib/app/logger';
import { toHttpError, type HttpError } from './errors.ts';

/** The request, with its body as JSON (jsonBody) or as bytes with the Content-Encoding undone (rawBody). */
export type HttpEvent = APIGatewayProxyEventV2 & { jsonBody?: unknown; rawBody?: Buffer };
export type HttpResult = APIGatewayProxyStructuredResultV2;

export const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult => ({
  statusCode,
  headers: { ...headers, 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/** Bytes as API Gateway returns them: base64 in the result, decoded for the client. */
export const binary = (statusCode: number, contentType: string, body: Buffer, headers: Record<string, string> = {}): HttpResult => ({
  statusCode,
  headers: { ...headers, 'content-type': contentType },
  body: body.toString('base64'),
  isBase64Encoded: true,
});

/** A request header, whatever the case of its name (API Gateway lower-cases them; a test might not). */
export const header = (event: HttpEvent, name: string): string | undefined => {
  const headers = event.headers ?? {};
  return headers[name] ?? Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
};

/** The media type of the body, without parameters, in lower case: `application/json; charset=utf-8` -> `application/json`. */
export const mediaType = (event: HttpEvent): string => (header(event, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();

/**
 * The body as bytes, for the shipper protocols: base64 undone (API Gateway and the local gateway
 * hand binary bodies over that way), then the Content-Encoding (gzip, deflate) undone with a bound
 * that stops inflation at `maxInflatedBytes` (see lib/ingest/compression.ts). 413 past either limit.
 */
export const rawBody = ({
  maxBytes = LIMITS.maxBodyBytes,
  maxInflatedBytes = LIMITS.maxInflatedBodyBytes,
  // Where the protocol gives an empty body a meaning: an OTLP protobuf request with no logs is zero bytes.
  emptyIsValid = false,
}: { maxBytes?: number; maxInflatedBytes?: number; emptyIsValid?: boolean } = {}): MiddlewareObj<HttpEvent, HttpResult> => ({
  before: (request) => {
    const { event } = request;
    const body = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
    if (body.length > maxBytes) throw new TooLargeError(`the body is ${body.length} bytes; at most ${maxBytes} are accepted`);
    const encoding = header(event, 'content-encoding');
    // gzip's magic bytes begin no JSON, NDJSON, protobuf or snappy body: a client that compressed and
    // forgot the header is told so, rather than shown a parser's complaint about binary noise.
    if (!encoding && body[0] === 0x1f && body[1] === 0x8b) {
      throw new MalformedInputError('the body is gzip-compressed but came without Content-Encoding: gzip; send that header, or the body uncompressed');
    }
    event.rawBody = decodeContentEncoding(body, encoding, maxInflatedBytes);
    if (event.rawBody.length === 0 && !emptyIsValid) throw new MalformedInputError('the body is empty');
  },
});

/** Parses the body as JSON: 413 above the size limit, 400 with the parser's reason when not JSON. */
export const jsonBody = (maxBytes: number = LIMITS.maxBodyBytes): MiddlewareObj<HttpEvent, HttpResult> => ({
  before: (request) => {
    const { event } = request;
    const raw = event.body ?? '';
    const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > maxBytes) throw new TooLargeError(`the body is ${bytes} bytes; at most ${maxBytes} are accepted`);
    if (text.trim() === '') throw new MalformedInputError('the body is empty; send a JSON event, {"events": [...]} or an array');
    try {
      event.jsonBody = parseJsonExact(text);
    } catch (error) {
      throw new MalformedInputError(`the body is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
  },
});

/** Turns a mapped error into the answer a protocol's clients expect; the status code stays the mapping's. */
export type ErrorRenderer = (error: HttpError, event: HttpEvent) => HttpResult;

/** This API's own error bodies: `{ error, message, issues?, request_id? }` as JSON. */
export const jsonErrors: ErrorRenderer = (mapped) => json(mapped.statusCode, mapped.body, mapped.headers);

const requestLog = (renderError: ErrorRenderer): MiddlewareObj<HttpEvent, HttpResult> => {
  // Per request, not per middleware: one handler module serves concurrent invocations.
  const started = new WeakMap<object, number>();
  const line = (request: { event: HttpEvent; context: Context }, statusCode: number | undefined): void => {
    logger.info('request', {
      request_id: request.context.awsRequestId,
      method: request.event.requestContext?.http?.method,
      path: request.event.rawPath,
      status: statusCode,
      duration_ms: Math.round(performance.now() - (started.get(request.event) ?? performance.now())),
    });
  };
  return {
    before: (request) => {
      started.set(request.event, performance.now());
    },
    after: (request) => line(request, request.response?.statusCode),
    onError: (request) => {
      const mapped = toHttpError(request.error, request.context.awsRequestId);
      if (!mapped.expose || mapped.statusCode >= 500) {
        logger.error('request failed', { request_id: request.context.awsRequestId, error: request.error as Error });
      }
      request.response = renderError(mapped, request.event);
      line(request, mapped.statusCode);
    },
  };
};

type Handler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

/** A handler whose failures are answered in a protocol's own terms (OTLP, Elasticsearch). */
export const protocolHandler = (renderError: ErrorRenderer, handler: Handler, ...middlewares: Array<MiddlewareObj<HttpEvent, HttpResult>>) => {
  const wrapped = middy<HttpEvent, HttpResult>(handler).use(requestLog(renderError));
  for (const middleware of middlewares) wrapped.use(middleware);
  return wrapped;
};

export const httpHandler = (handler: Handler, ...middlewares: Array<MiddlewareObj<HttpEvent, HttpResult>>) =>
  protocolHandler(jsonErrors, handler, ...middlewares);
