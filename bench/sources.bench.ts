import { replayRange } from '../bin/commands/observe.js';
import { evaluate } from '../shared/health/engine.js';
import type { CarriedState } from '../shared/health/evaluation.js';
import { SIGNAL_CATALOG } from '../shared/signals/catalog.js';
import {
  generateCardinality,
  generateOpenMetrics,
  HEALTHY_LOAD,
} from '../test/fixtures/openmetrics/scenarios.js';
import { startPrometheus } from '../test/support/prometheus.js';
import { createPrometheusSource } from '../worker/sources/prometheus.js';

/**
 * Signal acquisition against a real local Prometheus (Debian 2.42):
 * - one observation cycle (every catalog signal, one batch) at realistic cardinality;
 * - replay of 24 h at a 30 s step with range queries, against the same evaluation issued as
 *   per-step instant queries (measured on 1 h and extrapolated: 2,881 steps × ~60 queries would
 *   take tens of minutes here).
 */

const DAY_START = Date.UTC(2026, 1, 2) / 1000; // 2026-02-02T00:00Z, 2 h aligned
const CARD_START = Date.UTC(2026, 1, 4) / 1000;
const STEP_MS = 30_000;
const HOSTS = 16; // 512 shards over 16 history hosts
const OPERATIONS = 32;
const TASK_QUEUES = 200;

const ms = (a: bigint, b: bigint) => Number(b - a) / 1e6;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

export async function sourcesBench(): Promise<string[]> {
  const out: string[] = [];
  let t = process.hrtime.bigint();
  const day = generateOpenMetrics(
    { id: 'bench-day', durationMin: 24 * 60 + 10, at: () => HEALTHY_LOAD },
    { server: 'tally', sdk: 'core', startSec: DAY_START, intervalSec: 30 },
  );
  const card = generateCardinality({
    startSec: CARD_START,
    durationMin: 12,
    intervalSec: 30,
    hosts: HOSTS,
    taskQueues: TASK_QUEUES,
    operations: OPERATIONS,
  });
  const lines = day.split('\n').length + card.split('\n').length;
  const prom = await startPrometheus([day, card]);
  out.push(
    `fixture: ${lines.toLocaleString('en')} OpenMetrics lines generated, backfilled with promtool and Prometheus ready in ${(ms(t, process.hrtime.bigint()) / 1000).toFixed(1)} s`,
  );
  try {
    // --- one observation cycle at realistic cardinality ---------------------------------------
    const at = (CARD_START + 11 * 60) * 1000;
    const countRes = await fetch(
      `${prom.url}/api/v1/query?query=${encodeURIComponent('count({__name__=~".+"})')}&time=${at / 1000}`,
    );
    const seriesCount = (
      (await countRes.json()) as { data: { result: { value: [number, string] }[] } }
    ).data.result[0]?.value[1];
    const cycles: number[] = [];
    let requests = 0;
    let errors = 0;
    const source = createPrometheusSource({ url: prom.url, concurrency: 8 });
    await source.snapshot(at); // warm-up: dialect probe, page cache
    for (let i = 0; i < 7; i++) {
      const before = source.requestCount;
      t = process.hrtime.bigint();
      const snap = await source.snapshot(at);
      cycles.push(ms(t, process.hrtime.bigint()));
      requests = source.requestCount - before;
      errors = Object.values(snap.values).filter((v) => v.status === 'error').length;
    }
    await source.close();
    out.push(
      `observation cycle (${SIGNAL_CATALOG.length} signals, concurrency 8, ${seriesCount} series live: ${HOSTS} history hosts for 512 shards × ${OPERATIONS} operations, 4 services, ${TASK_QUEUES} task queues): median ${median(cycles).toFixed(0)} ms, min ${Math.min(...cycles).toFixed(0)} ms over ${cycles.length} cycles, ${requests} requests per cycle, ${errors} error values`,
    );

    // --- replay: range queries vs per-step instant queries ------------------------------------
    const from = (DAY_START + 600) * 1000;
    const to = from + 24 * 3_600_000;
    const range = createPrometheusSource({
      url: prom.url,
      dialect: { server: 'tally', sdk: 'core' },
    });
    t = process.hrtime.bigint();
    const evals = await replayRange(range, { from, to, stepMs: STEP_MS });
    const rangeMs = ms(t, process.hrtime.bigint());
    const rangeRequests = range.requestCount;
    await range.close();
    const states = new Map<string, number>();
    for (const e of evals) states.set(e.state, (states.get(e.state) ?? 0) + 1);
    out.push(
      `replay 24 h at 30 s (${evals.length} steps) with range queries: ${(rangeMs / 1000).toFixed(2)} s wall, ${rangeRequests} requests (1 probe + 1 per engine signal with a query; ${evals.length} points < 10,000 per request), states ${[...states].map(([k, v]) => `${k} ${v}`).join(', ')}`,
    );

    const hourSteps = 3600_000 / STEP_MS + 1;
    const inst = createPrometheusSource({
      url: prom.url,
      dialect: { server: 'tally', sdk: 'core' },
      concurrency: 8,
    });
    t = process.hrtime.bigint();
    let carried: CarriedState | null = null;
    for (let i = 0; i < hourSteps; i++) {
      const e = evaluate(carried, await inst.snapshot(from + i * STEP_MS));
      carried = e.carried;
    }
    const instMs = ms(t, process.hrtime.bigint());
    const instRequests = inst.requestCount;
    await inst.close();
    const factor = evals.length / hourSteps;
    out.push(
      `same evaluation as per-step instant queries, measured on 1 h (${hourSteps} steps): ${(instMs / 1000).toFixed(2)} s wall, ${instRequests} requests; extrapolated to 24 h: ~${((instMs * factor) / 1000).toFixed(0)} s and ~${Math.round(instRequests * factor).toLocaleString('en')} requests`,
    );
    out.push(
      `range vs instant for 24 h: ${((instMs * factor) / rangeMs).toFixed(1)}× less wall time, ${((instRequests * factor) / rangeRequests).toFixed(0)}× fewer requests`,
    );
  } finally {
    await prom.stop();
  }
  return out;
}
