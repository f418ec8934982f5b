// Domain errors. They say what went wrong in domain terms; functions/http/errors.ts maps them to HTTP
// status codes in one place, and anything not listed there becomes a generic 500.

export interface FieldIssue {
  /** Index of the event in the request, when the problem is in one event. */
  index?: number;
  /** Dotted path of the field inside the event (or the request), e.g. `timestamp` or `payload`. */
  field: string;
  message: string;
}

export class AppError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input that is well-formed JSON but breaks the contract; nothing was written. */
export class ValidationError extends AppError {
  constructor(
    message: string,
    readonly issues: FieldIssue[],
  ) {
    super(message);
  }
}

/** The request body is not JSON at all. */
export class MalformedInputError extends AppError {}

/** The request is larger than the contract allows. */
export class TooLargeError extends AppError {}

/** A body in a media type or content encoding the route does not take; the message names those it does. */
export class UnsupportedMediaError extends AppError {}

/** A query parameter or cursor cannot be understood. */
export class BadQueryError extends AppError {}

export class NotFoundError extends AppError {}

/** No credentials where they are required. */
export class UnauthorizedError extends AppError {}

/** Credentials that do not grant this operation. */
export class ForbiddenError extends AppError {}

/** The queue holds more than the configured backlog: publishing waits until processing catches up. */
export class BacklogError extends AppError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** A backing service (table, queue) did not answer; the caller may retry. */
export class DependencyError extends AppError {}

/**
 * The invocation's time ran short before this message was done: it is handed back to the queue
 * (everything it wrote so far is recognized when it comes back).
 */
export class OutOfTimeError extends AppError {}

/** The function was deployed with missing or invalid settings. */
export class ConfigError extends AppError {}
