import * as z from 'zod';
import { ProblemSchema } from './schemas.js';

/**
 * What the router and the OpenAPI document need to know of a route. The route table itself, with
 * each route's handler, is in `lambda/routes.ts` (handlers do I/O; this module stays pure): one
 * table generates both, so a route cannot be served undocumented or documented unserved.
 */
export interface RouteMeta {
  /** The OpenAPI operation id. */
  readonly id: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly summary: string;
  /** The query's zod schema (strings in, parsed values out); an empty object for none. */
  readonly query: z.ZodType;
  /** The body's zod schema; null only for `/openapi.json` itself. */
  readonly response: z.ZodType | null;
  /** HTTP status of a successful response. */
  readonly status: number;
  /** False only for `/openapi.json`, which documents the API and holds no data. */
  readonly authenticated: boolean;
  /** Whether answering needs the store (routes that do not answer even when it is down). */
  readonly store: boolean;
}

// A trailing slash is forgiven: Grafana users paste URLs both ways.
const normalise = (path: string) =>
  path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;

/** The route for a method and path, `'method'` when the path exists with other methods, or null. */
export function matchRoute<R extends RouteMeta>(
  routes: readonly R[],
  method: string,
  path: string,
): R | 'method' | null {
  const at = routes.filter((r) => r.path === normalise(path));
  if (at.length === 0) return null;
  return at.find((r) => r.method === method.toUpperCase()) ?? 'method';
}

/** The methods served on a path (the `Allow` header of a 405). */
export function allowedMethods(routes: readonly RouteMeta[], path: string): string[] {
  return routes.filter((r) => r.path === normalise(path)).map((r) => r.method);
}

function queryParameters(schema: z.ZodType) {
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
export function openApiDocument(routes: readonly RouteMeta[]): Record<string, unknown> {
  const problem = {
    description: 'Problem details (RFC 9457)',
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const parameters = queryParameters(r.query);
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
        parameters,
        ...(r.authenticated ? {} : { security: [] }),
        responses: {
          [String(r.status)]: ok,
          ...(parameters.length === 0 ? {} : { '400': problem }),
          ...(r.authenticated ? { '401': problem } : {}),
          ...(r.store && parameters.length > 0 ? { '404': problem } : {}),
          ...(r.store ? { '500': problem, '503': problem } : { '500': problem }),
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
        'Reads what the health engine and the explainers stored; computes nothing. See docs/api.md. ' +
        "Every read of the current state judges the newest evaluation's age: past the staleness " +
        'limit (3 observer intervals, at least 60 s) the state is `unknown` with reason `stale`. ' +
        'Range reads are capped: /status/timeline returns at most 10,000 rows and /status/signals ' +
        'at most 5,000 points per signal and 20,000 in all, always the newest of the range ' +
        '(`truncated: true` when older ones were left out), downsampled to a `step` when the ' +
        'range holds more cycles than the limit; no body exceeds about 3.5 MB.',
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
