// middy wiring shared by the HTTP functions: JSON body parsing with size limits, one log line per
// request, and error mapping (functions/http/errors.ts).
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { LIMITS } from '#lib/core/event';
import { MalformedInputError, TooLargeError } from '#lib/core/errors';
import { parseJsonExact } from '#lib/core/json';
import { logger } from '#lib/app/logger';
import { toHttpError } from './errors.ts';

export type HttpEvent = APIGatewayProxyEventV2 & { jsonBody?: unknown };
export type HttpResult = APIGatewayProxyStructuredResultV2;

export const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult => ({
  statusCode,
  headers: { ...headers, 'content-type': 'application/json' },
  body: JSON.stringify(body),
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

const requestLog = (): MiddlewareObj<HttpEvent, HttpResult> => {
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
      request.response = { ...json(mapped.statusCode, mapped.body), ...(mapped.headers ? { headers: { 'content-type': 'application/json', ...mapped.headers } } : {}) };
      line(request, mapped.statusCode);
    },
  };
};

export const httpHandler = (
  handler: (event: HttpEvent, context: Context) => Promise<HttpResult>,
  ...middlewares: Array<MiddlewareObj<HttpEvent, HttpResult>>
) => {
  const wrapped = middy<HttpEvent, HttpResult>(handler).use(requestLog());
  for (const middleware of middlewares) wrapped.use(middleware);
  return wrapped;
};
