import type { Sql } from 'postgres';
import { z } from 'zod';
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
import type { StalenessPolicy } from '../shared/models/freshness.js';
import {
  evaluationTimeline,
  findCluster,
  issuesOfAssessment,
  latestAssessment,
  latestEvaluation,
  latestStatus,
  listClusters,
  listClustersWithLatest,
  recentLogPatterns,
  signalSeries,
} from '../shared/store/reads.js';
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

/** `[start, end)`: both given, or ending now, or a day before the end. */
function range(query: { start?: number; end?: number }, now: number): { from: number; to: number } {
  const to = query.end ?? now;
  const from = query.start ?? to - DAY_MS;
  if (from >= to) throw new BadRequestError('start must be before end');
  return { from, to };
}

const isoOf = (ms: number) => new Date(ms).toISOString();

/** The routes the API serves. The router (`lambda/api.ts`) and `/openapi.json` read this table. */
export const ROUTES: readonly Route[] = [
  defineRoute({
    id: 'status',
    method: 'GET',
    path: '/status',
    summary: 'Health state (judged for staleness), signals, log patterns and recommended actions',
    query: ClusterQuerySchema,
    response: StatusResponseSchema,
    async handle({ query, now, staleness, sql }) {
      const db = await sql();
      const c = await resolveCluster(db, query.cluster);
      const base = { cluster: c.name, now, staleness };
      if (c.id === null)
        return toStatusResponse({
          ...base,
          evaluation: null,
          assessment: null,
          issues: [],
          logPatterns: [],
        });
      const [latest, logPatterns] = await Promise.all([
        latestStatus(db, c.id),
        recentLogPatterns(db, { clusterId: c.id }),
      ]);
      const issues =
        latest.assessment === null ? [] : await issuesOfAssessment(db, latest.assessment.id);
      return toStatusResponse({
        ...base,
        evaluation: latest.evaluation,
        assessment: latest.assessment,
        issues,
        logPatterns,
      });
    },
  }),
  defineRoute({
    id: 'services',
    method: 'GET',
    path: '/status/services',
    summary: "The engine's per-service health",
    query: ClusterQuerySchema,
    response: ServicesResponseSchema,
    async handle({ query, now, staleness, sql }) {
      const db = await sql();
      const c = await resolveCluster(db, query.cluster);
      const stored = c.id === null ? null : await latestEvaluation(db, c.id);
      return toServicesResponse(c.name, stored, now, staleness);
    },
  }),
  defineRoute({
    id: 'issues',
    method: 'GET',
    path: '/status/issues',
    summary: 'Issues of the newest assessment, most severe first',
    query: IssuesQuerySchema,
    response: IssuesResponseSchema,
    async handle({ query, sql }) {
      const db = await sql();
      const c = await resolveCluster(db, query.cluster);
      const latest = c.id === null ? null : await latestAssessment(db, c.id);
      const issues =
        latest === null
          ? []
          : await issuesOfAssessment(db, latest.id, {
              ...(query.severity === undefined ? {} : { severity: query.severity }),
              ...(query.limit === undefined ? {} : { limit: query.limit }),
            });
      return toIssuesResponse(c.name, latest, issues);
    },
  }),
  defineRoute({
    id: 'summary',
    method: 'GET',
    path: '/status/summary',
    summary: "The newest assessment's summary, or why the state is stale",
    query: ClusterQuerySchema,
    response: SummaryResponseSchema,
    async handle({ query, now, staleness, sql }) {
      const db = await sql();
      const c = await resolveCluster(db, query.cluster);
      const latest = c.id === null ? null : await latestStatus(db, c.id);
      return toSummaryResponse(
        c.name,
        latest?.evaluation ?? null,
        latest?.assessment ?? null,
        now,
        staleness,
      );
    },
  }),
  defineRoute({
    id: 'timeline',
    method: 'GET',
    path: '/status/timeline',
    summary:
      'The newest stored cycles (or state changes, or step buckets) in [start, end); default the last 24 h',
    query: TimelineQuerySchema,
    response: TimelineResponseSchema,
    async handle({ query, now, sql }) {
      const db = await sql();
      const c = await resolveCluster(db, query.cluster);
      const { from, to } = range(query, now);
      const read =
        c.id === null
          ? { points: [], truncated: false, stepMs: null }
          : await evaluationTimeline(db, {
              clusterId: c.id,
              from,
              to,
              changesOnly: query.changes_only === 'true',
              ...(query.limit === undefined ? {} : { limit: query.limit }),
              ...(query.step === undefined ? {} : { stepMs: query.step }),
            });
      return toTimelineResponse(
        c.name,
        { start: isoOf(from), end: isoOf(to), truncated: read.truncated, stepMs: read.stepMs },
        read.points,
      );
    },
  }),
  defineRoute({
    id: 'signals',
    method: 'GET',
    path: '/status/signals',
    summary: 'Sparkline series of up to 12 signals in [start, end), newest kept; default 24 h',
    query: SignalsQuerySchema,
    response: SignalsResponseSchema,
    async handle({ query, now, sql }) {
      const unknown = query.ids.find((id) => !isKnownSignal(id));
      if (unknown !== undefined)
        throw new BadRequestError(`invalid query parameter ids: unknown signal "${unknown}"`);
      const db = await sql();
      const c = await resolveCluster(db, query.cluster);
      const { from, to } = range(query, now);
      const read =
        c.id === null
          ? { series: {}, truncated: false, stepMs: null }
          : await signalSeries(db, {
              clusterId: c.id,
              signalIds: query.ids,
              from,
              to,
              ...(query.limit === undefined ? {} : { limit: query.limit }),
              ...(query.step === undefined ? {} : { stepMs: query.step }),
            });
      return toSignalsResponse(
        c.name,
        { start: isoOf(from), end: isoOf(to), truncated: read.truncated, stepMs: read.stepMs },
        query.ids,
        read.series,
      );
    },
  }),
  defineRoute({
    id: 'log-patterns',
    method: 'GET',
    path: '/status/log-patterns',
    summary: 'Log-pattern counts: the newest window, or every window since `since`',
    query: LogPatternsQuerySchema,
    response: LogPatternsResponseSchema,
    async handle({ query, sql }) {
      const db = await sql();
      const c = await resolveCluster(db, query.cluster);
      const rows =
        c.id === null
          ? []
          : await recentLogPatterns(db, {
              clusterId: c.id,
              ...(query.since === undefined ? {} : { since: query.since }),
              ...(query.limit === undefined ? {} : { limit: query.limit }),
            });
      return toLogPatternsResponse(c.name, rows);
    },
  }),
  defineRoute({
    id: 'gates',
    method: 'GET',
    path: '/status/gates',
    summary: 'Every gate of the newest evaluation, with its state judged for staleness',
    query: ClusterQuerySchema,
    response: GatesResponseSchema,
    async handle({ query, now, staleness, sql }) {
      const db = await sql();
      const c = await resolveCluster(db, query.cluster);
      const stored = c.id === null ? null : await latestEvaluation(db, c.id);
      return toGatesResponse(c.name, stored, now, staleness);
    },
  }),
  defineRoute({
    id: 'clusters',
    method: 'GET',
    path: '/clusters',
    summary: 'The watched clusters, each with its current state judged for staleness',
    query: NoQuerySchema,
    response: ClustersResponseSchema,
    async handle({ now, staleness, sql }) {
      return toClustersResponse(await listClustersWithLatest(await sql()), now, staleness);
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
