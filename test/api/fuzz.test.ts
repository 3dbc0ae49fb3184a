import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHandler, createApiHandler } from '../../lambda/api.js';
import { fixedStore } from '../../lambda/common/store.js';
import type { LocalApi } from '../../lambda/local-server.js';
import { ROUTES } from '../../lambda/routes.js';
import { ProblemSchema } from '../../shared/api/schemas.js';
import { openStore } from '../../shared/store/connection.js';
import {
  closedPort,
  fixture,
  lambdaContext,
  NOW,
  rawGet,
  type SeededApi,
  type SeededStore,
  silentLogger,
  startSeededApi,
  TEST_API_KEY,
} from './support.js';

const KNOWN_PATHS = ROUTES.map((r) => r.path);
const PARAM_NAMES = [
  'cluster',
  'severity',
  'limit',
  'start',
  'end',
  'changes_only',
  'ids',
  'since',
];

/** Values that sit near what the validators accept, and values far from it. */
const paramValue = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('local', 'empty', 'nope', 'critical', 'true', 'false', '0', '-1', '100', '101'),
  fc.integer({ min: -1e6, max: 1e16 }).map(String),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom(
    'state_transitions.throughput_per_sec',
    'a,b,c',
    ',,,',
    '%',
    '1e999',
    '2026-02-30T00:00:00Z',
    '9999-12-31T23:59:59Z',
    '0001-01-01T00:00:00Z',
  ),
);

const pathArb = fc.oneof(
  { arbitrary: fc.constantFrom(...KNOWN_PATHS), weight: 5 },
  fc.constantFrom(...KNOWN_PATHS).map((p) => `${p}/`),
  fc.webPath(),
  fc.string().map((s) => `/${s}`),
  fc.constantFrom('', '/', '//status', '/status//issues', '/prod/status', '/STATUS'),
);

const queryArb = fc.oneof(
  // No query at all is common (and valid everywhere but /status/signals).
  fc.constant({}),
  fc.dictionary(fc.oneof(fc.constantFrom(...PARAM_NAMES), fc.string()), paramValue, {
    maxKeys: 6,
  }),
);

const headersArb = fc.record(
  {
    // Mostly the right key, so most cases get past authentication to routing and validation.
    'x-api-key': fc.oneof({ arbitrary: fc.constant(TEST_API_KEY), weight: 4 }, fc.string()),
    'content-type': fc.string(),
    authorization: fc.string(),
  },
  { requiredKeys: ['x-api-key'] },
);

const methodArb = fc.oneof(
  { arbitrary: fc.constant('GET'), weight: 6 },
  fc.constantFrom('POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'get'),
);

/** An API Gateway v2 event from fuzzed parts, on top of a real fixture. */
function eventOf(
  method: string,
  path: string,
  query: Record<string, string>,
  headers: Record<string, string>,
  stage: string,
): APIGatewayProxyEventV2 {
  const event = fixture('status');
  event.rawPath = path;
  event.requestContext.http.method = method;
  event.requestContext.http.path = path;
  event.requestContext.stage = stage;
  event.rawQueryString = new URLSearchParams(query).toString();
  if (Object.keys(query).length > 0) event.queryStringParameters = query;
  else delete event.queryStringParameters;
  event.headers = { ...headers };
  return event;
}

const eventArb = fc
  .tuple(methodArb, pathArb, queryArb, headersArb, fc.constantFrom('$default', 'prod', ''))
  .map(([m, p, q, h, s]) => eventOf(m, p, q, h, s));

describe('fuzzing the API (fast-check)', () => {
  let seeded: SeededStore;
  let handler: ApiHandler;
  let api: LocalApi;
  let server: SeededApi;

  beforeAll(async () => {
    server = await startSeededApi();
    ({ seeded, api } = server);
    handler = createApiHandler({
      store: fixedStore(seeded.store),
      auth: { mode: 'api-key', key: async () => TEST_API_KEY },
      logger: silentLogger,
      now: () => NOW,
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('answers 400, not 5xx, for times the store cannot hold (a fuzz counterexample)', async () => {
    for (const query of [
      'end=0001-01-01T00:00:00Z',
      'start=0001-01-01T00:00:00Z',
      'end=999999999999999',
    ]) {
      const event = fixture('timeline');
      const params = Object.fromEntries(new URLSearchParams(query));
      const result = await handler(
        { ...event, rawQueryString: query, queryStringParameters: params },
        lambdaContext(),
      );
      expect(result.statusCode, query).toBe(400);
    }
  });

  it('answers any path, query string and headers without a 5xx while the store is up', async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(eventArb, async (event) => {
        const result = await handler(event, lambdaContext());
        const status = result.statusCode ?? 0;
        seen.set(status, (seen.get(status) ?? 0) + 1);
        // 501 is POST /actions' documented answer; no other 5xx is a client's fault.
        expect(status === 501 || (status >= 200 && status < 500)).toBe(true);
        const body = JSON.parse(result.body ?? '') as unknown;
        if (status >= 400 && status !== 501) ProblemSchema.parse(body);
      }),
      { numRuns: Math.max(600, Number(process.env.FC_NUM_RUNS ?? 0)) },
    );
    // The cases must reach the routes, not only bounce off authentication and routing.
    expect(seen.get(200) ?? 0).toBeGreaterThan(30);
    expect(seen.get(400) ?? 0).toBeGreaterThan(30);
  });

  it('answers any valid-key request to a data route with 503 degraded or a 4xx when the store is down', async () => {
    const port = await closedPort();
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const dataRoutes = ROUTES.filter((r) => r.id !== 'openapi' && r.id !== 'actions');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...dataRoutes), queryArb, async (route, query) => {
        // A fresh pool per run, as on a cold start: the driver backs off between reconnects of
        // one pool (seconds after a few failures), which is the deadline test's subject, not this.
        const store = await openStore({ dialect: 'postgres', url, max: 1 });
        try {
          const down = createApiHandler({
            store: fixedStore(store),
            auth: { mode: 'none' },
            logger: silentLogger,
          });
          const result = await down(
            eventOf(route.method, route.path, query, {}, '$default'),
            lambdaContext(),
          );
          const problem = ProblemSchema.parse(JSON.parse(result.body ?? ''));
          if (result.statusCode === 503) expect(problem.degraded).toBe(true);
          else expect(result.statusCode).toBe(400);
        } finally {
          await store.close();
        }
      }),
      { numRuns: 150 },
    );
  });

  it('answers raw HTTP requests with any path and query without a 5xx', async () => {
    const rawPath = fc.oneof(
      fc.webPath().filter((p) => p.startsWith('/')),
      fc.constantFrom(...KNOWN_PATHS),
    );
    await fc.assert(
      fc.asyncProperty(
        rawPath,
        fc.webQueryParameters(),
        headersArb,
        async (path, query, headers) => {
          const clean = Object.fromEntries(
            Object.entries(headers).filter(([, v]) => /^[\x20-\x7e]*$/.test(v)),
          );
          const res = await rawGet(api.url, `${path === '' ? '/' : path}?${query}`, clean);
          expect(res.status).toBeGreaterThanOrEqual(200);
          expect(res.status).toBeLessThan(500);
          expect(() => JSON.parse(res.body)).not.toThrow();
        },
      ),
      { numRuns: 200 },
    );
  });
});
