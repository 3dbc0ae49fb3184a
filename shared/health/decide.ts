import type { EngineConfig } from './config.js';
import { SCALE_BANDS } from './config.js';
import {
  BottleneckSchema,
  type CarriedState,
  type Evaluation,
  HEALTH_STATES,
  type HealthState,
  type KnownState,
  SkipReasonSchema,
  type StateReason,
  StateReasonSchema,
} from './evaluation.js';
import {
  CRITICAL_MASK,
  FIRES_ABOVE,
  GATE,
  GATE_COUNT,
  GATE_IDS,
  HEALTHY_MASK,
  RECOVERY_MASK,
  STRESSED_MASK,
} from './gates.js';
import {
  ABSENT,
  ENGINE_WIDTH,
  ERROR,
  I,
  type ObservationColumns,
  OK,
  STALE,
} from './observation.js';
import {
  type BandRules,
  bandCode,
  bandName,
  bandRules,
  initialBand,
  NO_BAND,
  stepBand,
} from './scale-band.js';

/*
 * The decision kernel: everything the engine *decides* for one cycle — state and reason, band,
 * idle and system-busy, every gate's observed value, threshold, skip reason and verdict, the
 * bottleneck and the carried state — computed from numbers into preallocated cells. `evaluate`
 * runs this kernel and then materialises the JSON evaluation (gate objects, per-service health,
 * worker findings) from what it wrote; `replay` runs it alone over columns. One implementation of
 * the rules, two ways to read the result: a replay of months never allocates per cycle, and the
 * evaluation the API serves can never disagree with the replay that reproduces it.
 *
 * Numeric encodings (all indices into the zod enums, so they cannot drift from the schema):
 * states HEALTH_STATES (-1 = none), reasons StateReasonSchema.options, bottlenecks
 * BottleneckSchema.options, bands SCALE_BANDS (-1 = none), skip 0 = evaluated else
 * 1 + SkipReasonSchema.options index, statuses ObservedStatusSchema.options.
 */

const HAPPY = 0;
const STRESSED = 1;
const CRITICAL = 2;
const UNKNOWN = 3;
const NONE = -1;

const reasonCode = (r: StateReason): number => StateReasonSchema.options.indexOf(r);
const R_NO_DATA = reasonCode('no_progress_data');
const R_BLIND_IDLE = reasonCode('cannot_tell_idle_from_stuck');
const R_IDLE = reasonCode('idle');
const R_SUSTAINED = reasonCode('critical_sustained');
const R_DEBOUNCING = reasonCode('critical_debouncing');
const R_GUARD = reasonCode('critical_guard_from_happy');
const R_RECOVERY = reasonCode('recovery_hysteresis');
const R_STRESSED = reasonCode('stressed_gates');
const R_BELOW_HEALTHY = reasonCode('below_healthy');
const R_HEALTHY = reasonCode('healthy');
const R_PARTIAL = reasonCode('partial_visibility');

const B = BottleneckSchema.options;
const B_SERVER = B.indexOf('server_limited');
const B_WORKER = B.indexOf('worker_limited');
const B_MIXED = B.indexOf('mixed');
const B_HEALTHY = B.indexOf('healthy');
const B_UNKNOWN = B.indexOf('unknown');

const SK = SkipReasonSchema.options;
const SK_NO_DATA = SK.indexOf('no_data') + 1;
const SK_LOW_DEMAND = SK.indexOf('low_demand') + 1;
const SK_BUSY = SK.indexOf('system_busy') + 1;
const SK_IDLE = SK.indexOf('idle') + 1;
const SK_NOT_CRITICAL = SK.indexOf('not_critical') + 1;

/** Gates whose firing is evidence about the server itself, not a symptom both sides cause. */
const SERVER_EVIDENCE_MASK =
  (1 << GATE.criticalHistoryBacklog) |
  (1 << GATE.criticalPersistenceErrors) |
  (1 << GATE.stressedHistoryLatency) |
  (1 << GATE.stressedHistoryBacklog) |
  (1 << GATE.stressedShardChurn) |
  (1 << GATE.stressedFrontendLatency) |
  (1 << GATE.stressedPersistenceLatency);
/**
 * Gates that compare throughput or processing with the band's floors. A cycle in which only these
 * fire, with nothing waiting and nothing failing, says demand fell — not that the cluster failed —
 * and counts toward stepping the band down (see `calmForBand` in `decide`).
 */
