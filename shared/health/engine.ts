import { DERIVED, SIG } from '../signals/ids.js';
import type { EngineConfig, ThresholdSet } from './config.js';
import { DEFAULT_ENGINE_CONFIG } from './config.js';
import type {
  CarriedState,
  Evaluation,
  GateLevel,
  GateResult,
  HealthState,
  KnownState,
  ObservedStatus,
  SkipReason,
  StateReason,
} from './evaluation.js';
import { INITIAL_CARRIED_STATE } from './evaluation.js';
import { I, num, type Observation, observe } from './observation.js';
import { initialBand, stepBand } from './scale-band.js';
import { assessWorkers, classifyBottleneck, GATE, serviceHealth } from './services.js';
import type { Snapshot } from './snapshot.js';

type Cmp = 'above' | 'below';

interface GateDef {
  readonly id: string;
  readonly family: string;
  readonly level: GateLevel;
  readonly signal: string;
  readonly comparison: Cmp;
  readonly demandGated: boolean;
}

const def = (
  id: string,
  family: string,
  level: GateLevel,
  signal: string,
  comparison: Cmp,
  demandGated = false,
): GateDef => ({ id, family, level, signal, comparison, demandGated });

/**
 * Every gate, in the order evaluations list them; {@link GATE} in services.ts holds their
 * positions. Thresholds come from the cycle's band.
 */
const GATE_DEFS: readonly GateDef[] = [
  def('critical.throughput', 'S1', 'critical', SIG.throughput, 'below'),
  def('critical.completion_rate', 'S3', 'critical', DERIVED.completionRate, 'below', true),
  def('critical.history_backlog', 'S4', 'critical', SIG.historyBacklog, 'above'),
  def('critical.processing', 'S5', 'critical', SIG.processing, 'below'),
  def('critical.persistence_errors', 'S12', 'critical', SIG.persistenceErrors, 'above'),
  def('stressed.history_latency', 'S2', 'stressed', SIG.historyLatencyP99, 'above'),
  def('stressed.history_backlog', 'S4', 'stressed', SIG.historyBacklog, 'above'),
  def('stressed.shard_churn', 'S6', 'stressed', SIG.shardChurn, 'above'),
  def('stressed.frontend_latency', 'S8', 'stressed', SIG.frontendLatencyP99, 'above', true),
  def('stressed.matching_backlog', 'S9', 'stressed', DERIVED.matchingBacklogMax, 'above'),
  def('stressed.poll_timeouts', 'S10', 'stressed', SIG.pollTimeoutRate, 'above', true),
  def('stressed.persistence_latency', 'S11', 'stressed', SIG.persistenceLatencyP99, 'above'),
  def('stressed.no_pollers', 'S9', 'stressed', SIG.noPollerTasks, 'above'),
  def('stressed.schedule_to_start', 'S9', 'stressed', DERIVED.scheduleToStartMax, 'above'),
  def('healthy.throughput', 'H1', 'healthy', SIG.throughput, 'below'),
  def('healthy.history_backlog', 'H2', 'healthy', SIG.historyBacklog, 'above'),
  def('healthy.completion_rate', 'H3', 'healthy', DERIVED.completionRate, 'below', true),
  def('recovery.throughput', 'R1', 'recovery', SIG.throughput, 'below'),
  def('recovery.history_backlog', 'R2', 'recovery', SIG.historyBacklog, 'above'),
  def('recovery.processing', 'R3', 'recovery', SIG.processing, 'below'),
];

/** All gate ids, in evaluation order (for documentation, the API and tests). */
export const GATE_IDS: readonly string[] = GATE_DEFS.map((g) => g.id);

function gate(
  d: GateDef | undefined,
  observed: number | undefined,
  status: ObservedStatus,
  threshold: number,
  skip: SkipReason | null,
): GateResult {
  const g = d as GateDef;
  const evaluated = skip === null && observed !== undefined;
  let fired = false;
  if (evaluated) {
    fired =
      g.comparison === 'above'
        ? (observed as number) > threshold
        : (observed as number) < threshold;
  }
  return {
    id: g.id,
    family: g.family,
    level: g.level,
    signal: g.signal,
    fired,
    evaluated,
    observed: observed ?? null,
    observedStatus: status,
    threshold,
    comparison: g.comparison,
    demandGated: g.demandGated,
    skipReason: evaluated ? null : (skip ?? 'no_data'),
  };
}

