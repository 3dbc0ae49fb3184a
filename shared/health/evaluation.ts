import * as z from 'zod';
import { SERVICES } from '../signals/types.js';
import { ObservedStatusSchema } from '../signals/value.js';
import { ScaleBandSchema } from './config.js';

export const HEALTH_STATES = ['happy', 'stressed', 'critical', 'unknown'] as const;
export const HealthStateSchema = z.enum(HEALTH_STATES);
export type HealthState = z.infer<typeof HealthStateSchema>;

export const KnownStateSchema = z.enum(['happy', 'stressed', 'critical']);
export type KnownState = z.infer<typeof KnownStateSchema>;

/**
 * `unknown` is an addition to the seed's four values: with no forward-progress data there is no
 * honest bottleneck either.
 */
export const BottleneckSchema = z.enum([
  'server_limited',
  'worker_limited',
  'mixed',
  'healthy',
  'unknown',
]);
export type Bottleneck = z.infer<typeof BottleneckSchema>;

export const GateLevelSchema = z.enum(['critical', 'stressed', 'healthy', 'recovery']);
export type GateLevel = z.infer<typeof GateLevelSchema>;

export const SkipReasonSchema = z.enum([
  'no_data',
  'low_demand',
  'system_busy',
  'idle',
  'state_unknown',
  'not_critical',
]);
export type SkipReason = z.infer<typeof SkipReasonSchema>;

/**
 * One gate's verdict. `fired` always means "this is a problem": a critical or stressed limit
 * crossed, a healthy requirement not met, or a recovery condition still holding the state down.
 */
export const GateResultSchema = z.object({
  id: z.string(),
  /** The prior art's gate number (S1…S12), for cross-reference. */
  family: z.string(),
  level: GateLevelSchema,
  signal: z.string(),
  fired: z.boolean(),
  evaluated: z.boolean(),
  observed: z.number().nullable(),
  observedStatus: ObservedStatusSchema,
  threshold: z.number(),
  /** `above`: fires when observed > threshold; `below`: fires when observed < threshold. */
  comparison: z.enum(['above', 'below']),
  demandGated: z.boolean(),
  skipReason: SkipReasonSchema.nullable(),
});
export type GateResult = z.infer<typeof GateResultSchema>;

export const ServiceHealthSchema = z.object({
  service: z.enum(SERVICES),
  forwardProgress: z.enum(['ok', 'degraded', 'blocked', 'unknown']),
  pressure: z.enum(['low', 'moderate', 'high', 'unknown']),
  /** The signal furthest past its limit, when any is elevated. */
  dominantSignal: z.string().nullable(),
  /** Signals at or beyond their limit. */
  elevatedSignals: z.array(z.string()),
});
export type ServiceHealth = z.infer<typeof ServiceHealthSchema>;

export const WorkerFindingSchema = z.object({
  rule: z.enum([
    'NEVER_SCALE_DOWN_AT_ZERO',
    'SCHEDULE_TO_START_HIGH',
    'POLLER_EXECUTOR_MISMATCH',
    'STICKY_CACHE_LOW',
    'NO_POLLERS',
    'WORKFLOW_TASK_FAILURES',
    'TASKS_WAITING_FOR_WORKERS',
  ]),
  severity: z.enum(['info', 'warning', 'critical']),
  signal: z.string(),
  observed: z.number(),
  message: z.string(),
});
export type WorkerFinding = z.infer<typeof WorkerFindingSchema>;

export const WorkerAssessmentSchema = z.object({
  evaluated: z.boolean(),
  skipReason: z.enum(['server_critical', 'state_unknown']).nullable(),
  /** Whether any SDK metric was seen; without them only server-side evidence speaks. */
  sdkMetricsVisible: z.boolean(),
  findings: z.array(WorkerFindingSchema),
});
export type WorkerAssessment = z.infer<typeof WorkerAssessmentSchema>;

/**
 * What the engine carries from one cycle to the next. Plain JSON with a version, so it crosses
 * continue-as-new, is stored with every evaluation, and seeds `copilot replay`.
 */
export const CarriedStateSchema = z.strictObject({
  version: z.literal(1),
  lastState: HealthStateSchema.nullable(),
  /** The last state that was not `unknown`: blind cycles never open a Happy→Critical path. */
  lastKnownState: KnownStateSchema.nullable(),
  criticalStreak: z.number().int().nonnegative(),
  unknownStreak: z.number().int().nonnegative(),
  band: ScaleBandSchema.nullable(),
  bandUpDwell: z.number().int().nonnegative(),
  bandDownDwell: z.number().int().nonnegative(),
  cycles: z.number().int().nonnegative(),
});
export type CarriedState = z.infer<typeof CarriedStateSchema>;

export const INITIAL_CARRIED_STATE: CarriedState = Object.freeze({
  version: 1,
  lastState: null,
  lastKnownState: null,
  criticalStreak: 0,
  unknownStreak: 0,
  band: null,
  bandUpDwell: 0,
  bandDownDwell: 0,
  cycles: 0,
});

export const StateReasonSchema = z.enum([
  'no_progress_data',
  'cannot_tell_idle_from_stuck',
  'idle',
  'critical_sustained',
  'critical_debouncing',
  'critical_guard_from_happy',
  'recovery_hysteresis',
  'stressed_gates',
  'below_healthy',
  'healthy',
  /**
   * A critical gate could not be evaluated because its signal failed (`error`) or is `stale`,
   * and nothing the engine could see was wrong: not happy, because the copilot cannot see it.
   */
  'partial_visibility',
]);
export type StateReason = z.infer<typeof StateReasonSchema>;

/** Everything the engine derives for one cycle. The API and explainers only ever read this. */
export const EvaluationSchema = z.object({
  observedAt: z.number().int().nonnegative(),
  state: HealthStateSchema,
  previousState: HealthStateSchema.nullable(),
  changed: z.boolean(),
  reason: StateReasonSchema,
  scaleBand: ScaleBandSchema,
  idle: z.boolean(),
  systemBusy: z.boolean(),
  gates: z.array(GateResultSchema),
  firedGates: z.array(z.string()),
  /**
   * Gates that should have been evaluated this cycle but could not be, because their signal was
   * `error` or `stale` (not absent by design, not skipped for idle or low demand). Any critical
   * gate here makes an otherwise happy cycle `unknown` (`partial_visibility`). Evaluations stored
   * before this field existed read as none.
   */
  blindGates: z.array(z.string()).default([]),
  services: z.array(ServiceHealthSchema),
  bottleneck: BottleneckSchema,
  workers: WorkerAssessmentSchema,
  carried: CarriedStateSchema,
});
export type Evaluation = z.infer<typeof EvaluationSchema>;

const RANK: Readonly<Record<KnownState, number>> = { happy: 0, stressed: 1, critical: 2 };

/** Severity order of the known states (happy < stressed < critical). */
export function severityRank(state: KnownState): number {
  return RANK[state];
}
