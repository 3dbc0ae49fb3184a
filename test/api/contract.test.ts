import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type LocalApi, startLocalApi } from '../../lambda/local-server.js';
import { ROUTES } from '../../shared/api/routes.js';
import { ProblemSchema } from '../../shared/api/schemas.js';
import { type SeededStore, silentLogger, startSeededStore, TEST_API_KEY } from './support.js';

type OpenApi = {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, ResponseObject> }>>;
  components: { schemas: Record<string, Record<string, unknown>> };
};
type ResponseObject = { content?: Record<string, { schema?: Record<string, unknown> }> };

/** The request each documented operation is exercised with, chosen so it returns data. */
const CALLS: ReadonlyArray<readonly [string, string, string]> = [
  ['GET', '/status', ''],
  ['GET', '/status', '?cluster=empty'],
  ['GET', '/status/services', ''],
  ['GET', '/status/services', '?cluster=empty'],
  ['GET', '/status/issues', '?limit=2'],
  ['GET', '/status/summary', '?cluster=empty'],
  ['GET', '/status/summary', ''],
  ['GET', '/status/timeline', '?start=2026-11-28T12:00:00Z&end=2026-11-28T13:00:00Z'],
  ['GET', '/status/timeline', '?start=0&changes_only=true'],
  [
    'GET',
    '/status/signals',
    '?ids=state_transitions.throughput_per_sec,pool.utilization_pct&start=2026-11-28T12:00:00Z&end=2026-11-28T13:00:00Z',
  ],
  ['GET', '/status/log-patterns', '?since=2026-11-28T00:00:00Z'],
  ['GET', '/status/gates', ''],
  ['GET', '/clusters', ''],
  ['GET', '/openapi.json', ''],
  ['POST', '/actions', ''],
  // Error responses must match the documented problem schema too.
  ['GET', '/status', '?cluster=nope'],
  ['GET', '/status/issues', '?severity=fatal'],
  ['GET', '/status/timeline', '?start=2026-11-28T13:00:00Z&end=2026-11-28T12:00:00Z'],
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
  let seeded: SeededStore;
  let api: LocalApi;
  let doc: OpenApi;

  beforeAll(async () => {
    seeded = await startSeededStore();
    api = await startLocalApi({
      store: seeded.store,
      port: 0,
      apiKey: TEST_API_KEY,
      logger: silentLogger,
    });
    doc = (await (await fetch(`${api.url}/openapi.json`)).json()) as OpenApi;
  });
  afterAll(async () => {
    await api?.close();
    await seeded?.stop();
  });

  it('documents every route the router serves, and nothing else', () => {
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
  });

  it.each(CALLS)(
    '%s %s%s matches its documented schema and the zod schema',
    async (method, path, query) => {
      const res = await fetch(`${api.url}${path}${query}`, {
        method,
        headers: { 'x-api-key': TEST_API_KEY },
      });
      const body: unknown = await res.json();
      const published = validatorFor(doc, path, method, res.status);
      const result = published.safeParse(body);
      expect(result.success, JSON.stringify(result.error?.issues[0])).toBe(true);
      const route = ROUTES.find((r) => r.path === path && r.method === method);
      const zodSchema = res.status === route?.status ? route.response : ProblemSchema;
      if (zodSchema !== null) expect(zodSchema.parse(body)).toBeDefined();
      // 501 is the documented answer of POST /actions; no other 5xx may appear with the store up.
      if (route?.status !== 501) expect(res.status).toBeLessThan(500);
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