/** True when a value is below `max`, or absent (no such event recorded); false on error or stale. */
function lowOrAbsent(o: Observation, i: number, max: number): boolean {
  const v = num(o, i);
  return v !== undefined ? v < max : o.s[i] === 'absent';
}

export function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}

/**
 * Evaluates one observation. Pure and deterministic: the same carried state, snapshot and
 * configuration always give the same evaluation, with no clock, I/O or randomness, so workflows,
 * Lambda, `copilot replay` and fast-check all run it unchanged.
 *
 * Order (prior-art §3a, with the §17 fixes): read tri-state values → band of the cycle → idle and
 * system-busy → gates → state with debounce, Happy→Critical guard and recovery hysteresis → band
 * for the next cycle → per-service health → bottleneck and worker advice (skipped when the server
 * is critical).
 *
 * @param previous the carried state of the previous cycle, or null on the first cycle
 */
export function evaluate(
  previous: CarriedState | null | undefined,
  snapshot: Snapshot,
  config: EngineConfig = DEFAULT_ENGINE_CONFIG,
): Evaluation {
  return evaluateObservation(previous, observe(snapshot, config.maxSampleAgeSec), config);
}

/** {@link evaluate} on an already-read observation (replay builds these from columns). */
export function evaluateObservation(
  previous: CarriedState | null | undefined,
  o: Observation,
  config: EngineConfig = DEFAULT_ENGINE_CONFIG,
): Evaluation {
  const carried = previous ?? INITIAL_CARRIED_STATE;
  const tp = num(o, I.throughput);

  // The cycle is judged with the band it starts in; see stepBand for why.
  const band = carried.band ?? initialBand(tp, config);
  const t = config.thresholds[band];

  // Idle: nothing to do, nothing waiting, nothing failing (prior-art §3a step 3, IDLE limits).
  const ic = config.idle;
  const backlogCount = num(o, I.backlogCount);
  const idleCandidate =
    tp !== undefined &&
    tp < ic.throughputMaxPerSec &&
    lowOrAbsent(o, I.processing, ic.processingMaxPerSec) &&
    lowOrAbsent(o, I.frontendErrors, ic.errorRateMaxPerSec) &&
    lowOrAbsent(o, I.persistenceErrors, ic.errorRateMaxPerSec) &&
    lowOrAbsent(o, I.failed, ic.errorRateMaxPerSec) &&
    lowOrAbsent(o, I.historyBacklog, ic.backlogAgeMaxSec) &&
    lowOrAbsent(o, I.matchingWorkflowBacklog, ic.backlogAgeMaxSec) &&
    lowOrAbsent(o, I.matchingActivityBacklog, ic.backlogAgeMaxSec) &&
    (backlogCount !== undefined
      ? backlogCount <= ic.backlogCountMax
      : o.s[I.backlogCount] === 'absent') &&
    lowOrAbsent(o, I.noPollerTasks, ic.errorRateMaxPerSec) &&
    lowOrAbsent(o, I.deletion, ic.deletionMaxPerSec) &&
    lowOrAbsent(o, I.cleanup, ic.cleanupMaxPerSec);
  const demandVisible =
    num(o, I.historyBacklog) !== undefined ||
    num(o, I.matchingWorkflowBacklog) !== undefined ||
    num(o, I.matchingActivityBacklog) !== undefined ||
    backlogCount !== undefined;
  const idle = idleCandidate && (demandVisible || !ic.requireDemandEvidence);
  const blindIdle = idleCandidate && !idle;

  // Retention storms: little progress while the system deletes; never idle (prior-art §16.14).
  const deletion = num(o, I.deletion);
  const cleanup = num(o, I.cleanup);
  const busy =
    tp !== undefined &&
    tp < config.busy.throughputMaxPerSec &&
    ((deletion !== undefined && deletion >= config.busy.deletionMinPerSec) ||
      (cleanup !== undefined && cleanup >= config.busy.cleanupMinPerSec));

  const gates = buildGates(o, t, config, idle, busy, carried.lastKnownState);

  let anyCritical = false;
  let anyStressed = false;
  let anyHealthyFailed = false;
  let anyRecovery = false;
  const firedGates: string[] = [];
  for (const g of gates) {
    if (!g.fired) continue;
    firedGates.push(g.id);
    if (g.level === 'critical') anyCritical = true;
    else if (g.level === 'stressed') anyStressed = true;
    else if (g.level === 'healthy') anyHealthyFailed = true;
    else anyRecovery = true;
  }

  let state: HealthState;
  let reason: StateReason;
  let criticalStreak = carried.criticalStreak;
  let unknownStreak = 0;
  const lastKnown = carried.lastKnownState;
  if (tp === undefined || blindIdle) {
    state = 'unknown';
    reason = tp === undefined ? 'no_progress_data' : 'cannot_tell_idle_from_stuck';
    // Blind cycles hold the streak (they are no evidence either way) until the outage is long.
    unknownStreak = carried.unknownStreak + 1;
    if (unknownStreak >= config.debounce.unknownResetCycles) criticalStreak = 0;
  } else if (idle) {
    state = 'happy';
    reason = 'idle';
    criticalStreak = 0;
  } else if (anyCritical) {
    criticalStreak += 1;
    if (criticalStreak < config.debounce.criticalConsecutiveCycles) {
      state = 'stressed';
      reason = 'critical_debouncing';
    } else if (lastKnown === 'happy' || lastKnown === null) {
      // Happy never becomes Critical in one step, whatever the carried streak claims.
      state = 'stressed';
      reason = 'critical_guard_from_happy';
    } else {
      state = 'critical';
      reason = 'critical_sustained';
    }
  } else {
    criticalStreak = 0;
    if (lastKnown === 'critical' && anyRecovery) {
      state = 'stressed';
      reason = 'recovery_hysteresis';
    } else if (anyStressed) {
      state = 'stressed';
      reason = 'stressed_gates';
    } else if (anyHealthyFailed) {
      state = 'stressed';
      reason = 'below_healthy';
    } else {
      state = 'happy';
      reason = 'healthy';
    }
  }

  // The band moves only on cycles that could see progress.
  let nextBand = carried.band;
  let bandUpDwell = carried.bandUpDwell;
  let bandDownDwell = carried.bandDownDwell;
  if (tp !== undefined && state !== 'unknown') {
    const step = stepBand(band, bandUpDwell, bandDownDwell, tp, state, config);
    nextBand = step.band;
    bandUpDwell = step.upDwell;
    bandDownDwell = step.downDwell;
  }

  const services = serviceHealth(o, t, config, state, idle, busy, gates);
  const serverCritical =
    state === 'critical' &&
    ((gates[GATE.criticalHistoryBacklog] as GateResult).fired ||
      (gates[GATE.criticalPersistenceErrors] as GateResult).fired);
  const workers = assessWorkers(o, t, config, state, serverCritical);
  const bottleneck = classifyBottleneck(state, serverCritical, gates, services, workers);

  return {
    observedAt: o.observedAt,
    state,
    previousState: carried.lastState,
    changed: carried.lastState !== state,
    reason,
    scaleBand: band,
    idle,
    systemBusy: busy,
    gates,
    firedGates,
    services,
    bottleneck,
    workers,
    carried: {
      version: 1,
      lastState: state,
      lastKnownState: state === 'unknown' ? lastKnown : (state as KnownState),
      criticalStreak,
      unknownStreak,
      band: nextBand,
      bandUpDwell,
      bandDownDwell,
      cycles: carried.cycles + 1,
    },
  };
}