const FLOOR_MASK =
  (1 << GATE.criticalThroughput) |
  (1 << GATE.criticalProcessing) |
  (1 << GATE.healthyThroughput) |
  (1 << GATE.recoveryThroughput) |
  (1 << GATE.recoveryProcessing);
/** Critical gates that mean the server itself cannot progress (then worker advice is noise). */
const SERVER_CRITICAL_MASK =
  (1 << GATE.criticalHistoryBacklog) | (1 << GATE.criticalPersistenceErrors);

/** What one cycle carries to the next, as numbers. Mirrors {@link CarriedState}. */
export class CarriedCells {
  lastState = NONE;
  lastKnown = NONE;
  criticalStreak = 0;
  unknownStreak = 0;
  band = NO_BAND;
  upDwell = 0;
  downDwell = 0;
  cycles = 0;
}

export function cellsFromCarried(
  c: CarriedState | null | undefined,
  into: CarriedCells,
): CarriedCells {
  if (c === null || c === undefined) {
    into.lastState = NONE;
    into.lastKnown = NONE;
    into.criticalStreak = 0;
    into.unknownStreak = 0;
    into.band = NO_BAND;
    into.upDwell = 0;
    into.downDwell = 0;
    into.cycles = 0;
    return into;
  }
  into.lastState = c.lastState === null ? NONE : HEALTH_STATES.indexOf(c.lastState);
  into.lastKnown = c.lastKnownState === null ? NONE : HEALTH_STATES.indexOf(c.lastKnownState);
  into.criticalStreak = c.criticalStreak;
  into.unknownStreak = c.unknownStreak;
  into.band = bandCode(c.band);
  into.upDwell = c.bandUpDwell;
  into.downDwell = c.bandDownDwell;
  into.cycles = c.cycles;
  return into;
}

export function carriedFromCells(c: CarriedCells): CarriedState {
  return {
    version: 1,
    lastState: c.lastState === NONE ? null : stateName(c.lastState),
    lastKnownState: c.lastKnown === NONE ? null : (stateName(c.lastKnown) as KnownState),
    criticalStreak: c.criticalStreak,
    unknownStreak: c.unknownStreak,
    band: c.band === NO_BAND ? null : bandName(c.band),
    bandUpDwell: c.upDwell,
    bandDownDwell: c.downDwell,
    cycles: c.cycles,
  };
}

function stateName(code: number): HealthState {
  const s = HEALTH_STATES[code];
  if (s === undefined) throw new RangeError(`no health state ${code}`);
  return s;
}

/** One cycle's decision. Reused across cycles: read it before the next `decide` into it. */
export class Decision {
  observedAt = 0;
  state = UNKNOWN;
  previousState = NONE;
  reason = R_NO_DATA;
  band = 0;
  idle = false;
  busy = false;
  /** Critical because history or persistence cannot progress; worker advice is skipped. */
  serverCritical = false;
  bottleneck = B_UNKNOWN;
  /** Bit `i` set when gate `i` fired. */
  fired = 0;
  /** Bit `i` set when gate `i` should have been evaluated but its signal was `error` or `stale`. */
  blind = 0;
  readonly observed = new Float64Array(GATE_COUNT);
  readonly threshold = new Float64Array(GATE_COUNT);
  readonly status = new Uint8Array(GATE_COUNT);
  readonly skip = new Uint8Array(GATE_COUNT);
  /** The carried state for the next cycle. */
  readonly next = new CarriedCells();
}

/**
 * A configuration compiled into numbers: per-band gate thresholds in one flat array, the idle,
 * busy, debounce and worker limits as fields of one object.
 */
export class CompiledEngine {
  readonly thresholds: Float64Array;
  readonly completionFloor: Float64Array;
  readonly bands: BandRules;
  readonly idleThroughput: number;
  readonly idleProcessing: number;
  readonly idleErrorRate: number;
  readonly idleBacklogAge: number;
  readonly idleBacklogCount: number;
  readonly idleDeletion: number;
  readonly idleCleanup: number;
  readonly requireDemandEvidence: boolean;
  readonly busyThroughput: number;
  readonly busyDeletion: number;
  readonly busyCleanup: number;
  readonly demandGateMin: number;
  readonly completionCheckMin: number;
  readonly criticalCycles: number;
  readonly unknownResetCycles: number;
  readonly wftScheduleToStartMax: number;
  readonly activityScheduleToStartMax: number;

