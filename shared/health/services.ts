import { DERIVED, SIG } from '../signals/ids.js';
import type { EngineConfig, ThresholdSet } from './config.js';
import type {
  GateResult,
  HealthState,
  ServiceHealth,
  WorkerAssessment,
  WorkerFinding,
} from './evaluation.js';
import { GATE } from './gates.js';
import { I, num, type Observation } from './observation.js';

const fired = (gates: readonly GateResult[], i: number): boolean => (gates[i] as GateResult).fired;

/**
 * The oldest matching backlog (workflow or activity task queues), as the kernel derived it for
 * the matching-backlog gate: one derivation for the gate, the services and the worker advice.
 */
function matchingBacklogOf(gates: readonly GateResult[]): number | undefined {
  return (gates[GATE.stressedMatchingBacklog] as GateResult).observed ?? undefined;
}

/**
 * Tracks the worst value/limit ratio among a service's signals: below 0.7 low, below 1 moderate
 * (approaching), otherwise high; unknown when none of them is visible.
 */
class Pressure {
  private worst = -1;
  private dominant: string | null = null;
  readonly elevated: string[] = [];

  add(signal: string, value: number | undefined, limit: number): this {
    if (value === undefined || limit <= 0) return this;
    const ratio = value / limit;
    if (ratio >= 1) this.elevated.push(signal);
    if (ratio > this.worst) {
      this.worst = ratio;
      this.dominant = signal;
    }
    return this;
  }

  get level(): ServiceHealth['pressure'] {
    if (this.worst < 0) return 'unknown';
    return this.worst >= 1 ? 'high' : this.worst >= 0.7 ? 'moderate' : 'low';
  }

  health(
    service: ServiceHealth['service'],
    forwardProgress: ServiceHealth['forwardProgress'],
  ): ServiceHealth {
    return {
      service,
      forwardProgress,
      pressure: this.level,
      dominantSignal: this.worst >= 0.7 ? this.dominant : null,
      elevatedSignals: this.elevated,
    };
  }
}

/** Slot utilisation in 0..1; undefined unless both gauges are seen and some slot exists. */
function utilisation(used: number | undefined, available: number | undefined): number | undefined {
  if (used === undefined || available === undefined) return undefined;
  const total = used + available;
  return total > 0 ? used / total : undefined;
}

/**
 * Per-service health: each actor's forward progress (ok / degraded / blocked / unknown) and
 * pressure, derived from the same thresholds as the state, so the API never recomputes health
 * with other limits (the prior art's band-blind copy: docs/lessons.md#one-engine-no-copies).
 */
