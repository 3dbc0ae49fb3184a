import * as z from 'zod';
import { ConfigurationError } from '../errors.js';

/**
 * Scale bands, boundaries 50 and 500 st/s; each has its own threshold profile
 * (docs/lessons.md#small-clusters-get-small-limits).
 */
export const SCALE_BANDS = ['starter', 'mid-scale', 'high-throughput'] as const;
export const ScaleBandSchema = z.enum(SCALE_BANDS);
export type ScaleBand = z.infer<typeof ScaleBandSchema>;

const rate = z.number().nonnegative();
const ratio = z.number().min(0).max(1);

/**
 * The band-dependent thresholds. Names say the gate, the unit and the direction. Comments name the
 * prior art's gate number (S1…S12) so explanations and tests can cross-reference the original
 * gates (the gate table in docs/health-engine.md).
 */
export const ThresholdSetSchema = z.strictObject({
  /** S1 critical: state transitions per second below this while not idle. */
  criticalThroughputMinPerSec: rate,
  /** S5 critical: history tasks processed per second below this while not idle. */
  criticalProcessingMinPerSec: rate,
  /** S3 demand gate: the completion-rate gate needs at least this many terminal workflows/s. */
  criticalCompletionDemandFloorPerSec: rate,
  /** S3 critical: completion rate below this. */
  criticalCompletionRateMin: ratio,
  /** S4 critical: history backlog age above this (also fires while system-busy). */
  criticalHistoryBacklogMaxSec: rate,
  /** S12 critical: persistence errors per second above this (also fires while system-busy). */
  criticalPersistenceErrorsMaxPerSec: rate,
  /** S2 stressed: history RPC p99 above this. */
  stressedHistoryLatencyP99MaxMs: rate,
  /** S4 stressed: history backlog age above this. */
  stressedHistoryBacklogSec: rate,
  /** S8 stressed (demand-gated): frontend p99 without long polls above this. */
  stressedFrontendLatencyP99MaxMs: rate,
  /** S11 stressed: history persistence p99 above this. */
  stressedPersistenceLatencyP99MaxMs: rate,
  /** S6 stressed: shard churn per second above this. */
  stressedShardChurnMaxPerSec: rate,
  /** S10 stressed (demand-gated): poll timeout ratio above this. */
  stressedPollTimeoutRateMax: ratio,
  /** S9 stressed (new): oldest task waiting for a worker, in seconds, above this. */
  stressedMatchingBacklogAgeSec: rate,
  /**
   * S9 stressed (new): tasks added per second to task queues no worker polls. The backlog-age
   * gauge can read 0 while tasks wait (seen on the 1.29 dev server); this counter cannot.
   */
  stressedNoPollerTasksPerSec: rate,
  /**
   * S9 stressed (new): p95 time workflow or activity tasks waited for a worker (SDK metrics) above
   * this. Workers are part of forward progress: tasks that wait are progress that does not happen.
   */
  stressedScheduleToStartP95Ms: rate,
  /** Happy needs at least this many state transitions per second. */
  healthyThroughputMinPerSec: rate,
  /** Happy needs the history backlog age at or below this. */
  healthyHistoryBacklogMaxSec: rate,
  /** Happy needs this completion rate when enough workflows end to judge it. */
  healthyCompletionRateMin: ratio,
});
export type ThresholdSet = z.infer<typeof ThresholdSetSchema>;

/**
 * The prior art's three profiles (docs/lessons.md#small-clusters-get-small-limits), plus S9
 * thresholds that mirror the history backlog stress limits. The history-latency limits take over
 * the values of the prior art's S2.
 */
