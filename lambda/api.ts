import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import type { Sql } from 'postgres';
import {
  isKnownSignal,
  toClustersResponse,
  toGatesResponse,
  toIssuesResponse,
  toLogPatternsResponse,
  toServicesResponse,
  toSignalsResponse,
  toStatusResponse,
  toSummaryResponse,
  toTimelineResponse,
} from '../shared/api/mapping.js';
import { openApiDocument, type RouteId } from '../shared/api/routes.js';
import type { Severity } from '../shared/models/issue.js';
import {
  evaluationTimeline,
  findCluster,
  issuesOfAssessment,
  latestAssessment,
  latestEvaluation,
  latestStatus,
  listClusters,
  recentLogPatterns,
  signalSeries,
} from '../shared/store/reads.js';
import { type AuthMode, authMiddleware } from './common/auth.js';
import { parseApiEnv } from './common/env.js';
import {
  BadRequestError,
  errorMapperMiddleware,
  NotFoundError,
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

const DAY_MS = 86_400_000;

const json = (status: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode: status,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

interface ClusterRef {
  readonly name: string;
  /** Null when nothing is registered yet and the default cluster was asked for. */
  readonly id: string | null;
}

/**
 * `?cluster=` names a registered cluster (else 404). Without it: the only cluster, else `local`;
 * with nothing registered yet, `local` with no data (so `/status` says `unknown`).
 *
 * Every data route calls this, and a dashboard refresh calls most of them at once, so it reads
 * little: one primary-key lookup for a named cluster (the id derives from the name), and at most
 * two rows by name for the default. The full list is read only for the 400 that names them all.
 */
async function resolveCluster(sql: Sql, name: string | undefined): Promise<ClusterRef> {
  if (name !== undefined) {
    const found = await findCluster(sql, name);
    if (found === null) throw new NotFoundError(`unknown cluster "${name}"`);
    return found;
  }
  const first = await listClusters(sql, { limit: 2 });
  if (first.length === 0) return { name: 'local', id: null };
  if (first.length === 1 && first[0] !== undefined) return first[0];
  const local = first.find((c) => c.name === 'local') ?? (await findCluster(sql, 'local'));
  if (local !== null) return local;
  const clusters = await listClusters(sql);
  throw new BadRequestError(
    `several clusters are watched (${clusters.map((c) => c.name).join(', ')}): pass ?cluster=`,
  );
}

function range(query: Record<string, unknown>, now: number): { from: number; to: number } {
  const to = typeof query.end === 'number' ? query.end : now;
  const from = typeof query.start === 'number' ? query.start : to - DAY_MS;
  if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to)
    throw new BadRequestError('start must be before end');
  return { from, to };
}

const isoOf = (ms: number) => new Date(ms).toISOString();

type RouteImpl = (
  sql: Sql,
  query: Record<string, unknown>,
  now: number,
) => Promise<APIGatewayProxyStructuredResultV2>;

type StoreRouteId = Exclude<RouteId, 'openapi' | 'actions'>;

const ROUTE_IMPLS: Record<StoreRouteId, RouteImpl> = {
  async status(sql, query) {
    const c = await resolveCluster(sql, query.cluster as string | undefined);
    if (c.id === null)
      return json(
        200,
        toStatusResponse({
          cluster: c.name,
          evaluation: null,
          assessment: null,
          issues: [],
          logPatterns: [],
        }),
      );
    const id = c.id;
    const [latest, logPatterns] = await Promise.all([
      latestStatus(sql, id),
      recentLogPatterns(sql, { clusterId: id }),
    ]);
    const issues =
      latest.assessment === null ? [] : await issuesOfAssessment(sql, latest.assessment.id);
    return json(
      200,
      toStatusResponse({
        cluster: c.name,
        evaluation: latest.evaluation,
        assessment: latest.assessment,
        issues,
        logPatterns,
      }),
    );
  },
  async services(sql, query) {
    const c = await resolveCluster(sql, query.cluster as string | undefined);
    const stored = c.id === null ? null : await latestEvaluation(sql, c.id);
    return json(200, toServicesResponse(c.name, stored));
  },
  async issues(sql, query) {
    const c = await resolveCluster(sql, query.cluster as string | undefined);
    const latest = c.id === null ? null : await latestAssessment(sql, c.id);
    const issues =
      latest === null
        ? []
        : await issuesOfAssessment(sql, latest.id, {
            ...(query.severity === undefined ? {} : { severity: query.severity as Severity }),
            ...(query.limit === undefined ? {} : { limit: query.limit as number }),
          });
    return json(200, toIssuesResponse(c.name, latest, issues));
  },
  async summary(sql, query) {
    const c = await resolveCluster(sql, query.cluster as string | undefined);
    const latest = c.id === null ? null : await latestStatus(sql, c.id);
    return json(
      200,
      toSummaryResponse(c.name, latest?.evaluation ?? null, latest?.assessment ?? null),
    );
  },
  async timeline(sql, query, now) {
    const c = await resolveCluster(sql, query.cluster as string | undefined);
    const { from, to } = range(query, now);
    const rows =
      c.id === null
        ? []
        : await evaluationTimeline(sql, {
            clusterId: c.id,
            from,
            to,
            changesOnly: query.changes_only === 'true',
            ...(query.limit === undefined ? {} : { limit: query.limit as number }),
          });
    return json(200, toTimelineResponse(c.name, { start: isoOf(from), end: isoOf(to) }, rows));
  },
  async signals(sql, query, now) {
    const ids = query.ids as string[];
    const unknown = ids.find((id) => !isKnownSignal(id));
    if (unknown !== undefined)
      throw new BadRequestError(`invalid query parameter ids: unknown signal "${unknown}"`);
    const c = await resolveCluster(sql, query.cluster as string | undefined);
    const { from, to } = range(query, now);
    const series =
      c.id === null ? {} : await signalSeries(sql, { clusterId: c.id, signalIds: ids, from, to });
    return json(
      200,
      toSignalsResponse(c.name, { start: isoOf(from), end: isoOf(to) }, ids, series),
    );
  },
  async 'log-patterns'(sql, query) {
    const c = await resolveCluster(sql, query.cluster as string | undefined);
    const rows =
      c.id === null
        ? []
        : await recentLogPatterns(sql, {
            clusterId: c.id,
            ...(query.since === undefined ? {} : { since: query.since as number }),
            ...(query.limit === undefined ? {} : { limit: query.limit as number }),
          });
    return json(200, toLogPatternsResponse(c.name, rows));
  },
  async gates(sql, query) {
    const c = await resolveCluster(sql, query.cluster as string | undefined);
    const stored = c.id === null ? null : await latestEvaluation(sql, c.id);
    return json(200, toGatesResponse(c.name, stored));
  },
  async clusters(sql) {
    return json(200, toClustersResponse(await listClusters(sql)));
  },
};

// The document is the same for the container's life: build it once, on first use.
let openApiBody: string | null = null;

/**
 * Builds the API handler: Powertools logger context, the error mapper, authentication, routing
 * with zod validation of the query, then one read-only route body. The Lambda entry and the local
 * server both use this, so they are the same code.
 */
export function createApiHandler(deps: ApiDependencies): ApiHandler {
  const log = deps.logger ?? defaultLogger;
  const now = deps.now ?? Date.now;
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, ApiContext>()
    .use(injectLambdaContext(log))
    .use(errorMapperMiddleware({ logger: log }))
    .use(authMiddleware(deps.auth))
    .use(routerMiddleware())
    .handler(async (_event, context) => {
      const api = context.api;
      if (api === undefined) throw new Error('router middleware did not run');
      const id = api.route.id;
      // These two never touch the store, so they answer even when it is down.
      if (id === 'openapi') {
        openApiBody ??= JSON.stringify(openApiDocument());
        return { ...json(200, null), body: openApiBody };
      }
      if (id === 'actions')
        return json(501, {
          error: 'Not implemented',
          message: 'Automated remediation is planned for a future release.',
        });
      const requestTime = now();
      return withDeadline(
        deps.store().then((store) => ROUTE_IMPLS[id](store.sql, api.query, requestTime)),
        deps.storeTimeoutMs ?? 8_000,
      );
    }) as unknown as ApiHandler;
}

/**
 * The API key from Secrets Manager. The signer and the credential chain are loaded on the first
 * key check, not at import, so containers in `iam` or plain-key mode never pay for them.
 */
function secretKey(secretArn: string): () => Promise<string> {
  let provider: Promise<() => Promise<string>> | undefined;
  return async () => {
    provider ??= import('./common/secrets.js')
      .then((m) => m.secretsManagerApiKey({ secretArn }))
      .catch((error: unknown) => {
        provider = undefined; // a bad ARN or a failed load is retried, not remembered
        throw error;
      });
    return (await provider)();
  };
}

/** The Lambda entry's dependencies, from the environment (parsed on the first request). */
function dependenciesFromEnv(env: NodeJS.ProcessEnv): ApiDependencies {
  const config = parseApiEnv(env);
  const auth: AuthMode =
    config.COPILOT_API_AUTH === 'iam'
      ? { mode: 'iam' }
      : config.COPILOT_API_AUTH === 'none'
        ? { mode: 'none' }
        : config.COPILOT_API_KEY !== undefined
          ? { mode: 'api-key', key: async () => config.COPILOT_API_KEY as string }
          : { mode: 'api-key', key: secretKey(config.COPILOT_API_KEY_SECRET_ARN ?? '') };
  return { store: storeFromEnv(config), auth };
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
