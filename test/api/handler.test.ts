import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ApiHandler, createApiHandler } from '../../lambda/api.js';
import { type AuthMode, keysMatch } from '../../lambda/common/auth.js';
import { ApiConfigError, parseApiEnv } from '../../lambda/common/env.js';
import { logger } from '../../lambda/common/powertools.js';
import { fixedStore, storeFromEnv } from '../../lambda/common/store.js';
import {
  ClustersResponseSchema,
  GatesResponseSchema,
  IssuesResponseSchema,
  LogPatternsResponseSchema,
  ProblemSchema,
  ServicesResponseSchema,
  SignalsResponseSchema,
  StatusResponseSchema,
  SummaryResponseSchema,
  TimelineResponseSchema,
} from '../../shared/api/schemas.js';
import { openStore } from '../../shared/store/connection.js';
import { runMigrations } from '../../shared/store/migrations.js';
import { ensureCluster } from '../../shared/store/writes.js';
import { CYCLE_MS, T0 } from '../helpers/snapshots.js';
import {
  closedPort,
  fixture,
  lambdaContext,
  NOW,
  type SeededStore,
  silentLogger,
  startSeededStore,
  TEST_API_KEY,
} from './support.js';

const iso = (ms: number) => new Date(ms).toISOString();
const API_KEY: AuthMode = { mode: 'api-key', key: async () => TEST_API_KEY };

function body(result: APIGatewayProxyStructuredResultV2): Record<string, unknown> {
  return JSON.parse(result.body ?? 'null') as Record<string, unknown>;
}

/** Asserts a problem response: status, the problem shape, and no stack or error object. */
function expectProblem(result: APIGatewayProxyStructuredResultV2, status: number) {
  expect(result.statusCode).toBe(status);
  expect(result.headers?.['content-type']).toBe('application/problem+json');
  const problem = ProblemSchema.parse(body(result));
  expect(problem.status).toBe(status);
  expect(result.body).not.toMatch(/\n\s+at |stack|Error:/);
  return problem;
}