export const DEFAULT_PROFILES: Readonly<Record<ScaleBand, ThresholdSet>> = Object.freeze({
  starter: {
    criticalThroughputMinPerSec: 0.5,
    criticalProcessingMinPerSec: 0.5,
    criticalCompletionDemandFloorPerSec: 0.5,
    criticalCompletionRateMin: 0.3,
    criticalHistoryBacklogMaxSec: 600,
    criticalPersistenceErrorsMaxPerSec: 50,
    stressedHistoryLatencyP99MaxMs: 2000,
    stressedHistoryBacklogSec: 120,
    stressedFrontendLatencyP99MaxMs: 5000,
    stressedPersistenceLatencyP99MaxMs: 500,
    stressedShardChurnMaxPerSec: 5,
    stressedPollTimeoutRateMax: 0.5,
    stressedMatchingBacklogAgeSec: 120,
    stressedNoPollerTasksPerSec: 0.1,
    stressedScheduleToStartP95Ms: 2000,
    healthyThroughputMinPerSec: 0.5,
    healthyHistoryBacklogMaxSec: 120,
    healthyCompletionRateMin: 0.85,
  },
  'mid-scale': {
    criticalThroughputMinPerSec: 3,
    criticalProcessingMinPerSec: 3,
    criticalCompletionDemandFloorPerSec: 3,
    criticalCompletionRateMin: 0.3,
    criticalHistoryBacklogMaxSec: 300,
    criticalPersistenceErrorsMaxPerSec: 50,
    stressedHistoryLatencyP99MaxMs: 1000,
    stressedHistoryBacklogSec: 60,
    stressedFrontendLatencyP99MaxMs: 2000,
    stressedPersistenceLatencyP99MaxMs: 200,
    stressedShardChurnMaxPerSec: 5,
    stressedPollTimeoutRateMax: 0.3,
    stressedMatchingBacklogAgeSec: 60,
    stressedNoPollerTasksPerSec: 0.5,
    stressedScheduleToStartP95Ms: 1000,
    healthyThroughputMinPerSec: 5,
    healthyHistoryBacklogMaxSec: 60,
    healthyCompletionRateMin: 0.85,
  },
  'high-throughput': {
    criticalThroughputMinPerSec: 5,
    criticalProcessingMinPerSec: 5,
    criticalCompletionDemandFloorPerSec: 5,
    criticalCompletionRateMin: 0.3,
    criticalHistoryBacklogMaxSec: 300,
    criticalPersistenceErrorsMaxPerSec: 50,
    stressedHistoryLatencyP99MaxMs: 500,
    stressedHistoryBacklogSec: 30,
    stressedFrontendLatencyP99MaxMs: 1000,
    stressedPersistenceLatencyP99MaxMs: 100,
    stressedShardChurnMaxPerSec: 5,
    stressedPollTimeoutRateMax: 0.1,
    stressedMatchingBacklogAgeSec: 30,
    stressedNoPollerTasksPerSec: 1,
    stressedScheduleToStartP95Ms: 500,
    healthyThroughputMinPerSec: 10,
    healthyHistoryBacklogMaxSec: 30,
    healthyCompletionRateMin: 0.85,
  },
});

/**
 * Ordering rules a threshold set must keep. Each returns a message when broken. The prior art only
 * checked one pair and allowed configurations whose gates contradicted each other.
 */
const ORDERING_RULES: ReadonlyArray<(t: ThresholdSet) => string | undefined> = [
  (t) =>
    t.criticalThroughputMinPerSec <= t.healthyThroughputMinPerSec
      ? undefined
      : `criticalThroughputMinPerSec (${t.criticalThroughputMinPerSec}) must not exceed healthyThroughputMinPerSec (${t.healthyThroughputMinPerSec})`,
  (t) =>
    t.criticalCompletionRateMin < t.healthyCompletionRateMin
      ? undefined
      : `criticalCompletionRateMin (${t.criticalCompletionRateMin}) must be below healthyCompletionRateMin (${t.healthyCompletionRateMin})`,
  (t) =>
    t.healthyHistoryBacklogMaxSec <= t.stressedHistoryBacklogSec
      ? undefined
      : `healthyHistoryBacklogMaxSec (${t.healthyHistoryBacklogMaxSec}) must not exceed stressedHistoryBacklogSec (${t.stressedHistoryBacklogSec})`,
  (t) =>
    t.stressedHistoryBacklogSec < t.criticalHistoryBacklogMaxSec
      ? undefined
      : `stressedHistoryBacklogSec (${t.stressedHistoryBacklogSec}) must be below criticalHistoryBacklogMaxSec (${t.criticalHistoryBacklogMaxSec})`,
];

/** Returns every ordering violation of a threshold set (empty when it is consistent). */
export function thresholdOrderingErrors(t: ThresholdSet): string[] {
  const errors: string[] = [];
  for (const rule of ORDERING_RULES) {
    const message = rule(t);
    if (message !== undefined) errors.push(message);
  }
  return errors;
}

