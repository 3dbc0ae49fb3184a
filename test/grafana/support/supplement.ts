/**
 * OpenMetrics for the metric families the scenario fixtures (test/fixtures/openmetrics) never
 * export: lazily created failure counters that no scenario increments, the DSQL plugin's pool,
 * reservoir and transaction metrics, caches, shards, GC, throttling, membership, and two SDK
 * failure counters. With them every catalog signal has samples, so every dashboard expression can
 * be shown to return data. The exported names are written here from Temporal's published rules
 * (../shared/reference/telemetry-and-aws-facts.md §1.1, §2), not derived from
 * shared/signals/dialect.ts: a renaming bug there would then read nothing here.
 */

export type ServerDialect = 'tally' | 'otel';
export type SdkDialect = 'core' | 'go';

type Labels = Readonly<Record<string, string>>;

interface Family {
  /** Exported base names per dialect. */
  readonly kind: 'counter' | 'gauge' | 'timer' | 'histogram';
  readonly emitter: 'server' | 'sdk';
  readonly name: string;
  readonly labels: Labels;
  /** Per second for counters and histograms (observations); the level for gauges. */
  readonly rate: number;
  /** Each observation's value: ms for timers, a plain number for histograms. */
  readonly value?: number;
}

const H = { service_name: 'history' };

const FAMILIES: readonly Family[] = [
  { kind: 'counter', emitter: 'server', name: 'sharditem_created_count', labels: H, rate: 0.2 },
  { kind: 'counter', emitter: 'server', name: 'sharditem_removed_count', labels: H, rate: 0.1 },
  {
    kind: 'counter',
    emitter: 'server',
    name: 'service_errors',
    labels: { service_name: 'frontend', operation: 'StartWorkflowExecution' },
    rate: 0.5,
  },
  {
    kind: 'counter',
    emitter: 'server',
    name: 'no_poller_tasks',
    labels: { service_name: 'matching', namespace: 'default' },
    rate: 0.3,
  },
  {
    kind: 'counter',
    emitter: 'server',
    name: 'persistence_errors',
    labels: { ...H, operation: 'UpdateWorkflowExecution' },
    rate: 0.4,
  },
  {
    kind: 'counter',
    emitter: 'server',
    name: 'persistence_error_with_type',
    labels: { ...H, error_type: 'ShardOwnershipLostError' },
    rate: 0.2,
  },
  {
    kind: 'counter',
    emitter: 'server',
    name: 'persistence_error_with_type',
    labels: { ...H, error_type: 'ConditionFailedError' },
    rate: 0.6,
  },
  {
    kind: 'counter',
    emitter: 'server',
    name: 'task_errors',
    labels: { ...H, operation: 'TransferActiveTaskWorkflowTask' },
    rate: 0.7,
  },
  {
    kind: 'counter',
    emitter: 'server',
    name: 'cache_requests',
    labels: { ...H, cache_type: 'mutablestate' },
    rate: 100,
  },
  {
    kind: 'counter',
    emitter: 'server',
    name: 'cache_miss',
    labels: { ...H, cache_type: 'mutablestate' },
    rate: 5,
  },
  {
    kind: 'histogram',
    emitter: 'server',
    name: 'persistence_shard_rps',
    labels: H,
    rate: 2,
    value: 40,
  },
  { kind: 'gauge', emitter: 'server', name: 'service_pending_requests', labels: H, rate: 12 },
  { kind: 'timer', emitter: 'server', name: 'memory_gc_pause_ms', labels: H, rate: 1, value: 3 },
  {
    kind: 'counter',
    emitter: 'server',
    name: 'service_errors_resource_exhausted',
    labels: { service_name: 'frontend' },
    rate: 0.2,
  },
  {
    kind: 'counter',
    emitter: 'server',
    name: 'persistence_errors_resource_exhausted',
    labels: H,
    rate: 0.1,
  },
  { kind: 'counter', emitter: 'server', name: 'membership_changed_count', labels: H, rate: 0.05 },
  // The DSQL plugin emits through the server's metrics handler: the server dialect's names.
  { kind: 'counter', emitter: 'server', name: 'dsql_tx_exhausted', labels: H, rate: 0.1 },
  { kind: 'counter', emitter: 'server', name: 'dsql_pool_wait', labels: H, rate: 3 },
  {
    kind: 'timer',
    emitter: 'server',
    name: 'dsql_pool_wait_duration',
    labels: H,
    rate: 3,
    value: 15,
  },
  { kind: 'counter', emitter: 'server', name: 'dsql_reservoir_refills', labels: H, rate: 2 },
  { kind: 'counter', emitter: 'server', name: 'dsql_reservoir_discards', labels: H, rate: 1 },
  { kind: 'counter', emitter: 'server', name: 'dsql_reservoir_empty', labels: H, rate: 0.5 },
  {
    kind: 'counter',
    emitter: 'server',
    name: 'dsql_reservoir_refill_failures',
    labels: H,
    rate: 0.2,
  },
  { kind: 'timer', emitter: 'server', name: 'dsql_tx_latency', labels: H, rate: 50, value: 45 },
  {
    kind: 'counter',
    emitter: 'sdk',
    name: 'workflow_task_execution_failed',
    labels: { namespace: 'default', task_queue: 'orders' },
    rate: 0.3,
  },
  {
    kind: 'counter',
    emitter: 'sdk',
    name: 'long_request_failure',
    labels: { namespace: 'default', task_queue: 'orders' },
    rate: 0.1,
  },
];

