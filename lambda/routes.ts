import type { Sql } from 'postgres';
import * as z from 'zod';
import {
  NO_USAGE,
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
import { openApiDocument, type RouteMeta } from '../shared/api/routes.js';
import {
  ClusterQuerySchema,
  ClustersResponseSchema,
  GatesResponseSchema,
  IssuesQuerySchema,
  IssuesResponseSchema,
  LogPatternsQuerySchema,
  LogPatternsResponseSchema,
  NotImplementedResponseSchema,
  ServicesResponseSchema,
  SignalsQuerySchema,
  SignalsResponseSchema,
  StatusResponseSchema,
  SummaryResponseSchema,
  TimelineQuerySchema,
  TimelineResponseSchema,
} from '../shared/api/schemas.js';
import type { AssessmentDetails } from '../shared/models/assessment.js';
import type { StalenessPolicy } from '../shared/models/freshness.js';
import type { StoredEvaluation } from '../shared/models/stored-evaluation.js';
import * as reads from '../shared/store/reads.js';
import { describeFirstIssue } from '../shared/zod-issues.js';
import { BadRequestError, NotFoundError } from './common/http-errors.js';

/** What a route's handler gets: its parsed query, the request's clock and the store. */
export interface RouteContext<Query> {
  /** The query string, parsed by the route's own schema (its output type, not strings). */
  readonly query: Query;
  /** The request's time (epoch ms): the default range ends now, and ages are judged against it. */
  readonly now: number;
  /** How old the newest evaluation may be before a current-state answer says `stale`. */
  readonly staleness: StalenessPolicy;
  /** The store's connection, opened on first use: routes that never call it answer without it. */
  sql(): Promise<Sql>;
}

/** A route ready to serve: its metadata and one function from a raw query to a status and body. */
export interface Route extends RouteMeta {
  run(
    rawQuery: Readonly<Record<string, string | undefined>>,
    context: Omit<RouteContext<unknown>, 'query'>,
  ): Promise<{ readonly status: number; readonly body: unknown }>;
}

type Body<R extends z.ZodType | null> = R extends z.ZodType ? z.input<R> : unknown;

/** A route definition: metadata, the query and body schemas, and a handler typed by both. */
export interface RouteDefinition<Q extends z.ZodType, R extends z.ZodType | null> {
  readonly id: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly summary: string;
  readonly query: Q;
  readonly response: R;
  /** @default 200 */
  readonly status?: number;
  /** @default true */
  readonly authenticated?: boolean;
  /** @default true */
  readonly store?: boolean;
  /** A property, not a method: method parameters are bivariant, which would let a mistyped handler through. */
  readonly handle: (context: RouteContext<z.output<Q>>) => Promise<Body<R>>;
}

/**
 * Turns a definition into a {@link Route}. The query is parsed here, by the route's own schema, and
 * handed to the handler as that schema's output type — so a handler reading a parameter as the
 * wrong type does not compile (test/types/routes.types.ts), and nothing is cast on the way.
 */
export function defineRoute<Q extends z.ZodType, R extends z.ZodType | null>(
  def: RouteDefinition<Q, R>,
): Route {
  return {
    id: def.id,
    method: def.method,
    path: def.path,
    summary: def.summary,
    query: def.query,
    response: def.response,
    status: def.status ?? 200,
    authenticated: def.authenticated ?? true,
    store: def.store ?? true,
    async run(rawQuery, context) {
      const parsed = def.query.safeParse(rawQuery);
      // Query schemas are plain objects of parameters, so the first issue names its parameter.
      if (!parsed.success)
        throw new BadRequestError(`invalid query parameter ${describeFirstIssue(parsed.error)}`);
      const body = await def.handle({ ...context, query: parsed.data });
      return { status: def.status ?? 200, body };
    },
  };
}

const NoQuerySchema = z.object({});
const DAY_MS = 86_400_000;

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
    const found = await reads.findCluster(sql, name);
    if (found === null) throw new NotFoundError(`unknown cluster "${name}"`);
    return found;
  }
  const first = await reads.listClusters(sql, { limit: 2 });
  if (first.length === 0) return { name: 'local', id: null };
  if (first.length === 1 && first[0] !== undefined) return first[0];
  const local = first.find((c) => c.name === 'local') ?? (await reads.findCluster(sql, 'local'));
  if (local !== null) return local;
  const clusters = await reads.listClusters(sql);
  throw new BadRequestError(
    `several clusters are watched (${clusters.map((c) => c.name).join(', ')}): pass ?cluster=`,
  );
}