const PartialThresholdsSchema = ThresholdSetSchema.partial();

/** Operator overrides: applied to every band (`all`), then per band. Unknown keys are rejected. */
export const ThresholdOverridesSchema = z.strictObject({
  all: PartialThresholdsSchema.optional(),
  starter: PartialThresholdsSchema.optional(),
  'mid-scale': PartialThresholdsSchema.optional(),
  'high-throughput': PartialThresholdsSchema.optional(),
});
export type ThresholdOverrides = z.infer<typeof ThresholdOverridesSchema>;

/** When a cluster counts as idle: nothing to do, nothing waiting, nothing failing. */
const IdleSchema = z.strictObject({
  throughputMaxPerSec: rate.default(5),
  processingMaxPerSec: rate.default(5),
  errorRateMaxPerSec: rate.default(0.1),
  backlogAgeMaxSec: rate.default(5),
  /** Tasks waiting in backlogs; system task queues keep a few. */
  backlogCountMax: rate.default(20),
  deletionMaxPerSec: rate.default(1),
  cleanupMaxPerSec: rate.default(0.5),
  /**
   * Idle needs at least one demand signal (backlog age or count) to be visible: with none, a
   * quiet cluster cannot be told from a stuck one, and the engine says `unknown` instead.
   */
  requireDemandEvidence: z.boolean().default(true),
});

/**
 * Retention storms: little progress while the system deletes
 * (docs/lessons.md#retention-storms-are-work).
 */
const BusySchema = z.strictObject({
  throughputMaxPerSec: rate.default(5),
  deletionMinPerSec: rate.default(5),
  cleanupMinPerSec: rate.default(1),
});

const DebounceSchema = z.strictObject({
  /** Consecutive critical cycles before Critical (90 s at a 30 s cadence). */
  criticalConsecutiveCycles: z.number().int().min(1).max(100).default(3),
  /** Leaving Critical needs throughput at least this multiple of the critical floor. */
  recoveryThroughputFactor: z.number().min(1).max(10).default(1.5),
  /** Leaving Critical needs the history backlog below this share of the critical maximum. */
  recoveryBacklogFactor: z.number().gt(0).max(1).default(0.75),
  /** Leaving Critical needs processing at least this multiple of its critical floor. */
  recoveryProcessingFactor: z.number().min(1).max(10).default(1.5),
  /**
   * Blind (`unknown`) cycles hold the critical streak; after this many in a row it resets, so a
   * long outage never carries stale evidence into a new Critical.
   */
  unknownResetCycles: z.number().int().min(1).default(10),
});

const BandSchema = z
  .strictObject({
    starterMaxPerSec: rate.default(50),
    midMaxPerSec: rate.default(500),
    /** Relative margin around each boundary before the band moves (10 %). */
    hysteresis: z.number().min(0).max(0.5).default(0.1),
    /** Cycles the throughput must stay above a boundary before the band moves up. */
    upDwellCycles: z.number().int().min(1).default(3),
    /**
     * Calm cycles below a boundary before the band moves down. Stressed or critical cycles reset
     * the count, so a throughput collapse cannot drag the band down and hide itself.
     */
    downDwellCycles: z.number().int().min(1).default(20),
    /** Band to start in when no carried state exists (e.g. the deployment preset). */
    initial: ScaleBandSchema.optional(),
    /** The band never goes below this (anchor to the deployment's known scale). */
    floor: ScaleBandSchema.optional(),
  })
  .refine((b) => b.starterMaxPerSec < b.midMaxPerSec, {
    message: 'band.starterMaxPerSec must be below band.midMaxPerSec',
  });

/** Worker (SDK) thresholds; they decide the bottleneck, never the state. */
const WorkerSchema = z.strictObject({
  /** Temporal's own guidance: alert on schedule-to-start above 200 ms. */
  wftScheduleToStartMaxMs: rate.default(200),
  activityScheduleToStartMaxMs: rate.default(500),
  stickyCacheHitRateMin: ratio.default(0.5),
});