  constructor(readonly config: EngineConfig) {
    const d = config.debounce;
    this.thresholds = new Float64Array(SCALE_BANDS.length * GATE_COUNT);
    this.completionFloor = new Float64Array(SCALE_BANDS.length);
    SCALE_BANDS.forEach((band, b) => {
      const t = config.thresholds[band];
      // In GATE_DEFS order; test/unit/health/decide.test.ts checks every position against its gate.
      const row = [
        t.criticalThroughputMinPerSec,
        t.criticalCompletionRateMin,
        t.criticalHistoryBacklogMaxSec,
        t.criticalProcessingMinPerSec,
        t.criticalPersistenceErrorsMaxPerSec,
        t.stressedHistoryLatencyP99MaxMs,
        t.stressedHistoryBacklogSec,
        t.stressedShardChurnMaxPerSec,
        t.stressedFrontendLatencyP99MaxMs,
        t.stressedMatchingBacklogAgeSec,
        t.stressedPollTimeoutRateMax,
        t.stressedPersistenceLatencyP99MaxMs,
        t.stressedNoPollerTasksPerSec,
        t.stressedScheduleToStartP95Ms,
        t.healthyThroughputMinPerSec,
        t.healthyHistoryBacklogMaxSec,
        t.healthyCompletionRateMin,
        t.criticalThroughputMinPerSec * d.recoveryThroughputFactor,
        t.criticalHistoryBacklogMaxSec * d.recoveryBacklogFactor,
        t.criticalProcessingMinPerSec * d.recoveryProcessingFactor,
      ];
      if (row.length !== GATE_COUNT) throw new Error('threshold row out of step with GATE_DEFS');
      this.thresholds.set(row, b * GATE_COUNT);
      this.completionFloor[b] = t.criticalCompletionDemandFloorPerSec;
    });
    this.bands = bandRules(config);
    const ic = config.idle;
    this.idleThroughput = ic.throughputMaxPerSec;
    this.idleProcessing = ic.processingMaxPerSec;
    this.idleErrorRate = ic.errorRateMaxPerSec;
    this.idleBacklogAge = ic.backlogAgeMaxSec;
    this.idleBacklogCount = ic.backlogCountMax;
    this.idleDeletion = ic.deletionMaxPerSec;
    this.idleCleanup = ic.cleanupMaxPerSec;
    this.requireDemandEvidence = ic.requireDemandEvidence;
    this.busyThroughput = config.busy.throughputMaxPerSec;
    this.busyDeletion = config.busy.deletionMinPerSec;
    this.busyCleanup = config.busy.cleanupMinPerSec;
    this.demandGateMin = config.demandGateMinPerSec;
    this.completionCheckMin = config.completionCheckMinTerminalPerSec;
    this.criticalCycles = d.criticalConsecutiveCycles;
    this.unknownResetCycles = d.unknownResetCycles;
    this.wftScheduleToStartMax = config.worker.wftScheduleToStartMaxMs;
    this.activityScheduleToStartMax = config.worker.activityScheduleToStartMaxMs;
  }
}

const compiled = new WeakMap<EngineConfig, CompiledEngine>();

/** The compiled form of a configuration, built once per configuration object. */
export function compileEngine(config: EngineConfig): CompiledEngine {
  let e = compiled.get(config);
  if (e === undefined) {
    e = new CompiledEngine(config);
    compiled.set(config, e);
  }
  return e;
}

// Signal positions within a row, read once at module load.
const TP = I.throughput;
const PROC = I.processing;
const SUCCESS = I.success;
const FAILED = I.failed;
const HB = I.historyBacklog;
const HLAT = I.historyLatencyP99;
const CHURN = I.shardChurn;
const FE_ERR = I.frontendErrors;
const FE_LAT = I.frontendLatencyP99;
const MWB = I.matchingWorkflowBacklog;
const MAB = I.matchingActivityBacklog;
const BCOUNT = I.backlogCount;
const NO_POLLER = I.noPollerTasks;
const POLL_TO = I.pollTimeoutRate;
const P_LAT = I.persistenceLatencyP99;
const P_ERR = I.persistenceErrors;
const DEL = I.deletion;
const CLEAN = I.cleanup;
const WFT_S2S = I.wftScheduleToStartP95;
const ACT_S2S = I.activityScheduleToStartP95;
const WF_AVAIL = I.workflowSlotsAvailable;
const WF_USED = I.workflowSlotsUsed;
const ACT_AVAIL = I.activitySlotsAvailable;
const ACT_USED = I.activitySlotsUsed;