/**
 * What a range query asks the store for: `[start, end)` — both given, or ending now, or a day
 * before the end — and the limit and step when given.
 */
function rangeOf(
  query: { start?: number; end?: number; limit?: number; step?: number },
  now: number,
): { from: number; to: number; limit?: number; stepMs?: number } {
  const to = query.end ?? now;
  const from = query.start ?? to - DAY_MS;
  if (from >= to) throw new BadRequestError('start must be before end');
  return {
    from,
    to,
    ...(query.limit === undefined ? {} : { limit: query.limit }),
    ...(query.step === undefined ? {} : { stepMs: query.step }),
  };
}

/** The range an answer covers, as every range endpoint reports it. */
const answered = ({ from, to }: { from: number; to: number }) => ({
  start: new Date(from).toISOString(),
  end: new Date(to).toISOString(),
});

/** What a route over one cluster's data gets besides its query: the open store and the cluster. */
export interface ClusterContext<Query> extends RouteContext<Query> {
  readonly db: Sql;
  readonly cluster: ClusterRef;
}

/**
 * A GET route over one cluster's data: the store is opened and `?cluster=` resolved (404, 400 or
 * the default, see `resolveCluster`) before the handler runs, the same way for every such route.
 */
function clusterRoute<Q extends z.ZodType<{ cluster?: string | undefined }>, R extends z.ZodType>(
  def: Omit<RouteDefinition<Q, R>, 'method' | 'handle'> & {
    readonly handle: (context: ClusterContext<z.output<Q>>) => Promise<Body<R>>;
  },
): Route {
  return defineRoute({
    ...def,
    method: 'GET',
    handle: async (context) => {
      const db = await context.sql();
      const cluster = await resolveCluster(db, context.query.cluster);
      return def.handle({ ...context, db, cluster });
    },
  });
}

/**
 * A view of the newest stored evaluation (none before the first), judged for staleness; with
 * `narratives`, also the service narratives of the newest assessment (a second read, and only
 * for the view that shows them).
 */
function newestEvaluationRoute<R extends z.ZodType>(
  id: string,
  path: string,
  summary: string,
  response: R,
  view: (
    cluster: string,
    stored: StoredEvaluation | null,
    now: number,
    staleness: StalenessPolicy,
    narratives: AssessmentDetails['narratives'],
  ) => Body<R>,
  { narratives = false }: { readonly narratives?: boolean } = {},
): Route {
  return clusterRoute({
    id,
    path,
    summary,
    query: ClusterQuerySchema,
    response,
    handle: async ({ db, cluster, now, staleness }) => {
      if (cluster.id === null) return view(cluster.name, null, now, staleness, {});
      if (!narratives)
        return view(cluster.name, await reads.latestEvaluation(db, cluster.id), now, staleness, {});
      const latest = await reads.latestStatus(db, cluster.id);
      const told = latest.assessment?.details.narratives ?? {};
      return view(cluster.name, latest.evaluation, now, staleness, told);
    },
  });
}