/** Amplifier pressure limits (the prior art declared these and never read them). */
const AmplifierSchema = z.strictObject({
  occConflictsPressurePerSec: rate.default(10),
  poolUtilizationPressurePct: z.number().min(0).max(100).default(80),
  poolWaitDurationPressureMs: rate.default(100),
  cacheHitRateMin: ratio.default(0.8),
  gcPausePressureMs: rate.default(100),
  resourceExhaustedPressurePerSec: rate.default(1),
});

/** Per-service verdict limits that have no band-dependent threshold. */
const ServicesSchema = z.strictObject({
  frontendErrorsDegradedPerSec: rate.default(1),
  frontendErrorsBlockedPerSec: rate.default(5),
  persistenceErrorsDegradedPerSec: rate.default(1),
});

export const EngineConfigInputSchema = z.strictObject({
  profiles: z
    .strictObject({
      starter: ThresholdSetSchema.optional(),
      'mid-scale': ThresholdSetSchema.optional(),
      'high-throughput': ThresholdSetSchema.optional(),
    })
    .optional(),
  overrides: ThresholdOverridesSchema.optional(),
  /** Demand gate of S8 and S10: below this many st/s, long polls dominate and timeouts are normal. */
  demandGateMinPerSec: rate.default(5),
  /** The happy completion check only runs with at least this many terminal workflows per second. */
  completionCheckMinTerminalPerSec: rate.default(1),
  /** A value whose newest sample is older than this is treated as absent (stale series). */
  maxSampleAgeSec: z.number().positive().default(300),
  idle: IdleSchema.prefault({}),
  busy: BusySchema.prefault({}),
  debounce: DebounceSchema.prefault({}),
  band: BandSchema.prefault({}),
  worker: WorkerSchema.prefault({}),
  amplifier: AmplifierSchema.prefault({}),
  services: ServicesSchema.prefault({}),
});
export type EngineConfigInput = z.input<typeof EngineConfigInputSchema>;

type ParsedInput = z.output<typeof EngineConfigInputSchema>;

/** The engine's whole configuration, validated and resolved: one threshold set per band. */
export interface EngineConfig extends Omit<ParsedInput, 'profiles' | 'overrides'> {
  readonly thresholds: Readonly<Record<ScaleBand, Readonly<ThresholdSet>>>;
}

export class EngineConfigError extends ConfigurationError {
  constructor(
    message: string,
    readonly issues: readonly string[],
  ) {
    super(message);
    this.name = 'EngineConfigError';
  }
}

/**
 * Validates operator configuration and resolves the per-band thresholds (profile, then `all`
 * overrides, then band overrides). Throws {@link EngineConfigError} listing every problem,
 * including ordering violations, so a bad configuration is refused at start-up, not at 3 a.m.
 */
export function resolveEngineConfig(input: unknown = {}): EngineConfig {
  const parsed = EngineConfigInputSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`,
    );
    throw new EngineConfigError(`invalid engine configuration: ${issues.join('; ')}`, issues);
  }
  const { profiles, overrides, ...rest } = parsed.data;
  const issues: string[] = [];
  const thresholds = {} as Record<ScaleBand, ThresholdSet>;
  for (const band of SCALE_BANDS) {
    const merged: ThresholdSet = {
      ...(profiles?.[band] ?? DEFAULT_PROFILES[band]),
      ...stripUndefined(overrides?.all),
      ...stripUndefined(overrides?.[band]),
    };
    for (const message of thresholdOrderingErrors(merged)) issues.push(`${band}: ${message}`);
    thresholds[band] = Object.freeze(merged);
  }
  if (rest.idle.throughputMaxPerSec > rest.demandGateMinPerSec) {
    issues.push(
      `idle.throughputMaxPerSec (${rest.idle.throughputMaxPerSec}) must not exceed demandGateMinPerSec (${rest.demandGateMinPerSec})`,
    );
  }
  if (issues.length > 0) {
    throw new EngineConfigError(`invalid engine configuration: ${issues.join('; ')}`, issues);
  }
  return Object.freeze({ ...rest, thresholds: Object.freeze(thresholds) });
}

function stripUndefined<T extends object>(o: T | undefined): Partial<T> {
  if (o === undefined) return {};
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

/** The default configuration, resolved once. */
export const DEFAULT_ENGINE_CONFIG: EngineConfig = resolveEngineConfig({});