/** True when a value is below `max`, or absent (no such event recorded); false on error or stale. */
function lowOrAbsent(n: Float64Array, s: Uint8Array, j: number, max: number): boolean {
  const v = n[j] as number;
  return !Number.isNaN(v) ? v < max : s[j] === ABSENT;
}

/** Why a value derived from two signals is unusable: the worse of their statuses. */
function worseStatus(a: number, b: number): number {
  if (a === ERROR || b === ERROR) return ERROR;
  if (a === STALE || b === STALE) return STALE;
  return ABSENT;
}

/** The larger of two values, either of which may be NaN (unusable); NaN only when both are. */
function maxUsable(a: number, b: number): number {
  if (Number.isNaN(a)) return b;
  if (Number.isNaN(b)) return a;
  return Math.max(a, b);
}

/**
 * Decides one cycle: row `row` of `cols` with the previous cycle's carried state `prev`, into
 * `out` (whose `next` becomes the following cycle's `prev`). Pure: the same inputs always write the
 * same cells. `prev` may be `out.next` itself; it is read in full before anything is written.
 *
 * Order (docs/health-engine.md, "Order of evaluation"): band of the cycle → idle and
 * system-busy → gates → state with debounce, Happy→Critical guard and recovery hysteresis → band
 * for the next cycle → bottleneck (worker capacity only counts when the server is not critical).
 */