describe('API handler with API Gateway v2 fixtures on PostgreSQL', () => {
  let seeded: SeededStore;
  let handler: ApiHandler;
  const call = (event: APIGatewayProxyEventV2) => handler(event, lambdaContext());

  beforeAll(async () => {
    seeded = await startSeededStore();
    handler = createApiHandler({
      store: fixedStore(seeded.store),
      auth: API_KEY,
      logger: silentLogger,
      now: () => NOW,
    });
  });
  afterAll(async () => {
    await seeded?.stop();
  });

  it('serves /status from the newest stored evaluation, assessment and log patterns', async () => {
    const result = await call(fixture('status'));
    expect(result.statusCode).toBe(200);
    const status = StatusResponseSchema.parse(body(result));
    const last = seeded.evaluations.at(-1);
    expect(status.cluster).toBe('local');
    expect(status.health_state).toBe(last?.state);
    expect(status.reason).toBe(last?.reason);
    expect(status.timestamp).toBe(iso(T0 + 19 * CYCLE_MS));
    expect(status.gates).toHaveLength(last?.gates.length ?? -1);
    expect(status.fired_gates).toEqual(last?.firedGates);
    expect(status.primary_signals.state_transitions?.throughput_per_sec).toBe(120);
    expect(status.primary_signals.persistence?.latency_p99_ms).toBe(45);
    expect(status.amplifiers.runtime?.goroutines).toBe(2400);
    // A signal the snapshot never had is null and named in signal_status, never 0.
    const missing = Object.keys(status.signal_status);
    expect(missing.length).toBeGreaterThan(0);
    for (const id of missing) {
      const [group, field] = [id.slice(0, id.indexOf('.')), id.slice(id.indexOf('.') + 1)];
      const value =
        status.primary_signals[group]?.[field] ?? status.amplifiers[group]?.[field] ?? null;
      expect(value).toBeNull();
    }
    expect(status.issue_count).toBe(3);
    expect(status.recommended_actions.map((a) => a.action)).toEqual([
      'scale workers',
      'investigate persistence',
    ]);
    expect(status.recommended_actions[0]).toMatchObject({ risk_level: 'medium', confidence: 0.8 });
    expect(status.log_patterns).toEqual([
      {
        count: 128,
        pattern: 'occ_conflict',
        service: 'persistence',
        sample_message: 'SQLSTATE 40001 OC000',
        count_is_lower_bound: true,
      },
      {
        count: 7,
        pattern: 'reservoir_discard',
        service: 'history',
        sample_message: null,
        count_is_lower_bound: false,
      },
    ]);
    expect(status).toMatchObject({ summary: 'Persistence is slow; workers fall behind.' });
    expect(status.explainer).toBe('rules');
  });

  it('answers ?cluster=local like the default, and 404 for an unknown cluster', async () => {
    const named = StatusResponseSchema.parse(body(await call(fixture('status-cluster'))));
    expect(named.timestamp).toBe(iso(T0 + 19 * CYCLE_MS));
    const problem = expectProblem(await call(fixture('status-unknown-cluster')), 404);
    expect(problem.detail).toBe('unknown cluster "nope"');
  });

  it('reports unknown, not happy, for a cluster with nothing stored yet', async () => {
    const event = fixture('status');
    event.queryStringParameters = { cluster: 'empty' };
    const status = StatusResponseSchema.parse(body(await call(event)));
    expect(status.health_state).toBe('unknown');
    expect(status.timestamp).toBeNull();
    expect(status.gates).toEqual([]);
    expect(status.primary_signals.state_transitions?.throughput_per_sec).toBeNull();
    expect(status.signal_status['state_transitions.throughput_per_sec']).toBe('absent');
    expect(status.recommended_actions).toEqual([]);
    expect(status.issue_count).toBe(0);
  });

  it('maps the stored per-service verdicts without recomputing them', async () => {
    const result = await call(fixture('services'));
    const services = ServicesResponseSchema.parse(body(result)).services;
    const stored = seeded.evaluations.at(-1)?.services ?? [];
    expect(services.map((s) => s.name)).toEqual(stored.map((s) => s.service));
    const words = { ok: 'happy', degraded: 'stressed', blocked: 'critical', unknown: 'unknown' };
    for (const [i, s] of services.entries()) {
      expect(s.forward_progress).toBe(stored[i]?.forwardProgress);
      expect(s.status).toBe(words[stored[i]?.forwardProgress ?? 'unknown']);
      expect(s.pressure).toBe(stored[i]?.pressure);
    }
    expect(services.find((s) => s.name === 'persistence')?.key_signals).toMatchObject({
      'persistence.latency_p99_ms': 45,
    });
  });

  it('filters issues by severity and refuses an unknown severity with a 400', async () => {
    const issues = IssuesResponseSchema.parse(body(await call(fixture('issues-critical'))));
    expect(issues.issues.map((i) => [i.key, i.severity])).toEqual([
      ['worker.schedule_to_start', 'critical'],
    ]);
    const all = fixture('issues-critical');
    all.queryStringParameters = {};
    const every = IssuesResponseSchema.parse(body(await call(all)));
    expect(every.issues.map((i) => i.severity)).toEqual(['critical', 'warning', 'info']);
    const problem = expectProblem(await call(fixture('issues-bad-severity')), 400);
    expect(problem.detail).toMatch(/^invalid query parameter severity/);
  });

  it('serves the summary of the newest assessment with the newest state', async () => {
    const summary = SummaryResponseSchema.parse(body(await call(fixture('summary'))));
    expect(summary.summary).toBe('Persistence is slow; workers fall behind.');
    expect(summary.health_state).toBe(seeded.evaluations.at(-1)?.state);
    expect(summary.assessed_at).toBe(iso(T0 + 13 * CYCLE_MS));
  });

  it('serves every stored cycle in the range, or only the state changes', async () => {
    const all = TimelineResponseSchema.parse(body(await call(fixture('timeline'))));
    expect(all.timeline.map((r) => r.health_state)).toEqual(seeded.evaluations.map((e) => e.state));
    expect(all.timeline[0]?.timestamp).toBe(iso(T0));
    const changes = TimelineResponseSchema.parse(body(await call(fixture('timeline-changes'))));
    const expected = seeded.evaluations.filter((e) => e.changed).map((e) => e.state);
    expect(expected.length).toBeGreaterThanOrEqual(2);
    expect(changes.timeline.map((r) => r.health_state)).toEqual(expected);
    // Without start/end: the last 24 h before the request time.
    const fallback = fixture('timeline');
    delete fallback.queryStringParameters;
    const day = TimelineResponseSchema.parse(body(await call(fallback)));
    expect([day.start, day.end]).toEqual([iso(NOW - 86_400_000), iso(NOW)]);
    expect(day.timeline).toHaveLength(20);
  });

  it('refuses a bad or reversed time range with a 400', async () => {
    expect(expectProblem(await call(fixture('timeline-bad-start')), 400).detail).toMatch(/start/);
    const reversed = fixture('timeline');
    reversed.queryStringParameters = { start: iso(NOW), end: iso(T0) };
    expect(expectProblem(await call(reversed), 400).detail).toBe('start must be before end');
  });

  it('serves sparkline rows from the stored values, epoch-millisecond range included', async () => {
    const signals = SignalsResponseSchema.parse(body(await call(fixture('signals'))));
    const tp = signals.points.filter((p) => p.signal === 'state_transitions.throughput_per_sec');
    const lat = signals.points.filter((p) => p.signal === 'persistence.latency_p99_ms');
    expect(tp).toHaveLength(20);
    expect(tp.every((p) => p.value === 120)).toBe(true);
    expect(lat.map((p) => p.value)).toEqual([
      ...Array(10).fill(45),
      ...Array(6).fill(900),
      ...Array(4).fill(45),
    ]);
    const unknown = fixture('signals');
    unknown.queryStringParameters = { ids: 'history.nonsense' };
    expect(expectProblem(await call(unknown), 400).detail).toMatch(/unknown signal/);
  });

  it('serves log patterns, gates and clusters', async () => {
    const logs = LogPatternsResponseSchema.parse(body(await call(fixture('log-patterns'))));
    expect(logs.log_patterns.map((p) => p.pattern)).toEqual(['occ_conflict', 'reservoir_discard']);
    const gates = GatesResponseSchema.parse(body(await call(fixture('gates'))));
    expect(gates.gates.map((g) => g.id)).toEqual(seeded.evaluations.at(-1)?.gates.map((g) => g.id));
    const clusters = ClustersResponseSchema.parse(body(await call(fixture('clusters'))));
    expect(clusters.clusters.map((c) => c.name)).toEqual(['empty', 'local']);
  });

  it('answers POST /actions with the seed 501 body', async () => {
    const result = await call(fixture('actions'));
    expect(result.statusCode).toBe(501);
    expect(body(result)).toEqual({
      error: 'Not implemented',
      message: 'Automated remediation is planned for a future release.',
    });
  });

  it('returns 404 for an unknown route and 405 for a wrong method', async () => {
    expectProblem(await call(fixture('unknown-route')), 404);
    const wrong = fixture('status');
    wrong.requestContext.http.method = 'DELETE';
    const result = await call(wrong);
    expectProblem(result, 405);
    expect(result.headers?.allow).toBe('GET');
  });

  it('strips a named stage from the path', async () => {
    const summary = SummaryResponseSchema.parse(body(await call(fixture('named-stage'))));
    expect(summary.cluster).toBe('local');
  });

  it('fails with 401 without the key or with a wrong one, and serves /openapi.json without', async () => {
    expect(expectProblem(await call(fixture('no-api-key')), 401).detail).toBe(
      'missing x-api-key header',
    );
    expect(expectProblem(await call(fixture('wrong-api-key')), 401).detail).toBe('wrong API key');
    const openapi = fixture('openapi');
    delete openapi.headers['x-api-key'];
    const result = await call(openapi);
    expect(result.statusCode).toBe(200);
    expect(body(result).openapi).toBe('3.1.0');
  });

  it('in IAM mode, serves a request the gateway authorised and refuses one it did not', async () => {
    const iam = createApiHandler({
      store: fixedStore(seeded.store),
      auth: { mode: 'iam' },
      logger: silentLogger,
    });
    expect((await iam(fixture('iam-authorized'), lambdaContext())).statusCode).toBe(200);
    expectProblem(await iam(fixture('status'), lambdaContext()), 401);
    // And an API-key handler does not accept a bare IAM identity.
    expectProblem(await call(fixture('iam-authorized')), 401);
  });

  it('compares keys by value only', () => {
    expect(keysMatch(TEST_API_KEY, TEST_API_KEY)).toBe(true);
    expect(keysMatch(`${TEST_API_KEY}x`, TEST_API_KEY)).toBe(false);
    expect(keysMatch('', TEST_API_KEY)).toBe(false);
  });

  it('answers a generic 500 that carries no error detail for an unexpected failure', async () => {
    const broken = createApiHandler({
      store: async () => {
        throw new TypeError('secret internals: password=hunter2');
      },
      auth: API_KEY,
      logger: silentLogger,
    });
    const result = await broken(fixture('status'), lambdaContext());
    const problem = expectProblem(result, 500);
    expect(problem.degraded).toBeUndefined();
    expect(result.body).not.toMatch(/hunter2|secret|TypeError/);
  });
});

