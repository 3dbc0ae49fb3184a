import { SIG } from '../../shared/signals/ids.js';
import type { SignalValue, Snapshot } from '../../shared/signals/value.js';

export const T0 = Date.UTC(2026, 10, 28, 12, 0, 0);
export const CYCLE_MS = 30_000;

type Key = keyof typeof SIG;
/** A number, `'absent'`, or `'error'` for each engine signal; omitted keys are left out. */
export type Spec = Partial<Record<Key, number | 'absent' | 'error'>>;

/** A mid-scale cluster doing well: 120 st/s, small backlogs, DSQL-normal persistence latency. */
export const HEALTHY: Spec = {
  throughput: 120,
  historyLatencyP99: 80,
  success: 12,
  failed: 0.1,
  historyBacklog: 0.4,
  processing: 150,
  shardChurn: 0,
  frontendErrors: 0,
  frontendLatencyP99: 60,
  frontendLongPollP99: 70_000,
  matchingWorkflowBacklog: 0.2,
  matchingActivityBacklog: 0.3,
  backlogCount: 3,
  noPollerTasks: 0,
  pollTimeoutRate: 0.05,
  persistenceLatencyP99: 45,
  persistenceErrors: 0,
  deletion: 0,
  cleanup: 0,
  goroutines: 2400,
};

/** An idle dev server: a trickle of system transitions, long polls, half the polls time out. */
export const IDLE: Spec = {
  throughput: 2,
  historyLatencyP99: 20,
  success: 0,
  historyBacklog: 0.1,
  processing: 1.5,
  frontendErrors: 0,
  frontendLatencyP99: 0,
  frontendLongPollP99: 98_000,
  matchingWorkflowBacklog: 0,
  matchingActivityBacklog: 0,
  backlogCount: 0,
  pollTimeoutRate: 0.48,
  persistenceLatencyP99: 30,
  persistenceErrors: 0,
  deletion: 0,
  cleanup: 0,
  goroutines: 900,
  failed: 'absent',
};

/*
 * The engine scenarios the explainers are held to (golden tests, the explanations bench), each a
 * mid-scale cluster with one story.
 */

/** Forward progress gone: throughput and processing near zero, history 700 s behind. */
export const COLLAPSE: Spec = withSpec(HEALTHY, {
  throughput: 0.2,
  processing: 0.3,
  success: 0,
  historyBacklog: 700,
  backlogCount: 400,
  matchingWorkflowBacklog: 90,
});

/** DSQL persistence p99 at 450 ms against the 200 ms limit. */
export const PERSISTENCE_PRESSURE: Spec = withSpec(HEALTHY, { persistenceLatencyP99: 450 });

/** Activity tasks wait 200 s: no slot free on four pollers' workers. */
export const WORKER_STARVATION: Spec = withSpec(HEALTHY, {
  matchingActivityBacklog: 200,
  backlogCount: 900,
  activitySlotsAvailable: 0,
  activitySlotsUsed: 200,
  activityPollers: 4,
});

/** Retention deleting 220 workflows/s: little throughput, slow persistence, real work. */
export const RETENTION_STORM: Spec = withSpec(HEALTHY, {
  throughput: 0.5,
  processing: 0.5,
  success: 0,
  deletion: 220,
  persistenceLatencyP99: 900,
  backlogCount: 50,
});

function value(v: number | 'absent' | 'error'): SignalValue {
  if (v === 'absent') return { status: 'absent' };
  if (v === 'error') return { status: 'error', message: 'query failed' };
  return { status: 'ok', value: v };
}

export function snapshot(spec: Spec, observedAt = T0): Snapshot {
  const values: Record<string, SignalValue> = {};
  for (const [k, v] of Object.entries(spec)) {
    if (v !== undefined) values[SIG[k as Key]] = value(v);
  }
  return { observedAt, values };
}

export function withSpec(base: Spec, patch: Spec): Spec {
  return { ...base, ...patch };
}

import type { EngineConfig } from '../../shared/health/config.js';
import { DEFAULT_ENGINE_CONFIG } from '../../shared/health/config.js';
import { evaluate } from '../../shared/health/engine.js';
import type { CarriedState, Evaluation } from '../../shared/health/evaluation.js';

/** Feeds specs through the engine cycle by cycle, carrying state like the observer workflow. */
export function run(
  specs: readonly Spec[],
  config: EngineConfig = DEFAULT_ENGINE_CONFIG,
  initial: CarriedState | null = null,
): Evaluation[] {
  const out: Evaluation[] = [];
  let carried = initial;
  specs.forEach((spec, i) => {
    const e = evaluate(carried, snapshot(spec, T0 + i * CYCLE_MS), config);
    out.push(e);
    carried = e.carried;
  });
  return out;
}

export const repeat = <T>(x: T, n: number): T[] => Array.from({ length: n }, () => x);
