import { DERIVED, SIG } from '../signals/ids.js';
import type { GateLevel } from './evaluation.js';

export type Comparison = 'above' | 'below';

export interface GateDef<Id extends string = string> {
  readonly id: Id;
  /** The prior art's gate number (S1…S12, H1…H3, R1…R3). */
  readonly family: string;
  readonly level: GateLevel;
  readonly signal: string;
  readonly comparison: Comparison;
  readonly demandGated: boolean;
}

const def = <Id extends string>(
  id: Id,
  family: string,
  level: GateLevel,
  signal: string,
  comparison: Comparison,
  demandGated = false,
): GateDef<Id> => Object.freeze({ id, family, level, signal, comparison, demandGated });

/**
 * Every gate, in the order evaluations list them. {@link GATE} names their positions; the decision
 * kernel (decide.ts) computes each gate's observed value, threshold and skip reason at the same
 * position, so this table, the kernel and the materialised evaluation cannot disagree on order.
 */
export const GATE_DEFS = Object.freeze([
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
] as const);

/** Every gate id, as a type: tables keyed by it must cover each gate. */
export type GateId = (typeof GATE_DEFS)[number]['id'];
/** Gates whose firing is a problem in itself (critical or stressed limits). */
export type ProblemGateId = Extract<GateId, `critical.${string}` | `stressed.${string}`>;
export type HealthyGateId = Extract<GateId, `healthy.${string}`>;

export const GATE_COUNT = GATE_DEFS.length;

/** All gate ids, in evaluation order (for documentation, the API and tests). */
export const GATE_IDS: readonly GateId[] = Object.freeze(GATE_DEFS.map((g) => g.id));

/** `snake_case` → `camelCase`, as a type. */
type Camel<S extends string> = S extends `${infer H}_${infer T}`
  ? `${H}${Capitalize<Camel<T>>}`
  : S;
/** A gate id's key in {@link GATE}: `critical.completion_rate` → `criticalCompletionRate`. */
export type GateKey<Id extends string> = Id extends `${infer Level}.${infer Name}`
  ? `${Level}${Capitalize<Camel<Name>>}`
  : never;

const keyOf = (id: string): string => id.replace(/[._]([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Positions of the gates in an evaluation's `gates` and in the kernel's per-gate arrays, derived
 * from {@link GATE_DEFS} (so a gate added there has its position here, and a misspelt key does not
 * compile). `GATE.criticalThroughput` is 0.
 */
export const GATE = Object.freeze(
  Object.fromEntries(GATE_DEFS.map((g, i) => [keyOf(g.id), i])),
) as { readonly [K in GateId as GateKey<K>]: number };

/** A bit per gate of `level`, for testing "any fired gate of this level" in one AND. */
function levelMask(level: GateLevel): number {
  let mask = 0;
  GATE_DEFS.forEach((g, i) => {
    if (g.level === level) mask |= 1 << i;
  });
  return mask;
}

export const CRITICAL_MASK = levelMask('critical');
export const STRESSED_MASK = levelMask('stressed');
export const HEALTHY_MASK = levelMask('healthy');
export const RECOVERY_MASK = levelMask('recovery');

/** 1 where the gate fires when its value is above the threshold, 0 when below. */
export const FIRES_ABOVE: Readonly<Uint8Array> = Uint8Array.from(GATE_DEFS, (g) =>
  g.comparison === 'above' ? 1 : 0,
);