export function serviceHealth(
  o: Observation,
  t: ThresholdSet,
  config: EngineConfig,
  state: HealthState,
  idle: boolean,
  busy: boolean,
  gates: readonly GateResult[],
): ServiceHealth[] {
  const a = config.amplifier;
  const lim = config.services;
  const tp = num(o, I.throughput);
  const demand = tp !== undefined && tp >= config.demandGateMinPerSec;
  const matchingBacklog = matchingBacklogOf(gates);

  // History: the protagonist. Its progress is the cluster's progress.
  const history = new Pressure()
    .add(SIG.historyLatencyP99, num(o, I.historyLatencyP99), t.stressedHistoryLatencyP99MaxMs)
    .add(SIG.historyBacklog, num(o, I.historyBacklog), t.stressedHistoryBacklogSec)
    .add(SIG.shardChurn, num(o, I.shardChurn), t.stressedShardChurnMaxPerSec);
  let historyProgress: ServiceHealth['forwardProgress'];
  if (state === 'unknown') historyProgress = 'unknown';
  else if (idle) historyProgress = 'ok';
  else if (
    fired(gates, GATE.criticalHistoryBacklog) ||
    (!busy && (fired(gates, GATE.criticalThroughput) || fired(gates, GATE.criticalProcessing)))
  )
    historyProgress = 'blocked';
  else if (
    fired(gates, GATE.stressedHistoryBacklog) ||
    fired(gates, GATE.healthyThroughput) ||
    fired(gates, GATE.stressedHistoryLatency)
  )
    historyProgress = 'degraded';
  else historyProgress = 'ok';

  // Matching: the matchmaker; its backlog is demand not met by supply.
  const matching = new Pressure()
    .add(DERIVED.matchingBacklogMax, matchingBacklog, t.stressedMatchingBacklogAgeSec)
    .add(
      SIG.pollTimeoutRate,
      demand ? num(o, I.pollTimeoutRate) : undefined,
      t.stressedPollTimeoutRateMax,
    )
    .add(SIG.noPollerTasks, num(o, I.noPollerTasks), config.idle.errorRateMaxPerSec);
  let matchingProgress: ServiceHealth['forwardProgress'];
  if (matchingBacklog === undefined) matchingProgress = idle ? 'ok' : 'unknown';
  else if (matchingBacklog > 2 * t.stressedMatchingBacklogAgeSec) matchingProgress = 'blocked';
  else if (matchingBacklog > t.stressedMatchingBacklogAgeSec) matchingProgress = 'degraded';
  else matchingProgress = 'ok';

  // Frontend: the gateway; it mostly reflects latency from deeper services.
  const frontendErrors = num(o, I.frontendErrors);
  const frontend = new Pressure()
    .add(
      SIG.frontendLatencyP99,
      demand ? num(o, I.frontendLatencyP99) : undefined,
      t.stressedFrontendLatencyP99MaxMs,
    )
    .add(SIG.frontendErrors, frontendErrors, lim.frontendErrorsDegradedPerSec)
    .add(SIG.resourceExhausted, num(o, I.resourceExhausted), a.resourceExhaustedPressurePerSec);
  let frontendProgress: ServiceHealth['forwardProgress'];
  if (frontendErrors === undefined && num(o, I.frontendLatencyP99) === undefined)
    frontendProgress = 'unknown';
  else if (frontendErrors !== undefined && frontendErrors > lim.frontendErrorsBlockedPerSec)
    frontendProgress = 'blocked';
  else if (
    (frontendErrors !== undefined && frontendErrors > lim.frontendErrorsDegradedPerSec) ||
    fired(gates, GATE.stressedFrontendLatency)
  )
    frontendProgress = 'degraded';
  else frontendProgress = 'ok';

  // Persistence: the foundation (DSQL). Latency here is the full path, OCC retries included.
  const persistenceErrors = num(o, I.persistenceErrors);
  const persistence = new Pressure()
    .add(
      SIG.persistenceLatencyP99,
      num(o, I.persistenceLatencyP99),
      t.stressedPersistenceLatencyP99MaxMs,
    )
    .add(SIG.occConflicts, num(o, I.occConflicts), a.occConflictsPressurePerSec)
    .add(SIG.poolUtilization, num(o, I.poolUtilization), a.poolUtilizationPressurePct)
    .add(SIG.poolWaitP95, num(o, I.poolWaitP95), a.poolWaitDurationPressureMs)
    .add(SIG.persistenceErrors, persistenceErrors, lim.persistenceErrorsDegradedPerSec);
  let persistenceProgress: ServiceHealth['forwardProgress'];
  if (persistenceErrors === undefined && num(o, I.persistenceLatencyP99) === undefined)
    persistenceProgress = 'unknown';
  else if (fired(gates, GATE.criticalPersistenceErrors)) persistenceProgress = 'blocked';
  else if (
    (persistenceErrors !== undefined && persistenceErrors > lim.persistenceErrorsDegradedPerSec) ||
    fired(gates, GATE.stressedPersistenceLatency)
  )
    persistenceProgress = 'degraded';
  else persistenceProgress = 'ok';

  // Workers: the supply side of external demand, seen from SDK metrics and from matching.
  const w = config.worker;
  const workers = new Pressure()
    .add(SIG.wftScheduleToStartP95, num(o, I.wftScheduleToStartP95), w.wftScheduleToStartMaxMs)
    .add(
      SIG.activityScheduleToStartP95,
      num(o, I.activityScheduleToStartP95),
      w.activityScheduleToStartMaxMs,
    )
    .add(
      SIG.workflowSlotsUsed,
      utilisation(num(o, I.workflowSlotsUsed), num(o, I.workflowSlotsAvailable)),
      1,
    )
    .add(
      SIG.activitySlotsUsed,
      utilisation(num(o, I.activitySlotsUsed), num(o, I.activitySlotsAvailable)),
      1,
    )
    .add(DERIVED.matchingBacklogMax, matchingBacklog, t.stressedMatchingBacklogAgeSec);
  const noPoller = num(o, I.noPollerTasks);
  let workersProgress: ServiceHealth['forwardProgress'];
  if (workers.level === 'unknown') workersProgress = 'unknown';
  else if (
    (noPoller !== undefined && noPoller > config.idle.errorRateMaxPerSec) ||
    matchingProgress === 'blocked'
  )
    workersProgress = 'blocked';
  else if (workers.level === 'high') workersProgress = 'degraded';
  else workersProgress = 'ok';

  return [
    history.health('history', historyProgress),
    matching.health('matching', matchingProgress),
    frontend.health('frontend', frontendProgress),
    persistence.health('persistence', persistenceProgress),
    workers.health('workers', workersProgress),
  ];
}

const NO_FINDINGS: readonly WorkerFinding[] = Object.freeze([]);

/**
 * Worker advice, from positive evidence only: absent SDK metrics never read as "no free slots"
 * (the prior art's false worker_limited:
 * docs/lessons.md#missing-sdk-metrics-are-not-starved-workers). Skipped when the server is
 * critical: advice about workers is noise while the server itself cannot make progress.
 */