/** The routes the API serves. The router (`lambda/api.ts`) and `/openapi.json` read this table. */
export const ROUTES: readonly Route[] = [
  clusterRoute({
    id: 'status',
    path: '/status',
    summary: 'Health state (judged for staleness), signals, log patterns and recommended actions',
    query: ClusterQuerySchema,
    response: StatusResponseSchema,
    async handle({ db, cluster, now, staleness }) {
      const base = { cluster: cluster.name, now, staleness };
      if (cluster.id === null)
        return toStatusResponse({
          ...base,
          evaluation: null,
          assessment: null,
          issues: [],
          logPatterns: [],
        });
      const [latest, logPatterns] = await Promise.all([
        reads.latestStatus(db, cluster.id),
        reads.recentLogPatterns(db, { clusterId: cluster.id }),
      ]);
      const issues =
        latest.assessment === null ? [] : await reads.issuesOfAssessment(db, latest.assessment.id);
      return toStatusResponse({ ...base, ...latest, issues, logPatterns });
    },
  }),
  newestEvaluationRoute(
    'services',
    '/status/services',
    "The engine's per-service health",
    ServicesResponseSchema,
    toServicesResponse,
    { narratives: true },
  ),
  clusterRoute({
    id: 'issues',
    path: '/status/issues',
    summary: 'Issues of the newest assessment, most severe first',
    query: IssuesQuerySchema,
    response: IssuesResponseSchema,
    async handle({ db, cluster, query }) {
      const latest = cluster.id === null ? null : await reads.latestAssessment(db, cluster.id);
      const issues =
        latest === null
          ? []
          : await reads.issuesOfAssessment(db, latest.id, {
              ...(query.severity === undefined ? {} : { severity: query.severity }),
              ...(query.limit === undefined ? {} : { limit: query.limit }),
            });
      return toIssuesResponse(cluster.name, latest, issues);
    },
  }),
  clusterRoute({
    id: 'summary',
    path: '/status/summary',
    summary: "The newest assessment's summary, or why the state is stale",
    query: ClusterQuerySchema,
    response: SummaryResponseSchema,
    async handle({ db, cluster, now, staleness }) {
      const id = cluster.id;
      // Usage since 00:00 UTC of the request's day: what the copilot spent on words today.
      const midnight = now - (now % 86_400_000);
      const [latest, usage] =
        id === null
          ? [null, NO_USAGE]
          : await Promise.all([
              reads.latestStatus(db, id),
              reads.explainerUsageSince(db, id, midnight),
            ]);
      return toSummaryResponse(
        cluster.name,
        latest?.evaluation ?? null,
        latest?.assessment ?? null,
        now,
        staleness,
        usage,
      );
    },
  }),
  clusterRoute({
    id: 'timeline',
    path: '/status/timeline',
    summary:
      'The newest stored cycles (or state changes, or step buckets) in [start, end); default the last 24 h',
    query: TimelineQuerySchema,
    response: TimelineResponseSchema,
    async handle({ db, cluster, query, now }) {
      const asked = rangeOf(query, now);
      const changesOnly = query.changes_only === 'true';
      const read =
        cluster.id === null
          ? { points: [], truncated: false, stepMs: null }
          : await reads.evaluationTimeline(db, { clusterId: cluster.id, changesOnly, ...asked });
      return toTimelineResponse(cluster.name, { ...answered(asked), ...read }, read.points);
    },
  }),
  clusterRoute({
    id: 'signals',
    path: '/status/signals',
    summary: 'Sparkline series of up to 12 signals in [start, end), newest kept; default 24 h',
    query: SignalsQuerySchema,
    response: SignalsResponseSchema,
    async handle({ db, cluster, query, now }) {
      const asked = rangeOf(query, now);
      const read =
        cluster.id === null
          ? { series: {}, truncated: false, stepMs: null }
          : await reads.signalSeries(db, { clusterId: cluster.id, signalIds: query.ids, ...asked });
      const answer = { ...answered(asked), ...read };
      return toSignalsResponse(cluster.name, answer, query.ids, read.series);
    },
  }),
  clusterRoute({
    id: 'log-patterns',
    path: '/status/log-patterns',
    summary: 'Log-pattern counts: the newest window, or every window since `since`',
    query: LogPatternsQuerySchema,
    response: LogPatternsResponseSchema,
    async handle({ db, cluster, query }) {
      const rows =
        cluster.id === null
          ? []
          : await reads.recentLogPatterns(db, {
              clusterId: cluster.id,
              ...(query.since === undefined ? {} : { since: query.since }),
              ...(query.limit === undefined ? {} : { limit: query.limit }),
            });
      return toLogPatternsResponse(cluster.name, rows);
    },
  }),
  newestEvaluationRoute(
    'gates',
    '/status/gates',
    'Every gate of the newest evaluation, with its state judged for staleness',
    GatesResponseSchema,
    toGatesResponse,
  ),
  defineRoute({
    id: 'clusters',
    method: 'GET',
    path: '/clusters',
    summary: 'The watched clusters, each with its current state judged for staleness',
    query: NoQuerySchema,
    response: ClustersResponseSchema,
    async handle({ now, staleness, sql }) {
      return toClustersResponse(await reads.listClustersWithLatest(await sql()), now, staleness);
    },
  }),
  defineRoute({
    id: 'openapi',
    method: 'GET',
    path: '/openapi.json',
    summary: 'This document',
    query: NoQuerySchema,
    response: null,
    authenticated: false,
    store: false,
    async handle() {
      return openApi();
    },
  }),
  defineRoute({
    id: 'actions',
    method: 'POST',
    path: '/actions',
    summary: 'Automated remediation: not implemented',
    query: NoQuerySchema,
    response: NotImplementedResponseSchema,
    status: 501,
    store: false,
    async handle() {
      return {
        error: 'Not implemented',
        message: 'Automated remediation is planned for a future release.',
      };
    },
  }),
];

// The document is the same for the container's life: build it once, on first use.
let openApiCache: Record<string, unknown> | null = null;
function openApi(): Record<string, unknown> {
  openApiCache ??= openApiDocument(ROUTES);
  return openApiCache;
}
