// The one place where errors become HTTP responses. Only the errors listed here are shown to clients;
// anything else is logged in full and answered with a generic 500 that names the request id.
import { isDependencyFailure } from '#lib/app/aws';
import {
  BacklogError,
  BadQueryError,
  DependencyError,
  ForbiddenError,
  MalformedInputError,
  NotFoundError,
  TooLargeError,
  UnauthorizedError,
  UnsupportedMediaError,
  ValidationError,
  type FieldIssue,
} from '#lib/core/errors';

export interface ErrorBody {
  error: string;
  message: string;
  issues?: FieldIssue[];
  request_id?: string;
}

/** Seconds a client should wait before retrying a 503 or a 429. */
export const RETRY_AFTER_SECONDS = 2;

export interface HttpError {
  statusCode: number;
  body: ErrorBody;
  /** False for failures that are not the client's doing: logged in full, shown as a generic 500. */
  expose: boolean;
  headers?: Record<string, string>;
}

export const toHttpError = (error: unknown, requestId: string): HttpError => {
  const message = (error as Error).message;
  if (error instanceof ValidationError) {
    return { statusCode: 422, body: { error: 'validation_failed', message, issues: error.issues }, expose: true };
  }
  if (error instanceof MalformedInputError) return { statusCode: 400, body: { error: 'malformed_json', message }, expose: true };
  if (error instanceof BadQueryError) return { statusCode: 400, body: { error: 'bad_request', message }, expose: true };
  if (error instanceof TooLargeError) return { statusCode: 413, body: { error: 'too_large', message }, expose: true };
  if (error instanceof UnsupportedMediaError) return { statusCode: 415, body: { error: 'unsupported_media_type', message }, expose: true };
  if (error instanceof NotFoundError) return { statusCode: 404, body: { error: 'not_found', message }, expose: true };
  if (error instanceof UnauthorizedError) return { statusCode: 401, body: { error: 'unauthorized', message }, expose: true };
  if (error instanceof ForbiddenError) return { statusCode: 403, body: { error: 'forbidden', message }, expose: true };
  if (error instanceof BacklogError) {
    return { statusCode: 429, body: { error: 'backlog_full', message }, expose: true, headers: { 'retry-after': String(error.retryAfterSeconds) } };
  }
  if (error instanceof DependencyError || isDependencyFailure(error)) {
    const shown = error instanceof DependencyError ? message : 'the table or the queue did not answer in time; retry shortly';
    return {
      statusCode: 503,
      body: { error: 'unavailable', message: shown, request_id: requestId },
      expose: true,
      headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
    };
  }
  return {
    statusCode: 500,
    body: { error: 'internal_error', message: `internal error; the logs have details under request id ${requestId}`, request_id: requestId },
    expose: false,
  };
};
