import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { createApiHandler } from '../../lambda/api.js';
import { fixedStore } from '../../lambda/common/store.js';
import { type LocalApi, startLocalApi } from '../../lambda/local-server.js';
import type { IssueInput } from '../../shared/models/issue.js';
import { openStore, type Store } from '../../shared/store/connection.js';
import { runMigrations } from '../../shared/store/migrations.js';
import {
  ensureCluster,
  recordAssessment,
  recordEvaluations,
  recordLogPatterns,
} from '../../shared/store/writes.js';
import { freePort } from '../../worker/free-port.js';
import { CYCLE_MS, T0 } from '../helpers/snapshots.js';
import { engineRun } from '../store/backends.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';

/** The key the fixtures carry in `x-api-key`. */
export const TEST_API_KEY = 'test-api-key-0123456789abcdef';

/**
 * The handler tests' request time: one cycle after the seeded run's last evaluation (T0 + 19
 * cycles), so the stored state is fresh. The fixtures' own `timeEpoch` (T0 + 1 h) is not read:
 * the handler takes its clock from its dependencies.
 */
export const NOW = T0 + 20 * CYCLE_MS;

/** A logger that writes nothing, so test output stays readable. */
export const silentLogger = new Logger({ serviceName: 'copilot-api-test', logLevel: 'SILENT' });

/** An API Gateway v2 event fixture from `test/fixtures/events/apigw/<name>.json`. */
export function fixture(name: string): APIGatewayProxyEventV2 {
  const path = join(import.meta.dirname, '../fixtures/events/apigw', `${name}.json`);
  return JSON.parse(readFileSync(path, 'utf8')) as APIGatewayProxyEventV2;
}

/** A Lambda context as the runtime passes it. */
export function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'copilot-api',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:copilot-api',
    memoryLimitInMB: '512',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: '/aws/lambda/copilot-api',
    logStreamName: '2026/11/28/[$LATEST]abcdef',
    getRemainingTimeInMillis: () => 29_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** The issues the seeded assessment carries: one per severity, with suggested actions. */
export const SEEDED_ISSUES: IssueInput[] = [
  {
    key: 'stressed.persistence_latency',
    severity: 'warning',
    title: 'Persistence latency above its limit',
    description: 'p99 persistence latency is 900 ms against 200 ms.',
    likely_cause: 'DSQL OCC retries',
    contributing_factors: [
      { signal: 'persistence.latency_p99_ms', description: '900 ms', weight: 0.9 },
    ],
    suggested_actions: [
      {
        action_type: 'investigate',
        target_service: 'persistence',
        description: 'check DSQL OCC conflicts',
        confidence: 0.6,
        risk: 'low',
      },
    ],
    related_signals: ['persistence.latency_p99_ms'],
  },
  {
    key: 'worker.schedule_to_start',
    severity: 'critical',
    title: 'Workers fall behind',
    description: 'schedule-to-start is high',
    likely_cause: 'too few pollers',
    suggested_actions: [
      {
        action_type: 'scale',
        target_service: 'workers',
        description: 'add worker replicas',
        confidence: 0.8,
        risk: 'medium',
      },
    ],
  },
  { key: 'info.note', severity: 'info', title: 'Note', description: '', likely_cause: '' },
];

/** A PostgreSQL with the schema, seeded through the store's own writes. */
export interface SeededStore {
  readonly pg: TestPostgres;
  readonly store: Store;
  /** The real engine evaluations stored for cluster `local`, oldest first. */
  readonly evaluations: ReturnType<typeof engineRun>['evaluations'];
  stop(): Promise<void>;
}

/**
 * Cluster `local`: a real engine run (20 cycles: healthy, persistence pressure, healthy again),
 * one assessment with three issues, two log-pattern windows. Cluster `empty`: registered, no data.
 */
export async function startSeededStore(): Promise<SeededStore> {
  const pg = await startTestPostgres();
  const store = await openStore({ dialect: 'postgres', url: pg.url, max: 5 });
  await runMigrations(store.sql, 'postgres');
  const local = await ensureCluster(store.sql, 'local');
  await ensureCluster(store.sql, 'empty');
  const run = engineRun();
  await recordEvaluations(store.sql, run.records(local.id));
  const last = run.evaluations.length - 1;
  await recordAssessment(store.sql, {
    key: 'observe-cluster-test:13',
    assessment: {
      cluster_id: local.id,
      trigger: 'state_change',
      health_state: 'stressed',
      summary: 'Persistence is slow; workers fall behind.',
      confidence: 0.8,
      explainer: 'rules',
      created_at: new Date(T0 + 13 * CYCLE_MS).toISOString(),
    },
    issues: SEEDED_ISSUES,
  });
  await recordLogPatterns(store.sql, {
    clusterId: local.id,
    observedAt: T0,
    patterns: [{ pattern_id: 'shard_movement', service: 'history', count: 3 }],
  });
  await recordLogPatterns(store.sql, {
    clusterId: local.id,
    observedAt: T0 + last * CYCLE_MS,
    patterns: [
      {
        pattern_id: 'occ_conflict',
        service: 'persistence',
        count: 128,
        count_is_lower_bound: true,
        sample: 'SQLSTATE 40001 OC000',
      },
      { pattern_id: 'reservoir_discard', service: 'history', count: 7 },
    ],
  });
  return {
    pg,
    store,
    evaluations: run.evaluations,
    async stop() {
      await store.close();
      await pg.stop();
    },
  };
}

/** The seeded store served over HTTP by the local API server (key {@link TEST_API_KEY}). */
export interface SeededApi {
  readonly seeded: SeededStore;
  readonly api: LocalApi;
  stop(): Promise<void>;
}

export async function startSeededApi(): Promise<SeededApi> {
  const seeded = await startSeededStore();
  // A server that fails to start must not leave the PostgreSQL behind.
  const api = await startLocalApi({
    store: seeded.store,
    port: 0,
    apiKey: TEST_API_KEY,
    logger: silentLogger,
  }).catch(async (error: unknown) => {
    await seeded.stop();
    throw error;
  });
  const stop = async () => {
    await api.close();
    await seeded.stop();
  };
  return { seeded, api, stop };
}

/** The handler over `store` as the tests call it: the test key, a silent logger, the clock `now`. */
export function seededHandler(
  store: Store,
  now: number,
): (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2> {
  const handler = createApiHandler({
    store: fixedStore(store),
    auth: { mode: 'api-key', key: async () => TEST_API_KEY },
    logger: silentLogger,
    now: () => now,
  });
  return (event) => handler(event, lambdaContext());
}

/** A GET of `path` with `query`, as API Gateway delivers it (the `status` fixture, re-pointed). */
export function getEvent(path: string, query: Record<string, string> = {}): APIGatewayProxyEventV2 {
  return { ...fixture('status'), rawPath: path, queryStringParameters: query };
}

/** A TCP port nothing listens on (bound, read, released). */
export function closedPort(): Promise<number> {
  return freePort();
}

/** A raw HTTP request, so paths reach the server exactly as written (fetch normalises them). */
export function rawGet(
  url: string,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
