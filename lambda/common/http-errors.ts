import type { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Problem } from '../../shared/api/schemas.js';
import {
  DsqlCredentialsError,
  errorCode,
  isUnreachableCode,
  RetryExhaustedError,
  StoreConfigError,
  StoreInputError,
} from '../../shared/store/errors.js';

/**
 * An error whose status and message may be shown to the caller (`expose`, as in middy's
 * http-error-handler). Anything that is not an `HttpError` becomes a generic 500.
 */
export class HttpError extends Error {
  readonly expose = true;
  constructor(
    readonly statusCode: number,
    readonly title: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'HttpError';
  }
}

/** A bad query parameter, or a parameter the store refused: 400. */
export class BadRequestError extends HttpError {
  constructor(message: string, options?: ErrorOptions) {
    super(400, 'Bad request', message, {}, options);
    this.name = 'BadRequestError';
  }
}

/** A missing or wrong API key (or no IAM identity behind an IAM route): 401. */
export class UnauthorizedError extends HttpError {
  constructor(message: string) {
    super(401, 'Unauthorized', message, { 'www-authenticate': 'ApiKey header="x-api-key"' });
    this.name = 'UnauthorizedError';
  }
}

/** An unknown route or cluster: 404. */
export class NotFoundError extends HttpError {
  constructor(message: string) {
    super(404, 'Not found', message);
    this.name = 'NotFoundError';
  }
}

/** A known path asked with a method it does not serve: 405 with `allow`. */
export class MethodNotAllowedError extends HttpError {
  constructor(message: string, allow: string) {
    super(405, 'Method not allowed', message, { allow });
    this.name = 'MethodNotAllowedError';
  }
}

/** The state store could not be reached: 503, `degraded: true`. */
export class StoreUnavailableError extends HttpError {
  constructor(options?: ErrorOptions) {
    super(503, 'State store unavailable', 'the state store cannot be reached', {}, options);
    this.name = 'StoreUnavailableError';
  }
}

/** Whether an error (or its cause or aggregated errors) says the store is unreachable. */
export function isStoreUnreachable(error: unknown, depth = 0): boolean {
  if (depth > 5 || typeof error !== 'object' || error === null) return false;
  if (
    error instanceof StoreUnavailableError ||
    error instanceof DsqlCredentialsError ||
    error instanceof RetryExhaustedError ||
    error instanceof StoreConfigError
  )
    return true;
  const code = errorCode(error);
  if (code !== undefined && isUnreachableCode(code)) return true;
  const nested = (error as { errors?: unknown }).errors;
  if (Array.isArray(nested) && nested.some((e) => isStoreUnreachable(e, depth + 1))) return true;
  return isStoreUnreachable((error as { cause?: unknown }).cause, depth + 1);
}

/**
 * SQLSTATE 42P01 (undefined_table): the store answers but holds no copilot schema (a database no
 * one ran the migrations on, or an older schema missing a newer table).
 */
const UNDEFINED_TABLE = '42P01';

/** Whether an error (or its cause or aggregated errors) says the store's tables do not exist. */
export function isSchemaMissing(error: unknown, depth = 0): boolean {
  if (depth > 5 || typeof error !== 'object' || error === null) return false;
  if (errorCode(error) === UNDEFINED_TABLE) return true;
  const nested = (error as { errors?: unknown }).errors;
  if (Array.isArray(nested) && nested.some((e) => isSchemaMissing(e, depth + 1))) return true;
  return isSchemaMissing((error as { cause?: unknown }).cause, depth + 1);
}

// RFC 9457: `about:blank` says the status code is the whole meaning; `title`/`detail` explain.
const PROBLEM_TYPE = 'about:blank';

/** A problem body and response. Never carries a stack, an error object or a driver message. */
export function problemResponse(
  status: number,
  title: string,
  detail: string,
  extra: Partial<Problem> = {},
  headers: Readonly<Record<string, string>> = {},
): APIGatewayProxyStructuredResultV2 {
  const body: Problem = { type: PROBLEM_TYPE, title, status, detail, ...extra };
  return {
    statusCode: status,
    headers: {
      'content-type': 'application/problem+json',
      'cache-control': 'no-store',
      ...headers,
    },
    body: JSON.stringify(body),
  };
}

/** Maps any error to the HTTP response the caller sees. Pure, so it can be tested alone. */
export function toProblem(error: unknown): APIGatewayProxyStructuredResultV2 {
  // Covers StoreUnavailableError (the API's own timeout) as well as driver and store errors.
  if (isStoreUnreachable(error))
    return problemResponse(503, 'State store unavailable', 'the state store cannot be reached', {
      degraded: true,
      health_state: 'unknown',
    });
  // Not the caller's fault and not a bug to hide behind a 500: the operator has a step to run.
  if (isSchemaMissing(error))
    return problemResponse(
      503,
      'State store not set up',
      'the state store has no copilot schema: run `copilot db setup-schema` against it ' +
        '(copilot dev and copilot worker set it up when they start)',
      { degraded: true, health_state: 'unknown' },
    );
  if (error instanceof HttpError)
    return problemResponse(error.statusCode, error.title, error.message, {}, error.headers);
  // Arguments the store's own validation refused (an empty range, a bad limit) are the caller's.
  if (error instanceof StoreInputError) return problemResponse(400, 'Bad request', error.message);
  return problemResponse(500, 'Internal error', 'the request failed; see the API logs');
}

/**
 * The one error-mapping middleware: 4xx for what the caller got wrong, 503 `degraded` when the
 * store is unreachable or has no schema, a generic 500 for anything else. Logs server-side failures with the error
 * (the body never carries it).
 */
export function errorMapperMiddleware(options: {
  readonly logger: Logger;
}): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  return {
    onError: async (request) => {
      const response = toProblem(request.error);
      const status = response.statusCode ?? 500;
      if (status >= 500) options.logger.error('request failed', { status, error: request.error });
      else options.logger.info('request refused', { status, detail: request.error?.message });
      request.response = response;
    },
  };
}
