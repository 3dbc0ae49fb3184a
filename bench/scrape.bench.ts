import { Bench } from 'tinybench';
import { SIGNAL_CATALOG } from '../shared/signals/catalog.js';
import {
  DEFAULT_DIALECT,
  SDK_DIALECTS,
  SERVER_DIALECTS,
  seriesNamesOf,
} from '../shared/signals/dialect.js';
import { parseExposition } from '../shared/signals/exposition.js';
import { evaluateSignal, indexScrape, type Scrape } from '../shared/signals/measure-eval.js';
import type { SignalValue } from '../shared/signals/value.js';

/**
 * One direct-scrape cycle on a realistic cluster: four processes (frontend, history, matching,
 * worker) in tally names, 512 history shards, 200 task queues × 4 partitions × 2 task types,
 * 5 namespaces, tally's 40-bucket timers and 17-bucket histograms, HELP/TYPE lines as Temporal
 * prints them. A cycle = parse the four expositions, index them (keeping the series the catalog
 * reads), evaluate every catalog signal over a two-scrape history.
 */

const TIMER_BOUNDS = Array.from({ length: 39 }, (_, i) => (0.001 * 1.4 ** i).toPrecision(3));
const HIST_BOUNDS = Array.from({ length: 16 }, (_, i) => String(2 ** i));
const NAMESPACES = ['default', 'orders', 'payments', 'search', 'temporal_system'];
const SHARDS = 512;
const TASK_QUEUES = 200;
const PARTITIONS = 4;

function histogram(
  out: string[],
  name: string,
  labels: string,
  bounds: readonly string[],
  total: number,
  help: boolean,
): void {
  if (help) out.push(`# HELP ${name} ${name}`, `# TYPE ${name} histogram`);
  let cum = 0;
  const step = total / bounds.length;
  for (const le of bounds) {
    cum += Math.floor(step);
    out.push(`${name}_bucket{${labels},le="${le}"} ${cum}`);
  }
  out.push(`${name}_bucket{${labels},le="+Inf"} ${total}`);
  out.push(`${name}_sum{${labels}} ${total * 0.013}`);
  out.push(`${name}_count{${labels}} ${total}`);
}

/** The exposition of one process at cycle `k` (counters grow with k). */
function exposition(service: string, k: number): string {
  const out: string[] = [];
  const svc = `service_name="${service}"`;
  const ops = Array.from({ length: 30 }, (_, i) => `Op${i}`);
  if (service === 'frontend') ops.push('PollWorkflowTaskQueue', 'PollActivityTaskQueue');
  ops.forEach((op, i) => {
    for (const ns of NAMESPACES) {
      const l = `namespace="${ns}",operation="${op}",${svc}`;
      out.push(`service_requests{${l}} ${1000 * k + i}`);
      histogram(out, 'service_latency', l, TIMER_BOUNDS, 1000 * k + i, i === 0 && ns === 'default');
    }
  });
  for (let i = 0; i < 40; i++) {
    const l = `operation="Persist${i}",${svc}`;
    out.push(`persistence_requests{${l}} ${500 * k + i}`);
    histogram(out, 'persistence_latency', l, TIMER_BOUNDS, 500 * k + i, i === 0);
  }
  out.push(`num_goroutines{${svc}} ${2000 + k}`);
  histogram(out, 'memory_gc_pause_ms', svc, TIMER_BOUNDS, 10 * k, true);
  if (service === 'history') {
    for (const ns of NAMESPACES) {
      const l = `namespace="${ns}",operation="WorkflowContext",${svc}`;
      histogram(out, 'state_transition_count', l, HIST_BOUNDS, 3000 * k, ns === 'default');
      out.push(`workflow_success{namespace="${ns}",operation="CompletionStats",${svc}} ${200 * k}`);
      for (let t = 0; t < 12; t++) {
        const tl = `namespace="${ns}",operation="Task${t}",task_type="Task${t}",${svc}`;
        out.push(`task_requests{${tl}} ${400 * k + t}`);
        histogram(out, 'task_latency_queue', tl, TIMER_BOUNDS, 400 * k + t, false);
      }
      out.push(`cache_requests{cache_type="mutablestate",namespace="${ns}",${svc}} ${900 * k}`);
      out.push(`cache_miss{cache_type="mutablestate",namespace="${ns}",${svc}} ${20 * k}`);
    }
    // Per-shard series: what 512 shards add to a history exposition.
    for (let s = 0; s < SHARDS; s++) {
      out.push(`shard_lock_requests{shard_id="${s}",${svc}} ${k * 7 + s}`);
      out.push(`shardinfo_immediate_queue_lag_count{shard_id="${s}",${svc}} ${k * 3}`);
    }
    out.push(`sharditem_created_count{${svc}} ${SHARDS}`);
    out.push(`membership_changed_count{${svc}} 3`);
  }
  if (service === 'matching') {
    for (let q = 0; q < TASK_QUEUES; q++) {
      for (const tt of ['Workflow', 'Activity']) {
        const tl = `namespace="${NAMESPACES[q % 5]}",${svc},task_type="${tt}",taskqueue="tq-${q}"`;
        out.push(`poll_success{${tl}} ${50 * k + q}`);
        out.push(`poll_success_sync{${tl}} ${45 * k + q}`);
        out.push(`poll_timeouts{${tl}} ${2 * k}`);
        histogram(out, 'poll_latency', tl, TIMER_BOUNDS, 50 * k + q, q === 0 && tt === 'Workflow');
        for (let p = 0; p < PARTITIONS; p++) {
          const pl = `${tl},partition="${p}",worker_build_id="__unversioned__"`;
          out.push(`approximate_backlog_count{${pl}} ${(q * p) % 7}`);
          out.push(`approximate_backlog_age_seconds{${pl}} ${(q + p) % 3}`);
          out.push(`tasks_added{${pl}} ${60 * k}`);
        }
      }
    }
  }
  if (service === 'worker') {
    for (const pt of ['workflow_task', 'workflow_sticky_task', 'activity_task']) {
      out.push(`temporal_num_pollers{poller_type="${pt}",${svc},task_queue="temporal_sys"} 2`);
    }
    for (const wt of ['WorkflowWorker', 'ActivityWorker']) {
      out.push(`temporal_worker_task_slots_available{worker_type="${wt}",${svc}} 1000`);
      out.push(`temporal_worker_task_slots_used{worker_type="${wt}",${svc}} 3`);
    }
  }
  return `${out.join('\n')}\n`;
}

