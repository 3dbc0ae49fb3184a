import { performance } from 'node:perf_hooks';
import type { Sql } from 'postgres';
import { DEFAULT_ENGINE_CONFIG } from '../shared/health/config.js';
import { evaluate } from '../shared/health/engine.js';
import { storedSignalsOf } from '../shared/models/stored-evaluation.js';
import { openStore } from '../shared/store/connection.js';
import { runMigrations } from '../shared/store/migrations.js';
import {
  evaluationTimeline,
  latestEvaluation,
  latestStatus,
  signalSeries,
} from '../shared/store/reads.js';
import { deleteOlderThan } from '../shared/store/retention.js';
import { ensureCluster } from '../shared/store/writes.js';
import { HEALTHY, snapshot } from '../test/helpers/snapshots.js';
import { startTestPostgres } from '../test/support/postgres.js';

export const CYCLE_S = 30;
/** The three signals a dashboard's sparkline row reads. */
const SPARKLINE = [
  'state_transitions.throughput_per_sec',
  'persistence.latency_p99_ms',
  'history.backlog_age_sec',
];
/** The statuses a healthy cycle stores: the catalog signals a dev-server-like source lacks. */
const STATUS = JSON.stringify(
  storedSignalsOf(snapshot(HEALTHY, 0), DEFAULT_ENGINE_CONFIG.maxSampleAgeSec).status,
);
export const END = Date.UTC(2026, 10, 28);

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** p50/p99 of `fn` over `n` calls after `warm` unmeasured ones, as one line. */
async function measure(name: string, n: number, warm: number, fn: (i: number) => Promise<unknown>) {
  for (let i = 0; i < warm; i++) await fn(i);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  return `${name}: p50 ${ms(percentile(times, 50))}, p99 ${ms(percentile(times, 99))}, max ${ms(times.at(-1) ?? 0)} (${n} calls)`;
}

/**
 * Loads a year of 30 s evaluations per cluster server-side. The payload is a real engine
 * evaluation of a healthy mid-scale cycle with the gate list cut to the fired gates (none when
 * healthy): what a happy cycle stores, minus the passed gates. `observedAt` is rewritten per row so
 * every payload parses and matches its column.
 */
/** Loads `rows` 30 s evaluations (and a scheduled assessment every 5 min) server-side; shared with the API bench. */
export async function load(
  sql: Sql,
  clusterId: string,
  rows: number,
  template: string,
  values: string,
) {
  const start = new Date(END - rows * CYCLE_S * 1000);
  await sql`
    INSERT INTO evaluations (id, cluster_id, workflow_id, run_id, cycle, interval_ms, observed_at,
      state, previous_state, changed, reason, scale_band, bottleneck, evaluation, signal_values,
      signal_status)
    SELECT gen_random_uuid(), ${clusterId}::uuid, 'observe-bench', 'run-1', i, 30000, t,
      'happy', 'happy', false, 'healthy', 'mid-scale', 'healthy',
      replace(${template}, '"observedAt":0,', '"observedAt":' || (extract(epoch FROM t) * 1000)::bigint || ','),
      replace(replace(${values}, '__TP__', (100 + i % 50)::text), '__LAT__', (40 + i % 17)::text),
      ${STATUS}
    FROM generate_series(0, ${rows - 1}) AS i,
      LATERAL (SELECT ${start}::timestamptz + i * interval '30 seconds' AS t) AS ts`;
  // One scheduled assessment every 5 minutes, as the explainer writes them.
  await sql`
    INSERT INTO assessments (id, cluster_id, evaluation_id, created_at, trigger, health_state, summary,
      confidence, explainer, model_id, input_tokens, output_tokens, issue_count)
    SELECT gen_random_uuid(), ${clusterId}::uuid, NULL,
      ${start}::timestamptz + i * interval '5 minutes', 'scheduled', 'happy',
      'The cluster is making forward progress; nothing needs attention.', 0.9, 'rules', NULL, 0, 0, 0
    FROM generate_series(0, ${Math.floor(rows / 10) - 1}) AS i`;
}

/**
 * State-store read latency with a year of 30 s evaluations for 3 clusters in PostgreSQL
 * (~3.15 million rows), on a scratch PostgreSQL started by the test helper (or TEST_DATABASE_URL).
 */