export function decide(
  e: CompiledEngine,
  cols: ObservationColumns,
  row: number,
  prev: CarriedCells,
  out: Decision,
): void {
  const n = cols.n;
  const s = cols.s;
  const base = row * ENGINE_WIDTH;
  const lastState = prev.lastState;
  const lastKnown = prev.lastKnown;
  const prevStreak = prev.criticalStreak;
  const prevUnknownStreak = prev.unknownStreak;
  const prevBand = prev.band;
  const upDwell = prev.upDwell;
  const downDwell = prev.downDwell;
  const cycles = prev.cycles;

  const tp = n[base + TP] as number;
  const hasTp = !Number.isNaN(tp);
  // The cycle is judged with the band it starts in; see stepBand for why.
  const band = prevBand !== NO_BAND ? prevBand : initialBand(tp, e.bands);
  const tb = band * GATE_COUNT;
  const th = e.thresholds;

  // Idle: nothing to do, nothing waiting, nothing failing
  // (docs/lessons.md#idle-and-startup-are-not-failure).
  const hb = n[base + HB] as number;
  const mwb = n[base + MWB] as number;
  const mab = n[base + MAB] as number;
  const bcount = n[base + BCOUNT] as number;
  // Nothing waiting and nothing failing: what idle needs, and what lets a quiet band step down.
  const quietDemand =
    lowOrAbsent(n, s, base + FE_ERR, e.idleErrorRate) &&
    lowOrAbsent(n, s, base + P_ERR, e.idleErrorRate) &&
    lowOrAbsent(n, s, base + FAILED, e.idleErrorRate) &&
    lowOrAbsent(n, s, base + HB, e.idleBacklogAge) &&
    lowOrAbsent(n, s, base + MWB, e.idleBacklogAge) &&
    lowOrAbsent(n, s, base + MAB, e.idleBacklogAge) &&
    (!Number.isNaN(bcount) ? bcount <= e.idleBacklogCount : s[base + BCOUNT] === ABSENT) &&
    lowOrAbsent(n, s, base + NO_POLLER, e.idleErrorRate);
  const idleCandidate =
    tp < e.idleThroughput &&
    lowOrAbsent(n, s, base + PROC, e.idleProcessing) &&
    quietDemand &&
    lowOrAbsent(n, s, base + DEL, e.idleDeletion) &&
    lowOrAbsent(n, s, base + CLEAN, e.idleCleanup);
  const demandVisible =
    !Number.isNaN(hb) || !Number.isNaN(mwb) || !Number.isNaN(mab) || !Number.isNaN(bcount);
  const idle = idleCandidate && (demandVisible || !e.requireDemandEvidence);
  const blindIdle = idleCandidate && !idle;

  // Retention storms: little progress while the system deletes; never idle
  // (docs/lessons.md#retention-storms-are-work).
  // Comparisons with NaN are false, so unusable values never make a cluster busy.
  const busy =
    tp < e.busyThroughput &&
    ((n[base + DEL] as number) >= e.busyDeletion || (n[base + CLEAN] as number) >= e.busyCleanup);

  // Why a gate is not evaluated this cycle (0 = it is, if its value is usable).
  const idleSkip = idle ? SK_IDLE : 0;
  const progressSkip = idle ? SK_IDLE : busy ? SK_BUSY : 0;
  const demandSkip = idle ? SK_IDLE : tp >= e.demandGateMin ? 0 : SK_LOW_DEMAND;
  const recoverySkip = idle ? SK_IDLE : lastKnown === CRITICAL ? 0 : SK_NOT_CRITICAL;

  // Completion: failures are lazily-created counters, so absent failures with visible successes
  // mean none happened (docs/lessons.md#lazy-counters-are-not-zeros), never an unknown rate.
  const success = n[base + SUCCESS] as number;
  const failedRaw = n[base + FAILED] as number;
  const failed = !Number.isNaN(failedRaw)
    ? failedRaw
    : s[base + FAILED] === ABSENT
      ? 0
      : Number.NaN;
  const terminal = success + failed;
  const completion = terminal > 0 ? success / terminal : Number.NaN;
  // Unusable because successes or failures could not be read (either makes the gate blind), or
  // because nothing completed (absent: no demand to judge).
  const completionStatus = !Number.isNaN(completion)
    ? OK
    : s[base + SUCCESS] !== OK
      ? (s[base + SUCCESS] as number)
      : s[base + FAILED] !== OK && s[base + FAILED] !== ABSENT
        ? (s[base + FAILED] as number)
        : ABSENT;
  const s3Skip =
    progressSkip !== 0
      ? progressSkip
      : terminal < (e.completionFloor[band] as number)
        ? SK_LOW_DEMAND
        : 0;
  const h3Skip = idleSkip !== 0 ? idleSkip : terminal < e.completionCheckMin ? SK_LOW_DEMAND : 0;

  const matching = maxUsable(mwb, mab);
  const matchingStatus = !Number.isNaN(matching)
    ? OK
    : worseStatus(s[base + MWB] as number, s[base + MAB] as number);
  const s2s = maxUsable(n[base + WFT_S2S] as number, n[base + ACT_S2S] as number);
  const s2sStatus = !Number.isNaN(s2s)
    ? OK
    : worseStatus(s[base + WFT_S2S] as number, s[base + ACT_S2S] as number);
  const proc = n[base + PROC] as number;

  const obs = out.observed;
  const st = out.status;
  const sk = out.skip;
  const tpS = s[base + TP] as number;
  const hbS = s[base + HB] as number;
  const procS = s[base + PROC] as number;
  // Per gate, in GATE_DEFS order: observed value, its status, why it may be skipped. Written out
  // rather than through a helper: the helper measured ~30 % slower on the whole decision.
  obs[0] = tp;
  st[0] = tpS;
  sk[0] = progressSkip;
  obs[1] = completion;
  st[1] = completionStatus;
  sk[1] = s3Skip;
  obs[2] = hb;
  st[2] = hbS;
  sk[2] = idleSkip;
  obs[3] = proc;
  st[3] = procS;
  sk[3] = progressSkip;
  obs[4] = n[base + P_ERR] as number;
  st[4] = s[base + P_ERR] as number;
  sk[4] = idleSkip;
  obs[5] = n[base + HLAT] as number;
  st[5] = s[base + HLAT] as number;
  sk[5] = idleSkip;
  obs[6] = hb;
  st[6] = hbS;
  sk[6] = idleSkip;
  obs[7] = n[base + CHURN] as number;
  st[7] = s[base + CHURN] as number;
  sk[7] = idleSkip;
  obs[8] = n[base + FE_LAT] as number;
  st[8] = s[base + FE_LAT] as number;
  sk[8] = demandSkip;
  obs[9] = matching;
  st[9] = matchingStatus;
  sk[9] = idleSkip;
  obs[10] = n[base + POLL_TO] as number;
  st[10] = s[base + POLL_TO] as number;
  sk[10] = demandSkip;
  obs[11] = n[base + P_LAT] as number;
  st[11] = s[base + P_LAT] as number;
  sk[11] = idleSkip;
  obs[12] = n[base + NO_POLLER] as number;
  st[12] = s[base + NO_POLLER] as number;
  sk[12] = idleSkip;
  obs[13] = s2s;
  st[13] = s2sStatus;
  sk[13] = idleSkip;
  obs[14] = tp;
  st[14] = tpS;
  sk[14] = idleSkip;
  obs[15] = hb;
  st[15] = hbS;
  sk[15] = idleSkip;
  obs[16] = completion;
  st[16] = completionStatus;
  sk[16] = h3Skip;
  obs[17] = tp;
  st[17] = tpS;
  sk[17] = recoverySkip;
  obs[18] = hb;
  st[18] = hbS;
  sk[18] = recoverySkip;
  obs[19] = proc;
  st[19] = procS;
  sk[19] = recoverySkip;

  const thr = out.threshold;
  let fired = 0;
  let blind = 0;
  for (let g = 0; g < GATE_COUNT; g++) {
    const x = obs[g] as number;
    const limit = th[tb + g] as number;
    thr[g] = limit;
    if (sk[g] !== 0) continue;
    if (Number.isNaN(x)) {
      sk[g] = SK_NO_DATA;
      // Absent is "nothing to measure" (no series, no requests in the window); a failed or stale
      // read is the copilot not seeing.
      if (st[g] === ERROR || st[g] === STALE) blind |= 1 << g;
    } else if (FIRES_ABOVE[g] === 1 ? x > limit : x < limit) fired |= 1 << g;
  }

  let state: number;
  let reason: number;
  let criticalStreak = prevStreak;
  let unknownStreak = 0;
  // Nothing seen was wrong, but a critical gate could not look: the copilot cannot call it happy.
  // Decided before the state rules so the streak is held, as on any blind cycle.
  const partial =
    hasTp &&
    !idle &&
    !blindIdle &&
    (blind & CRITICAL_MASK) !== 0 &&
    (fired & (CRITICAL_MASK | STRESSED_MASK | HEALTHY_MASK)) === 0 &&
    !(lastKnown === CRITICAL && (fired & RECOVERY_MASK) !== 0);
  if (!hasTp || blindIdle || partial) {
    state = UNKNOWN;
    reason = !hasTp ? R_NO_DATA : blindIdle ? R_BLIND_IDLE : R_PARTIAL;
    // Blind cycles hold the streak (they are no evidence either way) until the outage is long.
    unknownStreak = prevUnknownStreak + 1;
    if (unknownStreak >= e.unknownResetCycles) criticalStreak = 0;
  } else if (idle) {
    state = HAPPY;
    reason = R_IDLE;
    criticalStreak = 0;
  } else if ((fired & CRITICAL_MASK) !== 0) {
    criticalStreak += 1;
    if (criticalStreak < e.criticalCycles) {
      state = STRESSED;
      reason = R_DEBOUNCING;
    } else if (lastKnown === HAPPY || lastKnown === NONE) {
      // Happy never becomes Critical in one step, whatever the carried streak claims.
      state = STRESSED;
      reason = R_GUARD;
    } else {
      state = CRITICAL;
      reason = R_SUSTAINED;
    }
  } else {
    criticalStreak = 0;
    if (lastKnown === CRITICAL && (fired & RECOVERY_MASK) !== 0) {
      state = STRESSED;
      reason = R_RECOVERY;
    } else if ((fired & STRESSED_MASK) !== 0) {
      state = STRESSED;
      reason = R_STRESSED;
    } else if ((fired & HEALTHY_MASK) !== 0) {
      state = STRESSED;
      reason = R_BELOW_HEALTHY;
    } else {
      state = HAPPY;
      reason = R_HEALTHY;
    }
  }

  // Bottleneck from evidence on each side. A throughput collapse alone is a symptom either side
  // can cause; the server's own gates and persistence are server evidence.
  const serverCritical = state === CRITICAL && (fired & SERVER_CRITICAL_MASK) !== 0;
  let bottleneck: number;
  if (state === UNKNOWN) bottleneck = B_UNKNOWN;
  else if (serverCritical) bottleneck = B_SERVER;
  else {
    const server = (fired & SERVER_EVIDENCE_MASK) !== 0;
    // Worker capacity from positive evidence only (the rules services.ts reports as findings):
    // exhausted slots, long schedule-to-start, tasks waiting, tasks with no poller. NaN compares
    // false, so missing SDK metrics never read as worker-limited.
    const worker =
      ((n[base + WF_AVAIL] as number) === 0 && (n[base + WF_USED] as number) > 0) ||
      ((n[base + ACT_AVAIL] as number) === 0 && (n[base + ACT_USED] as number) > 0) ||
      (n[base + WFT_S2S] as number) > e.wftScheduleToStartMax ||
      (n[base + ACT_S2S] as number) > e.activityScheduleToStartMax ||
      matching > (th[tb + GATE.stressedMatchingBacklog] as number) ||
      (n[base + NO_POLLER] as number) > e.idleErrorRate;
    if (server && worker) bottleneck = B_MIXED;
    else if (server) bottleneck = B_SERVER;
    else if (worker) bottleneck = B_WORKER;
    // Critical with no evidence on either side: progress stopped and nothing on the worker side
    // explains it, so the server is the honest default (the prior art's rule).
    else bottleneck = state === CRITICAL ? B_SERVER : B_HEALTHY;
  }

  out.observedAt = cols.observedAt[row] as number;
  out.state = state;
  out.previousState = lastState;
  out.reason = reason;
  out.band = band;
  out.idle = idle;
  out.busy = busy;
  out.serverCritical = serverCritical;
  out.bottleneck = bottleneck;
  out.fired = fired;
  out.blind = blind;

  const next = out.next;
  next.lastState = state;
  next.lastKnown = state === UNKNOWN ? lastKnown : state;
  next.criticalStreak = criticalStreak;
  next.unknownStreak = unknownStreak;
  next.cycles = cycles + 1;
  // The band moves only on cycles that could see progress. Down needs calm cycles: happy ones, or
  // ones unhappy only through this band's own throughput/processing floors while demand is seen
  // and clean (nothing waiting, nothing failing) — demand fell, so the band's floors no longer
  // describe the cluster. A collapse with work waiting or errors is never calm: it keeps the band
  // and its alarm (docs/health-engine.md, "The band comes down when demand does").
  if (state !== UNKNOWN) {
    const calmForBand =
      state === HAPPY ||
      ((fired & ~FLOOR_MASK) === 0 && (fired & FLOOR_MASK) !== 0 && quietDemand && demandVisible);
    stepBand(next, band, upDwell, downDwell, tp, calmForBand, e.bands);
  } else {
    next.band = prevBand;
    next.upDwell = upDwell;
    next.downDwell = downDwell;
  }
}

