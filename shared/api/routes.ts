import { z } from 'zod';
import {
  ClusterQuerySchema,
  ClustersResponseSchema,
  GatesResponseSchema,
  IssuesQuerySchema,
  IssuesResponseSchema,
  LogPatternsQuerySchema,
  LogPatternsResponseSchema,
  NotImplementedResponseSchema,
  ProblemSchema,
  ServicesResponseSchema,
  SignalsQuerySchema,
  SignalsResponseSchema,
  StatusResponseSchema,
  SummaryResponseSchema,
  TimelineQuerySchema,
  TimelineResponseSchema,
} from './schemas.js';

/** The routes the API serves. The router and `/openapi.json` both read this one table. */
export const ROUTE_IDS = [
  'status',
  'services',
  'issues',
  'summary',
  'timeline',
  'signals',
  'log-patterns',
  'gates',
  'clusters',
  'openapi',
  'actions',
] as const;
export type RouteId = (typeof ROUTE_IDS)[number];

/** One route: how it is matched, what query it takes, what it returns. */
export interface RouteDef {
  readonly id: RouteId;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly summary: string;
  readonly query: z.ZodType | null;
  readonly response: z.ZodType | null;
  /** HTTP status of a successful response. */
  readonly status: number;
  /** False only for `/openapi.json`, which documents the API and holds no data. */
  readonly authenticated: boolean;
}

const get = (
  id: RouteId,
  path: string,
  summary: string,
  query: z.ZodType | null,
  response: z.ZodType | null,
  authenticated = true,
): RouteDef => ({ id, method: 'GET', path, summary, query, response, status: 200, authenticated });

export const ROUTES: readonly RouteDef[] = [
  get(
    'status',
    '/status',
    'Health state, signals, log patterns and recommended actions',
    ClusterQuerySchema,
    StatusResponseSchema,
  ),
  get(
    'services',
    '/status/services',
    "The engine's per-service health",
    ClusterQuerySchema,
    ServicesResponseSchema,
  ),
  get(
    'issues',
    '/status/issues',
    'Issues of the newest assessment, most severe first',
    IssuesQuerySchema,
    IssuesResponseSchema,
  ),
  get(
    'summary',
    '/status/summary',
    "The newest assessment's summary",
    ClusterQuerySchema,
    SummaryResponseSchema,
  ),
  get(
    'timeline',
    '/status/timeline',
    'Every stored cycle (or only state changes) in [start, end); default the last 24 h',
    TimelineQuerySchema,
    TimelineResponseSchema,
  ),
  get(
    'signals',
    '/status/signals',
    'Sparkline series of up to 12 signals in [start, end); default the last 24 h',
    SignalsQuerySchema,
    SignalsResponseSchema,
  ),
  get(
    'log-patterns',
    '/status/log-patterns',
    'Log-pattern counts: the newest window, or every window since `since`',
    LogPatternsQuerySchema,
    LogPatternsResponseSchema,
  ),
  get(
    'gates',
    '/status/gates',
    'Every gate of the newest evaluation',
    ClusterQuerySchema,
    GatesResponseSchema,
  ),
  get('clusters', '/clusters', 'The watched clusters', null, ClustersResponseSchema),
  get('openapi', '/openapi.json', 'This document', null, null, false),
  {
    id: 'actions',
    method: 'POST',
    path: '/actions',
    summary: 'Automated remediation: not implemented',
    query: null,
    response: NotImplementedResponseSchema,
    status: 501,
    authenticated: true,
  },
];

const BY_PATH: ReadonlyMap<string, readonly RouteDef[]> = (() => {
  const m = new Map<string, RouteDef[]>();
  for (const r of ROUTES) m.set(r.path, [...(m.get(r.path) ?? []), r]);
  return m;
})();

/** The route for a method and path, `'method'` when the path exists with other methods, or null. */
// A trailing slash is forgiven: Grafana users paste URLs both ways.
const routesAt = (path: string) =>
  BY_PATH.get(path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path);

export function matchRoute(method: string, path: string): RouteDef | 'method' | null {
  const routes = routesAt(path);
  if (routes === undefined) return null;
  return routes.find((r) => r.method === method.toUpperCase()) ?? 'method';
}

/** The methods served on a path (the `Allow` header of a 405). */
export function allowedMethods(path: string): string[] {
  return (routesAt(path) ?? []).map((r) => r.method);
}

function queryParameters(schema: z.ZodType | null) {
  if (schema === null) return [];
  const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }) as {
    properties?: Record<string, unknown>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: 'query',
    required: json.required?.includes(name) ?? false,
    schema: s,
  }));
}

function responseSchema(schema: z.ZodType) {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    io: 'output',
    target: 'draft-2020-12',
  }) as Record<string, unknown>;
  return rest;
}

/**
 * The OpenAPI 3.1 document, generated from the zod schemas (JSON Schema 2020-12, which OpenAPI
 * 3.1 uses as is). Responses are in output mode with `additionalProperties: false`, so an
 * undocumented field fails the contract test.
 */
export function openApiDocument(): Record<string, unknown> {
  const problem = {
    description: 'Problem details (RFC 9457)',
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const ok =
      r.response === null
        ? { description: 'The OpenAPI document', content: { 'application/json': {} } }
        : {
            description: r.status === 501 ? 'Not implemented' : 'OK',
            content: { 'application/json': { schema: responseSchema(r.response) } },
          };
    paths[r.path] = {
      ...paths[r.path],
      [r.method.toLowerCase()]: {
        operationId: r.id,
        summary: r.summary,
        parameters: queryParameters(r.query),
        ...(r.authenticated ? {} : { security: [] }),
        responses: {
          [String(r.status)]: ok,
          ...(r.query === null ? {} : { '400': problem }),
          ...(r.authenticated ? { '401': problem } : {}),
          ...(r.query === null ? {} : { '404': problem }),
          '500': problem,
          '503': problem,
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Temporal SRE Copilot API',
      version: '0.1.0',
      description:
        'Reads what the health engine and the explainers stored; computes nothing. See docs/api.md.',
    },
    security: [{ apiKey: [] }, { sigv4: [] }],
    components: {
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        sigv4: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: 'AWS SigV4, service execute-api (API Gateway IAM authorization)',
        },
      },
      schemas: { Problem: responseSchema(ProblemSchema) },
    },
    paths,
  };
}