describe('API handler with nothing stored', () => {
  it('defaults to local, then to the only cluster, then asks for ?cluster= when several exist', async () => {
    const seeded = await startSeededStore();
    const url = seeded.pg.url.replace(/\/postgres$/, '/blank');
    await seeded.store.sql`CREATE DATABASE blank`;
    const store = await openStore({ dialect: 'postgres', url, max: 2 });
    try {
      await runMigrations(store.sql, 'postgres');
      const h = createApiHandler({ store: fixedStore(store), auth: API_KEY, logger: silentLogger });
      const status = async (cluster?: string) => {
        const event = fixture('status');
        event.queryStringParameters = cluster === undefined ? {} : { cluster };
        return h(event, lambdaContext());
      };
      const ok = async (cluster?: string) =>
        StatusResponseSchema.parse(body(await status(cluster)));

      expect(await ok()).toMatchObject({
        cluster: 'local',
        health_state: 'unknown',
        timestamp: null,
      });
      expect(expectProblem(await status('nope'), 404).detail).toBe('unknown cluster "nope"');

      // One registered cluster that is not `local`: it is the default.
      await ensureCluster(store.sql, 'prod-a');
      expect(await ok()).toMatchObject({ cluster: 'prod-a', health_state: 'unknown' });
      expect(await ok('prod-a')).toMatchObject({ cluster: 'prod-a' });
      expect(expectProblem(await status('local'), 404).detail).toBe('unknown cluster "local"');

      await ensureCluster(store.sql, 'prod-b');
      const problem = expectProblem(await status(), 400);
      expect(problem.detail).toBe('several clusters are watched (prod-a, prod-b): pass ?cluster=');
      expect(await ok('prod-b')).toMatchObject({ cluster: 'prod-b' });
      expect(expectProblem(await status('nope'), 404).detail).toBe('unknown cluster "nope"');

      // Several, `local` among them but not among the first two by name: still the default.
      await ensureCluster(store.sql, 'edge-1');
      await ensureCluster(store.sql, 'edge-2');
      expect(expectProblem(await status(), 400).detail).toBe(
        'several clusters are watched (edge-1, edge-2, prod-a, prod-b): pass ?cluster=',
      );
      await ensureCluster(store.sql, 'local');
      expect(await ok()).toMatchObject({ cluster: 'local', health_state: 'unknown' });
    } finally {
      await store.close();
      await seeded.stop();
    }
  });
});