const BOUNDS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000];
const BOUNDS_COUNT = [1, 2, 5, 10, 20, 50, 100];

const fmtLabels = (labels: Labels, le?: string) => {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  if (le !== undefined) parts.push(`le="${le}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
};
const num = (n: number) => (Number.isInteger(n) ? String(n) : String(Number(n.toFixed(6))));

/** The family's exported base name and OpenMetrics type in a dialect. */
function exported(
  f: Family,
  server: ServerDialect,
): { name: string; type: string; seconds: boolean } {
  if (f.emitter === 'sdk') {
    // SDK counters never get _total; sdk-core exports ms, Go seconds (set by the caller).
    return {
      name: `temporal_${f.name}`,
      type: f.kind === 'counter' ? 'unknown' : f.kind,
      seconds: false,
    };
  }
  const otel = server === 'otel';
  switch (f.kind) {
    case 'counter':
      return { name: f.name, type: otel ? 'counter' : 'unknown', seconds: false };
    case 'gauge':
      return { name: f.name, type: 'gauge', seconds: false };
    case 'timer':
      return otel
        ? { name: `${f.name}_milliseconds`, type: 'histogram', seconds: false }
        : { name: f.name, type: 'histogram', seconds: true };
    case 'histogram':
      return { name: otel ? `${f.name}_ratio` : f.name, type: 'histogram', seconds: false };
  }
}

/** 30 minutes of these families, scraped every 30 s from `startSec`, as one document. */
export function supplementOpenMetrics(o: {
  server: ServerDialect;
  sdk: SdkDialect;
  startSec: number;
  durationMin?: number;
}): string {
  const dt = 30;
  const steps = ((o.durationMin ?? 30) * 60) / dt;
  const byName = new Map<string, { type: string; lines: string[] }>();
  for (const f of FAMILIES) {
    const e = exported(f, o.server);
    const seconds = f.emitter === 'sdk' ? o.sdk === 'go' : e.seconds;
    const family = byName.get(e.name) ?? { type: e.type, lines: [] };
    byName.set(e.name, family);
    let total = 0;
    const buckets = (f.kind === 'histogram' ? BOUNDS_COUNT : BOUNDS_MS).map(() => 0);
    let sum = 0;
    for (let i = 0; i <= steps; i++) {
      const ts = o.startSec + i * dt;
      const inc = i === 0 ? 0 : f.rate * dt;
      if (f.kind === 'gauge') {
        family.lines.push(`${e.name}${fmtLabels(f.labels)} ${num(f.rate)} ${ts}`);
      } else if (f.kind === 'counter') {
        total += inc;
        const sample = e.type === 'counter' ? `${e.name}_total` : e.name;
        family.lines.push(`${sample}${fmtLabels(f.labels)} ${num(total)} ${ts}`);
      } else {
        const bounds =
          f.kind === 'histogram' ? BOUNDS_COUNT : BOUNDS_MS.map((b) => (seconds ? b / 1000 : b));
        const v = f.kind === 'timer' && seconds ? (f.value ?? 0) / 1000 : (f.value ?? 0);
        total += inc;
        sum += inc * v;
        bounds.forEach((b, k) => {
          if (v <= b) buckets[k] = (buckets[k] as number) + inc;
          family.lines.push(
            `${e.name}_bucket${fmtLabels(f.labels, num(b))} ${num(buckets[k] as number)} ${ts}`,
          );
        });
        family.lines.push(`${e.name}_bucket${fmtLabels(f.labels, '+Inf')} ${num(total)} ${ts}`);
        family.lines.push(`${e.name}_count${fmtLabels(f.labels)} ${num(total)} ${ts}`);
        family.lines.push(`${e.name}_sum${fmtLabels(f.labels)} ${num(sum)} ${ts}`);
      }
    }
  }
  const out: string[] = [];
  for (const [name, f] of byName) out.push(`# TYPE ${name} ${f.type}`, ...f.lines);
  out.push('# EOF');
  return `${out.join('\n')}\n`;
}