function buildGates(
  o: Observation,
  t: ThresholdSet,
  config: EngineConfig,
  idle: boolean,
  busy: boolean,
  lastKnown: KnownState | null,
): GateResult[] {
  const s = o.s;
  const tp = num(o, I.throughput);
  const idleSkip: SkipReason | null = idle ? 'idle' : null;
  const progressSkip: SkipReason | null = idle ? 'idle' : busy ? 'system_busy' : null;
  const lowDemand = tp === undefined || tp < config.demandGateMinPerSec;
  const demandSkip: SkipReason | null = idle ? 'idle' : lowDemand ? 'low_demand' : null;
  const recoverySkip: SkipReason | null = idle
    ? 'idle'
    : lastKnown === 'critical'
      ? null
      : 'not_critical';

  // Completion: failures are lazily-created counters, so absent failures with visible successes
  // mean none happened (the `or vector(0)` lesson of prior-art §13), never an unknown rate.
  const success = num(o, I.success);
  const failed = num(o, I.failed) ?? (s[I.failed] === 'absent' ? 0 : undefined);
  const terminal = success !== undefined && failed !== undefined ? success + failed : undefined;
  const completion =
    terminal !== undefined && terminal > 0 ? (success as number) / terminal : undefined;
  const completionStatus: ObservedStatus =
    completion !== undefined ? 'ok' : (s[I.success] as ObservedStatus);
  const s3Skip =
    progressSkip ??
    (terminal !== undefined && terminal < t.criticalCompletionDemandFloorPerSec
      ? 'low_demand'
      : null);
  const h3Skip =
    idleSkip ??
    (terminal !== undefined && terminal < config.completionCheckMinTerminalPerSec
      ? 'low_demand'
      : null);

  const matchingBacklog = maxDefined(
    num(o, I.matchingWorkflowBacklog),
    num(o, I.matchingActivityBacklog),
  );
  const matchingStatus: ObservedStatus =
    matchingBacklog !== undefined ? 'ok' : (s[I.matchingWorkflowBacklog] as ObservedStatus);

  const s2s = maxDefined(num(o, I.wftScheduleToStartP95), num(o, I.activityScheduleToStartP95));
  const s2sStatus: ObservedStatus =
    s2s !== undefined ? 'ok' : (s[I.wftScheduleToStartP95] as ObservedStatus);
  const tpS = s[I.throughput] as ObservedStatus;
  const hb = num(o, I.historyBacklog);
  const hbS = s[I.historyBacklog] as ObservedStatus;
  const proc = num(o, I.processing);
  const procS = s[I.processing] as ObservedStatus;
  const d = config.debounce;
  const D = GATE_DEFS;
  return [
    gate(D[0], tp, tpS, t.criticalThroughputMinPerSec, progressSkip),
    gate(D[1], completion, completionStatus, t.criticalCompletionRateMin, s3Skip),
    gate(D[2], hb, hbS, t.criticalHistoryBacklogMaxSec, idleSkip),
    gate(D[3], proc, procS, t.criticalProcessingMinPerSec, progressSkip),
    gate(
      D[4],
      num(o, I.persistenceErrors),
      s[I.persistenceErrors] as ObservedStatus,
      t.criticalPersistenceErrorsMaxPerSec,
      idleSkip,
    ),
    gate(
      D[5],
      num(o, I.historyLatencyP99),
      s[I.historyLatencyP99] as ObservedStatus,
      t.stressedHistoryLatencyP99MaxMs,
      idleSkip,
    ),
    gate(D[6], hb, hbS, t.stressedHistoryBacklogSec, idleSkip),
    gate(
      D[7],
      num(o, I.shardChurn),
      s[I.shardChurn] as ObservedStatus,
      t.stressedShardChurnMaxPerSec,
      idleSkip,
    ),
    gate(
      D[8],
      num(o, I.frontendLatencyP99),
      s[I.frontendLatencyP99] as ObservedStatus,
      t.stressedFrontendLatencyP99MaxMs,
      demandSkip,
    ),
    gate(D[9], matchingBacklog, matchingStatus, t.stressedMatchingBacklogAgeSec, idleSkip),
    gate(
      D[10],
      num(o, I.pollTimeoutRate),
      s[I.pollTimeoutRate] as ObservedStatus,
      t.stressedPollTimeoutRateMax,
      demandSkip,
    ),
    gate(
      D[11],
      num(o, I.persistenceLatencyP99),
      s[I.persistenceLatencyP99] as ObservedStatus,
      t.stressedPersistenceLatencyP99MaxMs,
      idleSkip,
    ),
    gate(
      D[12],
      num(o, I.noPollerTasks),
      s[I.noPollerTasks] as ObservedStatus,
      t.stressedNoPollerTasksPerSec,
      idleSkip,
    ),
    gate(D[13], s2s, s2sStatus, t.stressedScheduleToStartP95Ms, idleSkip),
    gate(D[14], tp, tpS, t.healthyThroughputMinPerSec, idleSkip),
    gate(D[15], hb, hbS, t.healthyHistoryBacklogMaxSec, idleSkip),
    gate(D[16], completion, completionStatus, t.healthyCompletionRateMin, h3Skip),
    gate(D[17], tp, tpS, t.criticalThroughputMinPerSec * d.recoveryThroughputFactor, recoverySkip),
    gate(D[18], hb, hbS, t.criticalHistoryBacklogMaxSec * d.recoveryBacklogFactor, recoverySkip),
    gate(
      D[19],
      proc,
      procS,
      t.criticalProcessingMinPerSec * d.recoveryProcessingFactor,
      recoverySkip,
    ),
  ];
}
