/*
 * The measured inputs of docs/cost.md. Not a test: run `npx tsx test/infra/measure-cost-inputs.ts`.
 *
 * 1. How many query samples one observation cycle makes a Prometheus-compatible backend process —
 *    what Amazon Managed Prometheus bills (query samples processed, QSP).
 * 2. How many bytes one stored evaluation is (what DSQL bills writes and range reads by).
 *
 * The worker's own source (worker/sources/prometheus.ts) runs real cycles against a real local
 * Prometheus (Debian's, loaded with the OpenMetrics scenarios); every request it sends is counted
 * and asked for Prometheus's query statistics (`stats=all`), whose `totalQueryableSamples` is
 * the number of samples the query engine loaded: the quantity AMP meters.
 */
import { SIGNAL_CATALOG } from '../../shared/signals/catalog.js';
import { setupSchema } from '../../shared/store/admin.js';
import { openStore } from '../../shared/store/connection.js';
import { ensureCluster, recordEvaluations } from '../../shared/store/writes.js';
import { createPrometheusSource } from '../../worker/sources/prometheus.js';
import {
  generateCardinality,
  generateOpenMetrics,
  HEALTHY_LOAD,
} from '../fixtures/openmetrics/scenarios.js';
import { engineRun } from '../store/backends.js';
import { startTestPostgres } from '../support/postgres.js';
import { startPrometheus } from '../support/prometheus.js';

const START = Date.UTC(2026, 1, 2) / 1000; // 2 h aligned, as promtool wants

interface Tally {
  requests: number;
  samples: number;
  peak: number;
  /** Response bytes (what a NAT gateway or an endpoint meters), without the stats we asked for. */
  bytes: number;
}

/** Wraps fetch: Prometheus API requests gain `stats=all`, and their sample counts are summed. */
function countingFetch(tally: Tally): typeof fetch {
  const real = globalThis.fetch;
  return async (input, init) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    if (!/\/api\/v1\/query(_range)?$/.test(url.pathname)) return real(input, init);
    let body = init?.body;
    if (typeof body === 'string' || body instanceof URLSearchParams) {
      const form = new URLSearchParams(body.toString());
      form.set('stats', 'all');
      body = form.toString();
    } else url.searchParams.set('stats', 'all');
    const response = await real(url, { ...init, ...(body === undefined ? {} : { body }) });
    const json = (await response.clone().json()) as {
      data?: { stats?: { samples?: { totalQueryableSamples?: number; peakSamples?: number } } };
    };
    const stats = JSON.stringify(json.data?.stats ?? {}).length;
    tally.bytes += (await response.clone().arrayBuffer()).byteLength - stats;
    tally.requests += 1;
    tally.samples += json.data?.stats?.samples?.totalQueryableSamples ?? 0;
    tally.peak = Math.max(tally.peak, json.data?.stats?.samples?.peakSamples ?? 0);
    return response;
  };
}

async function measure(name: string, documents: string[], at: number): Promise<string> {
  const prom = await startPrometheus(documents);
  try {
    const source = createPrometheusSource({ url: prom.url, concurrency: 8 });
    await source.snapshot(at); // the dialect probe and the first cycle
    const tally: Tally = { requests: 0, samples: 0, peak: 0, bytes: 0 };
    const saved = globalThis.fetch;
    globalThis.fetch = countingFetch(tally);
    const cycles = 5;
    try {
      for (let i = 0; i < cycles; i++) await source.snapshot(at + i * 30_000);
    } finally {
      globalThis.fetch = saved;
      await source.close();
    }
    const perCycle = Math.round(tally.samples / cycles);
    const bytes = Math.round(tally.bytes / cycles).toLocaleString('en');
    return `${name}: ${tally.requests / cycles} requests, ${bytes} response bytes and ${perCycle.toLocaleString('en')} samples processed per cycle (peak ${tally.peak.toLocaleString('en')} in one query); ${SIGNAL_CATALOG.length} catalog signals`;
  } finally {
    await prom.stop();
  }
}

const small = generateOpenMetrics(
  { id: 'cost-small', durationMin: 40, at: () => HEALTHY_LOAD },
  { server: 'tally', sdk: 'core', startSec: START, intervalSec: 15 },
);
console.log(
  await measure(
    'one-host cluster (the scenarios, 15 s scrapes)',
    [small],
    (START + 30 * 60) * 1000,
  ),
);
const big = generateCardinality({
  startSec: START,
  durationMin: 40,
  intervalSec: 15,
  hosts: 16,
  taskQueues: 200,
  operations: 32,
});
console.log(
  await measure(
    'production-sized cluster (16 history hosts, 200 task queues, 32 operations, 15 s scrapes)',
    [small, big],
    (START + 30 * 60) * 1000,
  ),
);

/** Bytes of a stored evaluation as written (uncompressed text plus fixed-width columns). */
async function evaluationBytes(): Promise<string> {
  const pg = await startTestPostgres();
  try {
    await setupSchema({ dialect: 'postgres', url: pg.url });
    const store = await openStore({ dialect: 'postgres', url: pg.url, max: 2 });
    try {
      const cluster = await ensureCluster(store.sql, 'cost');
      await recordEvaluations(store.sql, engineRun().records(cluster.id));
      const [row] = await store.sql<
        { n: string; text: string; stored: string; sparkline: string; timeline: string }[]
      >`
        SELECT count(*) AS n,
          avg(octet_length(evaluation) + octet_length(signal_values)
            + coalesce(octet_length(signal_status), 0) + octet_length(workflow_id)
            + coalesce(octet_length(run_id), 0) + octet_length(state) + octet_length(reason)
            + octet_length(scale_band) + octet_length(bottleneck)
            + coalesce(octet_length(previous_state), 0)) AS text,
          avg(pg_column_size(evaluations.*)) AS stored,
          avg(octet_length(signal_values) + coalesce(octet_length(signal_status), 0) + 24) AS sparkline,
          avg(octet_length(state) + octet_length(reason) + octet_length(scale_band)
            + octet_length(bottleneck) + coalesce(octet_length(previous_state), 0) + 48) AS timeline
        FROM evaluations`;
      // UUIDs (2 × 16), four timestamps, cycle, interval and a boolean: ~90 bytes beside the text.
      const bytes = Math.round(Number(row?.text) + 90);
      const n = (v: string | undefined) => Math.round(Number(v)).toLocaleString('en');
      return (
        `stored evaluation: ${bytes.toLocaleString('en')} bytes as written (text columns + ~90 B fixed), ` +
        `${n(row?.stored)} B after PostgreSQL's compression; the columns a sparkline reads ` +
        `(signal values and status, time, keys): ${n(row?.sparkline)} B; a timeline row's ` +
        `columns: ${n(row?.timeline)} B; mean of ${row?.n} engine cycles (healthy, persistence pressure, recovery)`
      );
    } finally {
      await store.close();
    }
  } finally {
    await pg.stop();
  }
}
console.log(await evaluationBytes());