export function assessWorkers(
  o: Observation,
  t: ThresholdSet,
  config: EngineConfig,
  state: HealthState,
  serverCritical: boolean,
  gates: readonly GateResult[],
): WorkerAssessment {
  const wfAvail = num(o, I.workflowSlotsAvailable);
  const wfUsed = num(o, I.workflowSlotsUsed);
  const actAvail = num(o, I.activitySlotsAvailable);
  const actUsed = num(o, I.activitySlotsUsed);
  const wftS2S = num(o, I.wftScheduleToStartP95);
  const actS2S = num(o, I.activityScheduleToStartP95);
  const wfPollers = num(o, I.workflowPollers);
  const actPollers = num(o, I.activityPollers);
  const sticky = num(o, I.stickyHitRate);
  const sdkMetricsVisible =
    wftS2S !== undefined ||
    actS2S !== undefined ||
    wfAvail !== undefined ||
    actAvail !== undefined ||
    wfPollers !== undefined ||
    actPollers !== undefined ||
    sticky !== undefined;
  if (state === 'unknown') {
    return { evaluated: false, skipReason: 'state_unknown', sdkMetricsVisible, findings: [] };
  }
  if (serverCritical) {
    return { evaluated: false, skipReason: 'server_critical', sdkMetricsVisible, findings: [] };
  }
  const w = config.worker;
  let findings: WorkerFinding[] | undefined;
  const add = (f: WorkerFinding): void => {
    if (findings === undefined) findings = [];
    findings.push(f);
  };
  // 0 available with 0 used means no worker reports slots, not exhaustion.
  if (wfAvail === 0 && wfUsed !== undefined && wfUsed > 0) {
    add({
      rule: 'NEVER_SCALE_DOWN_AT_ZERO',
      severity: 'critical',
      signal: SIG.workflowSlotsAvailable,
      observed: 0,
      message:
        'Workflow-task slots are exhausted: workers stop polling and the backlog grows. Add capacity; never scale down now.',
    });
  }
  if (actAvail === 0 && actUsed !== undefined && actUsed > 0) {
    add({
      rule: 'NEVER_SCALE_DOWN_AT_ZERO',
      severity: 'critical',
      signal: SIG.activitySlotsAvailable,
      observed: 0,
      message:
        'Activity slots are exhausted: workers stop polling and the backlog grows. Add capacity; never scale down now.',
    });
  }
  if (wftS2S !== undefined && wftS2S > w.wftScheduleToStartMaxMs) {
    add({
      rule: 'SCHEDULE_TO_START_HIGH',
      severity: 'warning',
      signal: SIG.wftScheduleToStartP95,
      observed: wftS2S,
      message: 'Workflow tasks wait too long for a worker to pick them up.',
    });
  }
  if (actS2S !== undefined && actS2S > w.activityScheduleToStartMaxMs) {
    add({
      rule: 'SCHEDULE_TO_START_HIGH',
      severity: 'warning',
      signal: SIG.activityScheduleToStartP95,
      observed: actS2S,
      message: 'Activity tasks wait too long for a worker to pick them up.',
    });
  }
  const matchingBacklog = matchingBacklogOf(gates);
  if (matchingBacklog !== undefined && matchingBacklog > t.stressedMatchingBacklogAgeSec) {
    add({
      rule: 'TASKS_WAITING_FOR_WORKERS',
      severity: 'warning',
      signal: DERIVED.matchingBacklogMax,
      observed: matchingBacklog,
      message: 'Tasks sit in task-queue backlogs waiting for a worker to poll them.',
    });
  }
  const noPoller = num(o, I.noPollerTasks);
  if (noPoller !== undefined && noPoller > config.idle.errorRateMaxPerSec) {
    add({
      rule: 'NO_POLLERS',
      severity: 'warning',
      signal: SIG.noPollerTasks,
      observed: noPoller,
      message: 'Tasks arrive on task queues that no worker polls.',
    });
  }
  const pollers = (wfPollers ?? 0) + (actPollers ?? 0);
  const slots = (wfAvail ?? 0) + (wfUsed ?? 0) + (actAvail ?? 0) + (actUsed ?? 0);
  if (wfPollers !== undefined && slots > 0 && pollers > slots) {
    add({
      rule: 'POLLER_EXECUTOR_MISMATCH',
      severity: 'info',
      signal: SIG.workflowPollers,
      observed: pollers,
      message: 'More pollers than execution slots: the extra pollers only hold connections.',
    });
  }
  if (sticky !== undefined && sticky < w.stickyCacheHitRateMin) {
    add({
      rule: 'STICKY_CACHE_LOW',
      severity: 'warning',
      signal: SIG.stickyHitRate,
      observed: sticky,
      message:
        'Sticky cache misses force full history replays; size the cache or restart to redistribute.',
    });
  }
  const wftFailures = num(o, I.wftFailures);
  if (wftFailures !== undefined && wftFailures > 0) {
    add({
      rule: 'WORKFLOW_TASK_FAILURES',
      severity: 'warning',
      signal: SIG.wftFailures,
      observed: wftFailures,
      message: 'Workflow tasks fail in workers (nondeterminism or panics) and are retried.',
    });
  }
  return {
    evaluated: true,
    skipReason: null,
    sdkMetricsVisible,
    findings: findings ?? (NO_FINDINGS as WorkerFinding[]),
  };
}