const SERVICES = ['frontend', 'history', 'matching', 'worker'];

export async function scrapeBench(): Promise<string[]> {
  const T0 = Date.UTC(2026, 10, 28);
  const texts0 = SERVICES.map((s) => exposition(s, 100));
  const texts1 = SERVICES.map((s) => exposition(s, 101));
  // Samples per exposition (every non-comment line), for the series/s figures.
  const lineCounts = texts1.map(
    (t) => t.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length,
  );
  const keep = new Set<string>();
  for (const server of SERVER_DIALECTS)
    for (const sdk of SDK_DIALECTS)
      for (const s of SIGNAL_CATALOG)
        for (const n of seriesNamesOf(s.measure, { server, sdk, sdkPrefix: 'temporal_' }))
          keep.add(n);
  // As the scrape source does: parse only the names the catalog reads (seeing every name), with
  // the endpoint in each series key.
  const index = (texts: string[], at: number): { scrape: Scrape; samples: number } => {
    let samples = 0;
    const all = texts.flatMap((t, i) => {
      const names = new Set<string>();
      const parsed = parseExposition(t, { keep, names, keyPrefix: `10.0.0.${i}:9090\u0002` });
      samples += lineCounts[i] ?? 0;
      return parsed;
    });
    return { scrape: indexScrape(at, all), samples };
  };
  const first = index(texts0, T0);
  const second = index(texts1, T0 + 30_000);
  const history = [first.scrape, second.scrape];
  const bytes = texts1.reduce((a, t) => a + t.length, 0);
  const samplesPerCycle = second.samples;
  const kept = [...second.scrape.byName.values()].reduce((a, l) => a + l.length, 0);

  let sink: SignalValue | undefined;
  let okCount = 0;
  const evaluateAll = () => {
    okCount = 0;
    for (const def of SIGNAL_CATALOG) {
      sink = evaluateSignal(def, history, DEFAULT_DIALECT);
      if (sink.status === 'ok') okCount++;
    }
  };
  evaluateAll();

  const bench = new Bench({ time: 3000, warmupTime: 500 });
  bench
    .add('parse + index 4 expositions', () => {
      index(texts1, T0 + 30_000);
    })
    .add('evaluate every catalog signal (two-scrape history)', evaluateAll)
    .add('full cycle (parse + index + evaluate)', () => {
      const s = index(texts1, T0 + 60_000);
      const h = [second.scrape, s.scrape];
      for (const def of SIGNAL_CATALOG) sink = evaluateSignal(def, h, DEFAULT_DIALECT);
    });
  await bench.run();
  if (sink === undefined) throw new Error('benchmark produced nothing');

  const out: string[] = [
    `exposition: ${SERVICES.length} processes, ${samplesPerCycle.toLocaleString('en-US')} samples, ` +
      `${(bytes / 2 ** 20).toFixed(1)} MiB per cycle (${SHARDS} shards, ${TASK_QUEUES} task queues × ` +
      `${PARTITIONS} partitions × 2 task types); ${kept.toLocaleString('en-US')} samples kept for the catalog; ` +
      `${okCount} of ${SIGNAL_CATALOG.length} signals have values`,
  ];
  for (const task of bench.tasks) {
    const r = task.result;
    if (r === undefined || r.state !== 'completed') {
      out.push(`${task.name}: did not complete`);
      continue;
    }
    const mean = r.latency.mean;
    const extra = task.name.startsWith('evaluate')
      ? ''
      : `, ${Math.round((samplesPerCycle / mean) * 1000).toLocaleString('en-US')} series/s`;
    out.push(
      `${task.name}: mean ${mean.toFixed(2)} ms, p99 ${(r.latency.p99 ?? 0).toFixed(2)} ms${extra} (${r.latency.samplesCount} samples)`,
    );
  }
  return out;
}
