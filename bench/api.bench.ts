import { performance } from 'node:perf_hooks';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { createApiHandler } from '../lambda/api.js';
import { fixedStore } from '../lambda/common/store.js';
import { DEFAULT_ENGINE_CONFIG } from '../shared/health/config.js';
import { evaluate } from '../shared/health/engine.js';
import { storedSignalsOf } from '../shared/models/stored-evaluation.js';
import { openStore } from '../shared/store/connection.js';
import { runMigrations } from '../shared/store/migrations.js';
import { ensureCluster } from '../shared/store/writes.js';
import { HEALTHY, snapshot } from '../test/helpers/snapshots.js';
import { startTestPostgres } from '../test/support/postgres.js';
import { CYCLE_S, END, load } from './store.bench.js';

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const ms = (x: number) => `${x.toFixed(2)} ms`;

function event(path: string, extra: Record<string, string> = {}): APIGatewayProxyEventV2 {
  const now = Date.now();
  // Three clusters are stored: name the one read, as a multi-cluster dashboard does.
  const query = { cluster: 'bench', ...extra };
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: new URLSearchParams(query).toString(),
    headers: { 'x-api-key': 'bench-api-key-0123456789', host: 'bench' },
    ...(Object.keys(query).length === 0 ? {} : { queryStringParameters: query }),
    requestContext: {
      accountId: '123456789012',
      apiId: 'bench',
      domainName: 'bench',
      domainPrefix: 'bench',
      http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'b' },
      requestId: 'bench',
      routeKey: '$default',
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    isBase64Encoded: false,
  };
}

const context = {
  functionName: 'copilot-api',
  awsRequestId: 'bench',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:copilot-api',
  memoryLimitInMB: '512',
  getRemainingTimeInMillis: () => 29_000,
} as unknown as Context;

/**
 * The JSON API: warm handler latency over a year of 30 s evaluations for one cluster (~1.05
 * million rows) on a scratch PostgreSQL. The deployed bundle's size and cold start are the
 * production build's bench (`bench/production.bench.ts`), which bundles it as the CDK does.
 */
export async function apiBench(): Promise<string[]> {
  const days = Number(process.env.API_BENCH_DAYS ?? 365);
  const rows = Math.round((days * 86_400) / CYCLE_S);
  const pg = await startTestPostgres();
  const store = await openStore({ dialect: 'postgres', url: pg.url, max: 4 });
  const lines: string[] = [];
  try {
    const sql = store.sql;
    await runMigrations(sql, 'postgres');
    const evaluation = evaluate(null, snapshot(HEALTHY, 0));
    const template = JSON.stringify({
      ...evaluation,
      gates: evaluation.gates.filter((g) => g.fired),
    });
    const values = JSON.stringify({
      ...storedSignalsOf(snapshot(HEALTHY, 0), DEFAULT_ENGINE_CONFIG.maxSampleAgeSec).values,
      'state_transitions.throughput_per_sec': '__TP__',
      'persistence.latency_p99_ms': '__LAT__',
    }).replace(/"(__TP__|__LAT__)"/g, '$1');
    const loadStart = performance.now();
    for (const name of ['bench', 'bench-b', 'bench-c'])
      await load(sql, (await ensureCluster(sql, name)).id, rows, template, values);
    await sql`ANALYZE evaluations`;
    await sql`ANALYZE assessments`;
    const loadS = (performance.now() - loadStart) / 1000;
    lines.push(
      `data: ${(3 * rows).toLocaleString('en-US')} evaluations (${days} days × 3 clusters at 30 s) + ` +
        `${(3 * Math.floor(rows / 10)).toLocaleString('en-US')} assessments on a scratch PostgreSQL ` +
        `(test/support/postgres.ts, fsync=off), loaded server-side in ${loadS.toFixed(0)} s; pool 4 over TCP 127.0.0.1`,
    );

    const handler = createApiHandler({
      store: fixedStore(store),
      auth: { mode: 'api-key', key: async () => 'bench-api-key-0123456789' },
      logger: new Logger({ serviceName: 'copilot-api-bench', logLevel: 'SILENT' }),
      now: () => END,
    });
    const measure = async (name: string, e: APIGatewayProxyEventV2, n: number, warm: number) => {
      let bytes = 0;
      for (let i = 0; i < warm; i++) await handler(e, context);
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        const r = await handler(e, context);
        times.push(performance.now() - t);
        if (r.statusCode !== 200) throw new Error(`${name}: HTTP ${r.statusCode} ${r.body}`);
        bytes = r.body?.length ?? 0;
      }
      times.sort((a, b) => a - b);
      return `${name}: p50 ${ms(percentile(times, 50))}, p99 ${ms(percentile(times, 99))} (${n} warm calls, ${(bytes / 1024).toFixed(1)} KiB body)`;
    };
    lines.push(
      await measure(
        'warm handler GET /status (auth, routing, 5 index-backed reads, mapping, age check)',
        event('/status'),
        2_000,
        200,
      ),
    );
    lines.push(
      await measure(
        'warm handler GET /status/timeline, default last 24 h (2,880 rows)',
        event('/status/timeline'),
        200,
        20,
      ),
    );
    lines.push(
      await measure(
        'warm handler GET /status/timeline, last 30 days (downsampled to 10 min buckets)',
        event('/status/timeline', { start: String(END - 30 * 86_400_000) }),
        50,
        5,
      ),
    );
    lines.push(
      await measure(
        'warm handler GET /status/timeline?changes_only=true over the whole year',
        event('/status/timeline', { start: '0', changes_only: 'true' }),
        200,
        20,
      ),
    );

    // The Lambda bundles as deployed, their sizes and cold starts: the production build's bench.
  } finally {
    await store.close();
    await pg.stop();
  }
  return lines;
}
