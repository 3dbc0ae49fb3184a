import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import {
  DEFAULT_STALENESS,
  type StalenessPolicy,
  stalenessOf,
} from '../shared/models/freshness.js';
import { type AuthMode, authMiddleware } from './common/auth.js';
import { parseLambdaApiEnv } from './common/env.js';
import {
  errorMapperMiddleware,
  problemResponse,
  StoreUnavailableError,
} from './common/http-errors.js';
import { logger as defaultLogger } from './common/powertools.js';
import { type ApiContext, routerMiddleware } from './common/router.js';
import { type StoreProvider, storeFromEnv } from './common/store.js';

/*
 * One router handler for every route, not one function per route: Grafana refreshes a dashboard
 * by calling most endpoints at once, so one warm container (one connection pool, one DSQL token,
 * one cached API key) serves them all instead of N cold starts and N pools against DSQL's
 * connection-rate limit. The routes share the store, zod and the mapping anyway, so per-route
 * bundles would be nearly the same size.
 */

/** Handler type: API Gateway HTTP API (payload v2) in, a structured result out. */
export type ApiHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** What the handler needs; the Lambda entry builds these from the environment. */
export interface ApiDependencies {
  readonly store: StoreProvider;
  readonly auth: AuthMode;
  /** @default the shared Powertools logger (`lambda/common/powertools.ts`) */
  readonly logger?: Logger;
  /** @default Date.now — the default time range ends now */
  readonly now?: () => number;
  /**
   * How long a route may wait for the store before answering 503. The driver backs off between
   * reconnects (up to 20 s) and connects with a 15 s timeout; API Gateway gives up at 30 s, so
   * without a deadline a dead store would surface as a gateway timeout, not as `degraded`.
   * @default 8000
   */
  readonly storeTimeoutMs?: number;
  /** When the newest evaluation counts as stale. @default 3 intervals, at least 60 s */
  readonly staleness?: StalenessPolicy;
}

/** Rejects with {@link StoreUnavailableError} when `work` takes longer than `ms`. */
async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StoreUnavailableError({ cause: new Error(`no answer in ${ms} ms`) })),
      ms,
    );
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    // A late failure of the abandoned work must not become an unhandled rejection.
    work.catch(() => {});
  }
}

const json = (status: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode: status,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

/**
 * Builds the API handler: Powertools logger context, the error mapper, authentication, routing
 * with zod validation of the query, then one read-only route body. The Lambda entry and the local
 * server both use this, so they are the same code.
 */
export function createApiHandler(deps: ApiDependencies): ApiHandler {
  const log = deps.logger ?? defaultLogger;
  const now = deps.now ?? Date.now;
  const staleness = deps.staleness ?? DEFAULT_STALENESS;
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, ApiContext>()
    .use(injectLambdaContext(log))
    .use(errorMapperMiddleware({ logger: log }))
    .use(authMiddleware(deps.auth))
    .use(routerMiddleware())
    .handler(async (event, context) => {
      const route = context.api?.route;
      if (route === undefined) throw new Error('router middleware did not run');
      const run = route.run(event.queryStringParameters ?? {}, {
        now: now(),
        staleness,
        sql: () => deps.store().then((store) => store.sql),
      });
      // Routes that never touch the store (the document, the 501) answer even when it is down.
      const { status, body } = route.store
        ? await withDeadline(run, deps.storeTimeoutMs ?? 8_000)
        : await run;
      return json(status, body);
    });
}

/**
 * The API key from Secrets Manager. The signer and the credential chain are loaded on the first
 * key check, not at import, so containers in `iam` or plain-key mode never pay for them.
 */
function secretKey(secretArn: string, endpoint: string | undefined): () => Promise<string> {
  let provider: Promise<() => Promise<string>> | undefined;
  return async () => {
    provider ??= import('./common/secrets.js')
      .then((m) =>
        m.secretsManagerApiKey({ secretArn, ...(endpoint === undefined ? {} : { endpoint }) }),
      )
      .catch((error: unknown) => {
        provider = undefined; // a bad ARN or a failed load is retried, not remembered
        throw error;
      });
    return (await provider)();
  };
}

/** The Lambda entry's dependencies, from the environment (parsed on the first request). */
function dependenciesFromEnv(env: NodeJS.ProcessEnv): ApiDependencies {
  // `none` is refused here: behind API Gateway the API is public.
  const config = parseLambdaApiEnv(env);
  const key = config.COPILOT_API_KEY;
  const auth: AuthMode =
    config.COPILOT_API_AUTH === 'iam'
      ? { mode: 'iam' }
      : key !== undefined
        ? { mode: 'api-key', key: async () => key }
        : {
            mode: 'api-key',
            key: secretKey(
              config.COPILOT_API_KEY_SECRET_ARN ?? '',
              config.AWS_ENDPOINT_URL_SECRETS_MANAGER,
            ),
          };
  return { store: storeFromEnv(config), auth, staleness: stalenessOf(config) };
}

let coldStart: ApiHandler | null = null;

/**
 * The Lambda entry point (API Gateway HTTP API, payload v2). The environment is parsed and the
 * store opened once per container, on the first request, and reused. A configuration error is
 * logged and answered with a generic 500, and retried on the next request.
 */
export const handler: ApiHandler = async (event, context) => {
  if (coldStart === null) {
    try {
      coldStart = createApiHandler(dependenciesFromEnv(process.env));
    } catch (error) {
      defaultLogger.error('invalid configuration', { error });
      return problemResponse(500, 'Internal error', 'the API is not configured; see the API logs');
    }
  }
  return coldStart(event, context);
};
