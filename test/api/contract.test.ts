import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import type { LocalApi } from '../../lambda/local-server.js';
import { ROUTES } from '../../lambda/routes.js';
import { ProblemSchema } from '../../shared/api/schemas.js';
import { type SeededApi, startSeededApi, TEST_API_KEY } from './support.js';

type OpenApi = {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, ResponseObject> }>>;
  components: { schemas: Record<string, Record<string, unknown>> };
};
type ResponseObject = { content?: Record<string, { schema?: Record<string, unknown> }> };

/** A request each documented operation is exercised with, and what it must answer. */
interface Call {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  /** The status the call must answer: a schema check of an unexpected error proves nothing. */
  readonly status: number;
  /** The body's array that must carry the seeded data, and its least length. */
  readonly items?: readonly [key: string, min: number];
}

/** Bounds around the seeded run (T0 = 2026-11-28T12:00Z, 20 cycles), so no call reads the clock. */
const SEEDED = 'start=2026-11-28T12:00:00Z&end=2026-11-28T13:00:00Z';

const CALLS: readonly Call[] = [
  { method: 'GET', path: '/status', query: '', status: 200, items: ['gates', 1] },
  { method: 'GET', path: '/status', query: '?cluster=empty', status: 200 },
  { method: 'GET', path: '/status/services', query: '', status: 200, items: ['services', 5] },
  { method: 'GET', path: '/status/services', query: '?cluster=empty', status: 200 },
  { method: 'GET', path: '/status/issues', query: '?limit=2', status: 200, items: ['issues', 2] },
  { method: 'GET', path: '/status/summary', query: '?cluster=empty', status: 200 },
  { method: 'GET', path: '/status/summary', query: '', status: 200 },
  {
    method: 'GET',
    path: '/status/timeline',
    query: `?${SEEDED}`,
    status: 200,
    items: ['timeline', 20],
  },
  // happy → stressed → happy: the three changes of the seeded run.
  {
    method: 'GET',
    path: '/status/timeline',
    query: `?${SEEDED}&changes_only=true`,
    status: 200,
    items: ['timeline', 3],
  },
  {
    method: 'GET',
    path: '/status/signals',
    query: `?ids=state_transitions.throughput_per_sec,pool.utilization_pct&${SEEDED}`,
    status: 200,
    items: ['points', 40],
  },
  {
    method: 'GET',
    path: '/status/log-patterns',
    query: '?since=2026-11-28T00:00:00Z',
    status: 200,
    items: ['log_patterns', 3],
  },
  { method: 'GET', path: '/status/gates', query: '', status: 200, items: ['gates', 1] },
  { method: 'GET', path: '/clusters', query: '', status: 200, items: ['clusters', 2] },
  { method: 'GET', path: '/openapi.json', query: '', status: 200 },
  { method: 'POST', path: '/actions', query: '', status: 501 },
  // Error responses must match the documented problem schema too.
  { method: 'GET', path: '/status', query: '?cluster=nope', status: 404 },
  { method: 'GET', path: '/status/issues', query: '?severity=fatal', status: 400 },
  {
    method: 'GET',
    path: '/status/timeline',
    query: '?start=2026-11-28T13:00:00Z&end=2026-11-28T12:00:00Z',
    status: 400,
  },
];

/** The published schema of one response, as a validator built from the document itself. */
function validatorFor(doc: OpenApi, path: string, method: string, status: number): z.ZodType {
  const response = doc.paths[path]?.[method.toLowerCase()]?.responses[String(status)];
  expect(response, `${method} ${path} documents ${status}`).toBeDefined();
  const content = response?.content ?? {};
  const media = content['application/json'] ?? content['application/problem+json'];
  const schema = media?.schema;
  if (schema === undefined) return z.unknown();
  const resolved =
    schema.$ref === '#/components/schemas/Problem' ? doc.components.schemas.Problem : schema;
  return z.fromJSONSchema(resolved as never);
}

describe('contract: every response validates against the published OpenAPI', () => {
  let server: SeededApi;
  let api: LocalApi;
  let doc: OpenApi;

  beforeAll(async () => {
    server = await startSeededApi();
    ({ api } = server);
    doc = (await (await fetch(`${api.url}/openapi.json`)).json()) as OpenApi;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('documents every route the router serves, and nothing else', () => {
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
  });

  it.each(CALLS)(
    '$method $path $query answers $status, matching its documented schema and the zod schema',
    async ({ method, path, query, status, items }) => {
      const res = await fetch(`${api.url}${path}${query}`, {
        method,
        headers: { 'x-api-key': TEST_API_KEY },
      });
      const body: unknown = await res.json();
      expect(res.status, JSON.stringify(body)).toBe(status);
      const published = validatorFor(doc, path, method, status);
      const result = published.safeParse(body);
      expect(result.success, JSON.stringify(result.error?.issues[0])).toBe(true);
      const route = ROUTES.find((r) => r.path === path && r.method === method);
      expect(route, `${method} ${path} is routed`).toBeDefined();
      const zodSchema = status === route?.status ? route.response : ProblemSchema;
      if (zodSchema !== null) {
        const parsed = zodSchema.safeParse(body);
        expect(parsed.success, JSON.stringify(parsed.error?.issues[0])).toBe(true);
      }
      if (items !== undefined) {
        const [key, min] = items;
        const list = (body as Record<string, unknown>)[key];
        expect(Array.isArray(list), `${key} is an array`).toBe(true);
        expect((list as unknown[]).length, key).toBeGreaterThanOrEqual(min);
      }
    },
  );

  it('catches a response that drifts from the document (the check can fail)', async () => {
    const res = await fetch(`${api.url}/status`, { headers: { 'x-api-key': TEST_API_KEY } });
    const body = (await res.json()) as Record<string, unknown>;
    const published = validatorFor(doc, '/status', 'GET', 200);
    expect(published.safeParse(body).success).toBe(true);
    expect(published.safeParse({ ...body, undocumented: 1 }).success).toBe(false);
    expect(published.safeParse({ ...body, health_state: 'fine' }).success).toBe(false);
    const { issue_count: _, ...missing } = body;
    expect(published.safeParse(missing).success).toBe(false);
    expect(published.safeParse({ ...body, primary_signals: { a: { b: '0' } } }).success).toBe(
      false,
    );
  });
});