export async function storeBench(): Promise<string[]> {
  const days = Number(process.env.STORE_BENCH_DAYS ?? 365);
  const rowsPerCluster = Math.round((days * 86_400) / CYCLE_S);
  const pg = await startTestPostgres();
  const store = await openStore({ dialect: 'postgres', url: pg.url, max: 4 });
  const lines: string[] = [];
  try {
    const sql = store.sql;
    await runMigrations(sql, 'postgres');
    const evaluation = evaluate(null, snapshot(HEALTHY, 0));
    const compact = { ...evaluation, gates: evaluation.gates.filter((g) => g.fired) };
    const template = JSON.stringify(compact);
    const values = JSON.stringify({
      ...storedSignalsOf(snapshot(HEALTHY, 0), DEFAULT_ENGINE_CONFIG.maxSampleAgeSec).values,
      'state_transitions.throughput_per_sec': '__TP__',
      'persistence.latency_p99_ms': '__LAT__',
    }).replace(/"(__TP__|__LAT__)"/g, '$1');
    const clusters: string[] = [];
    for (const name of ['bench-a', 'bench-b', 'bench-c'])
      clusters.push((await ensureCluster(sql, name)).id);
    const loadStart = performance.now();
    for (const id of clusters) await load(sql, id, rowsPerCluster, template, values);
    await sql`ANALYZE evaluations`;
    await sql`ANALYZE assessments`;
    const loadS = (performance.now() - loadStart) / 1000;
    const [size] = await sql<{ n: string; heap: string; idx: string }[]>`
      SELECT (SELECT count(*) FROM evaluations)::text AS n,
        pg_size_pretty(pg_table_size('evaluations')) AS heap,
        pg_size_pretty(pg_indexes_size('evaluations')) AS idx`;
    const [version] = await sql<{ v: string }[]>`SELECT current_setting('server_version') AS v`;
    lines.push(
      `scratch PostgreSQL ${version?.v} (initdb by test/support/postgres.ts, fsync=off, default shared_buffers), ` +
        `driver postgres (porsager) over TCP 127.0.0.1, pool 4`,
    );
    lines.push(
      `data: ${Number(size?.n).toLocaleString('en-US')} evaluations (${days} days × 3 clusters at 30 s; table ${size?.heap}, indexes ${size?.idx}) ` +
        `+ ${(Math.floor(rowsPerCluster / 10) * 3).toLocaleString('en-US')} assessments; loaded server-side in ${loadS.toFixed(0)} s`,
    );
    lines.push(
      `payload per evaluation: ${template.length} B engine JSON (healthy cycle, gate list cut to fired gates) + ${values.length} B signal values`,
    );
    const pick = (i: number) => clusters[i % clusters.length] as string;
    lines.push(
      await measure(
        'latest status (newest evaluation + newest assessment, parsed and validated)',
        3_000,
        300,
        (i) => latestStatus(sql, pick(i)),
      ),
    );
    lines.push(
      await measure('latest evaluation alone', 3_000, 300, (i) => latestEvaluation(sql, pick(i))),
    );
    const dayAgo = END - 86_400_000;
    lines.push(
      await measure('timeline, last 24 h (2,880 rows)', 200, 20, (i) =>
        evaluationTimeline(sql, { clusterId: pick(i), from: dayAgo, to: END }),
      ),
    );
    lines.push(
      await measure('state changes over the whole year (changesOnly)', 200, 20, (i) =>
        evaluationTimeline(sql, { clusterId: pick(i), from: 0, to: END, changesOnly: true }),
      ),
    );
    const monthAgo = END - 30 * 86_400_000;
    lines.push(
      await measure(
        'timeline, last 30 days downsampled to fit 5,000 rows (10 min buckets)',
        50,
        5,
        (i) => evaluationTimeline(sql, { clusterId: pick(i), from: monthAgo, to: END }),
      ),
    );
    lines.push(
      await measure('sparklines, 3 signals over 30 days downsampled (15 min buckets)', 50, 5, (i) =>
        signalSeries(sql, {
          clusterId: pick(i),
          signalIds: SPARKLINE,
          from: monthAgo,
          to: END,
        }),
      ),
    );
    lines.push(
      await measure('sparklines, 3 signals over 24 h', 200, 20, (i) =>
        signalSeries(sql, {
          clusterId: pick(i),
          signalIds: SPARKLINE,
          from: dayAgo,
          to: END,
        }),
      ),
    );
    const plan = await sql.unsafe(
      `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
       SELECT id, cluster_id, workflow_id, cycle, observed_at, evaluation, signal_values
       FROM evaluations WHERE cluster_id = '${pick(0)}' ORDER BY observed_at DESC LIMIT 1`,
    );
    lines.push(
      `EXPLAIN latest evaluation: ${plan.map((r) => String(r['QUERY PLAN']).trim()).join(' | ')}`,
    );
    const oldest = END - rowsPerCluster * CYCLE_S * 1000;
    const t = performance.now();
    const deleted = await deleteOlderThan(sql, 'evaluations', { before: oldest + 86_400_000 });
    const ms = performance.now() - t;
    lines.push(
      `retention: deleted the oldest day (${deleted.deleted.toLocaleString('en-US')} rows, 3 clusters) in ${deleted.batches} transactions of ≤500 rows, ${ms.toFixed(0)} ms (${Math.round(deleted.deleted / (ms / 1000)).toLocaleString('en-US')} rows/s)`,
    );
  } finally {
    await store.close();
    await pg.stop();
  }
  return lines;
}