describe('API Lambda entry with the store down', () => {
  it('answers 503 with degraded: true, and still serves /openapi.json', async () => {
    const port = await closedPort();
    vi.stubEnv('COPILOT_DATABASE_URL', `postgres://postgres@127.0.0.1:${port}/postgres`);
    vi.stubEnv('COPILOT_DSQL_ENDPOINT', undefined as unknown as string);
    vi.stubEnv('COPILOT_API_KEY', TEST_API_KEY);
    // The entry uses the shared logger; keep its expected error lines out of the test output.
    const quiet = [vi.spyOn(logger, 'error'), vi.spyOn(logger, 'info')];
    for (const spy of quiet) spy.mockImplementation(() => {});
    try {
      const { handler } = await import('../../lambda/api.js');
      for (const name of ['status', 'timeline', 'clusters']) {
        const problem = expectProblem(await handler(fixture(name), lambdaContext()), 503);
        expect(problem).toMatchObject({ degraded: true, health_state: 'unknown' });
      }
      expect((await handler(fixture('openapi'), lambdaContext())).statusCode).toBe(200);
      expectProblem(await handler(fixture('no-api-key'), lambdaContext()), 401);
    } finally {
      vi.unstubAllEnvs();
      for (const spy of quiet) spy.mockRestore();
    }
  });

  it('refuses to serve with COPILOT_API_AUTH=none: the Lambda answers 500 until configured', async () => {
    // A fresh module: the entry keeps its configuration for the container's life.
    vi.resetModules();
    vi.stubEnv('COPILOT_DATABASE_URL', 'postgres://postgres@127.0.0.1:1/postgres');
    vi.stubEnv('COPILOT_DSQL_ENDPOINT', undefined as unknown as string);
    vi.stubEnv('COPILOT_API_KEY', undefined as unknown as string);
    vi.stubEnv('COPILOT_API_AUTH', 'none');
    const { logger: entryLogger } = await import('../../lambda/common/powertools.js');
    const errors = vi.spyOn(entryLogger, 'error').mockImplementation(() => {});
    try {
      const { handler } = await import('../../lambda/api.js');
      const problem = expectProblem(await handler(fixture('status'), lambdaContext()), 500);
      expect(problem.detail).toBe('the API is not configured; see the API logs');
      expect(
        JSON.stringify(String((errors.mock.calls[0]?.[1] as { error?: unknown })?.error)),
      ).toMatch(/COPILOT_API_AUTH=none is refused/);
    } finally {
      vi.unstubAllEnvs();
      errors.mockRestore();
      vi.resetModules();
    }
  });

  it('maps a store that cannot be reached to 503 through the env-built provider too', async () => {
    const port = await closedPort();
    const h = createApiHandler({
      store: storeFromEnv(
        parseApiEnv({
          COPILOT_DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/postgres`,
          COPILOT_API_AUTH: 'none',
        }),
      ),
      auth: { mode: 'none' },
      logger: silentLogger,
    });
    expect(expectProblem(await h(fixture('summary'), lambdaContext()), 503).degraded).toBe(true);
  });

  it('answers 503 degraded when the store accepts connections but never answers', async () => {
    // A TCP server that accepts and stays silent: the driver would wait its 15 s connect timeout.
    const { createServer } = await import('node:net');
    const sockets = new Set<import('node:net').Socket>();
    const blackhole = createServer((socket) => {
      sockets.add(socket);
    });
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    const { port } = blackhole.address() as import('node:net').AddressInfo;
    const store = await openStore({
      dialect: 'postgres',
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      max: 1,
    });
    try {
      const h = createApiHandler({
        store: fixedStore(store),
        auth: { mode: 'none' },
        logger: silentLogger,
        storeTimeoutMs: 200,
      });
      const problem = expectProblem(await h(fixture('status'), lambdaContext()), 503);
      expect(problem.degraded).toBe(true);
    } finally {
      // End the pool first: while it lives, the driver keeps reconnecting to the silent server.
      await store.close();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => blackhole.close(resolve));
    }
  });

  it('fails configuration that names no store, two stores or no key, naming the variable', () => {
    expect(() => parseApiEnv({ COPILOT_API_KEY: TEST_API_KEY })).toThrow(ApiConfigError);
    expect(() =>
      parseApiEnv({
        COPILOT_DATABASE_URL: 'postgres://x/y',
        COPILOT_DSQL_ENDPOINT: 'abc.dsql.eu-west-1.on.aws',
        COPILOT_API_KEY: TEST_API_KEY,
      }),
    ).toThrow(/exactly one of COPILOT_DATABASE_URL and COPILOT_DSQL_ENDPOINT/);
    expect(() => parseApiEnv({ COPILOT_DATABASE_URL: 'postgres://x/y' })).toThrow(
      /COPILOT_API_KEY or COPILOT_API_KEY_SECRET_ARN/,
    );
    expect(() =>
      parseApiEnv({ COPILOT_DATABASE_URL: 'postgres://x/y', COPILOT_API_KEY: 'short' }),
    ).toThrow(/COPILOT_API_KEY: COPILOT_API_KEY must be at least 16 characters/);
    expect(
      parseApiEnv({ COPILOT_DATABASE_URL: 'postgres://x/y', COPILOT_API_AUTH: 'iam' }),
    ).toMatchObject({ COPILOT_API_AUTH: 'iam' });
  });
});
