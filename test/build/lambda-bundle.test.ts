import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { ROUTES } from '../../lambda/routes.js';
import { type BundleReport, buildLambdas } from '../../scripts/build.js';
import { ProblemSchema } from '../../shared/api/schemas.js';
import { type SeededStore, startSeededStore, TEST_API_KEY } from '../api/support.js';
import { LAMBDA_EMULATOR } from './lambda-emulator.js';
import { type NodeProcess, startNode } from './node-process.js';

/*
 * The API Lambda as deployed: `npm run build`'s dist/lambda/api/index.mjs (bundled as
 * lib/bundled-function.ts bundles it), imported by a plain `node` process with only its Lambda
 * environment, and driven through API Gateway HTTP API (payload v2) events by a minimal runtime
 * emulator in that process. Every route answers what the OpenAPI document it serves says, over
 * a seeded PostgreSQL.
 */

interface Call {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly query: string;
  readonly status: number;
  readonly key?: string | null;
}

const SEEDED = 'start=2026-11-28T12:00:00Z&end=2026-11-28T13:00:00Z';

/** One call per route (a new route must be added here), then the documented failures. */
const CALLS: readonly Call[] = [
  { method: 'GET', path: '/status', query: '', status: 200 },
  { method: 'GET', path: '/status/services', query: '', status: 200 },
  { method: 'GET', path: '/status/issues', query: '?limit=2', status: 200 },
  { method: 'GET', path: '/status/summary', query: '', status: 200 },
  { method: 'GET', path: '/status/timeline', query: `?${SEEDED}`, status: 200 },
  {
    method: 'GET',
    path: '/status/signals',
    query: `?ids=state_transitions.throughput_per_sec&${SEEDED}`,
    status: 200,
  },
  {
    method: 'GET',
    path: '/status/log-patterns',
    query: '?since=2026-11-28T00:00:00Z',
    status: 200,
  },
  { method: 'GET', path: '/status/gates', query: '', status: 200 },
  { method: 'GET', path: '/clusters', query: '', status: 200 },
  { method: 'GET', path: '/openapi.json', query: '', status: 200 },
  { method: 'POST', path: '/actions', query: '', status: 501 },
  { method: 'GET', path: '/status', query: '?cluster=nope', status: 404 },
  { method: 'GET', path: '/status/issues', query: '?severity=fatal', status: 400 },
  { method: 'GET', path: '/status', query: '', status: 401, key: null },
];

type OpenApi = {
  paths: Record<string, Record<string, { responses: Record<string, ResponseObject> }>>;
  components: { schemas: Record<string, Record<string, unknown>> };
};
type ResponseObject = { content?: Record<string, { schema?: Record<string, unknown> }> };

let out: string;
let api: BundleReport;
let seeded: SeededStore;
let lambda: NodeProcess;
let url: string;
let doc: OpenApi;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'copilot-build-lambda-'));
  const [built, store] = await Promise.all([
    buildLambdas(out, { entries: { api: 'lambda/api.ts' } }),
    startSeededStore(),
  ]);
  seeded = store;
  api = built.api as BundleReport;
  lambda = startNode(['--input-type=module', '-e', LAMBDA_EMULATOR], {
    BUNDLE_URL: `file://${api.file}`,
    COPILOT_DATABASE_URL: seeded.pg.url,
    COPILOT_API_KEY: TEST_API_KEY,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    AWS_REGION: 'eu-west-1',
  });
  const port = await lambda.waitFor((s) => /listening (\d+)/.exec(s)?.[1]);
  url = `http://127.0.0.1:${port}`;
  doc = (await (
    await fetch(`${url}/openapi.json`, { headers: { 'x-api-key': TEST_API_KEY } })
  ).json()) as OpenApi;
});

afterAll(async () => {
  lambda?.child.kill('SIGTERM');
  await lambda?.exited;
  await seeded?.stop();
  if (out !== undefined) rmSync(out, { recursive: true, force: true });
});

function validatorFor(path: string, method: string, status: number): z.ZodType {
  const response = doc.paths[path]?.[method.toLowerCase()]?.responses[String(status)];
  expect(response, `${method} ${path} documents ${status}`).toBeDefined();
  const content = response?.content ?? {};
  const schema = (content['application/json'] ?? content['application/problem+json'])?.schema;
  if (schema === undefined) return z.unknown();
  const resolved =
    schema.$ref === '#/components/schemas/Problem' ? doc.components.schemas.Problem : schema;
  return z.fromJSONSchema(resolved as never);
}

describe('the API Lambda bundle (dist/lambda/api/index.mjs)', () => {
  it('carries no embedded store and no tsx', () => {
    expect(api.inputs.filter((i) => /pglite|tsx|embedded\.ts/.test(i))).toEqual([]);
    // Everything bundled, the AWS SDK included: nothing to resolve at run time but Node's own.
    expect(api.externals).toEqual([]);
  });

  it('exercises every route the router serves', () => {
    const called = new Set(CALLS.map((c) => `${c.method} ${c.path}`));
    expect([...called].sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
  });

  it.each(CALLS)(
    '$method $path$query answers $status as its OpenAPI document and zod schema say',
    async ({ method, path, query, status, key }) => {
      const res = await fetch(`${url}${path}${query}`, {
        method,
        headers: key === null ? {} : { 'x-api-key': key ?? TEST_API_KEY },
      });
      const body: unknown = await res.json();
      expect(res.status, JSON.stringify(body)).toBe(status);
      const published = validatorFor(path, method, status);
      const checked = published.safeParse(body);
      expect(checked.success, JSON.stringify(checked.error?.issues[0])).toBe(true);
      const route = ROUTES.find((r) => r.path === path && r.method === method);
      const schema = status === route?.status ? route.response : ProblemSchema;
      if (schema !== null && schema !== undefined) {
        const parsed = schema.safeParse(body);
        expect(parsed.success, JSON.stringify(parsed.error?.issues[0])).toBe(true);
      }
    },
  );

  it('reads the seeded store: the timeline holds its 20 cycles', async () => {
    const res = await fetch(`${url}/status/timeline?${SEEDED}`, {
      headers: { 'x-api-key': TEST_API_KEY },
    });
    const body = (await res.json()) as { timeline: unknown[] };
    expect(body.timeline).toHaveLength(20);
  });
});