/** The part of an evaluation a replay reports per step (what `copilot replay` prints). */
export type DecisionSummary = Pick<
  Evaluation,
  | 'observedAt'
  | 'state'
  | 'previousState'
  | 'changed'
  | 'reason'
  | 'scaleBand'
  | 'idle'
  | 'systemBusy'
  | 'firedGates'
  | 'blindGates'
  | 'bottleneck'
  | 'carried'
>;

function gateIdsOf(mask: number): string[] {
  const ids: string[] = [];
  for (let g = 0; g < GATE_COUNT; g++) if ((mask & (1 << g)) !== 0) ids.push(GATE_IDS[g] as string);
  return ids;
}

export function summarize(d: Decision): DecisionSummary {
  const state = stateName(d.state);
  const previousState = d.previousState === NONE ? null : stateName(d.previousState);
  return {
    observedAt: d.observedAt,
    state,
    previousState,
    changed: previousState !== state,
    reason: StateReasonSchema.options[d.reason] as StateReason,
    scaleBand: bandName(d.band),
    idle: d.idle,
    systemBusy: d.busy,
    firedGates: gateIdsOf(d.fired),
    blindGates: gateIdsOf(d.blind),
    bottleneck: B[d.bottleneck] as Evaluation['bottleneck'],
    carried: carriedFromCells(d.next),
  };
}

/**
 * Runs the kernel over every row of `cols` in order, carrying state from row to row, and calls
 * `visit` with each decision (the same object each time: copy what you keep). Returns the carried
 * state after the last row, to seed the next replay.
 */
export function replayColumns(
  config: EngineConfig,
  cols: ObservationColumns,
  initial: CarriedState | null | undefined,
  visit?: (d: Decision, row: number) => void,
): CarriedState {
  const e = compileEngine(config);
  const d = new Decision();
  cellsFromCarried(initial, d.next);
  for (let row = 0; row < cols.rows; row++) {
    decide(e, cols, row, d.next, d);
    visit?.(d, row);
  }
  return carriedFromCells(d.next);
}
