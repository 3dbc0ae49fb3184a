import * as z from 'zod';

/**
 * Whether the newest evaluation still describes the cluster. The copilot itself can stop (a
 * worker down, a store rejecting writes, an observer terminated): then the newest row only says
 * what the cluster was, and every reader of the current state must say `unknown` / `stale`
 * instead of serving it as now (the prior art's dashboards kept showing `happy` for days).
 * Pure: the caller passes the clock.
 */

/** The cadence assumed for rows written before it was stored (the default observer interval). */
export const DEFAULT_INTERVAL_MS = 30_000;

/** How a reader judges age: past `intervals` × the row's cadence, and never sooner than `minMs`. */
export const StalenessPolicySchema = z.strictObject({
  /** @default 3 — three missed cycles, not one slow one. */
  intervals: z.number().positive().max(1_000).default(3),
  /**
   * A floor under the limit, for very short cadences: a cycle also takes the observation's own
   * time (up to the activity's 25 s timeout), which at a 1 s cadence is most of the gap.
   * @default 60_000
   */
  minMs: z.number().int().nonnegative().max(86_400_000).default(60_000),
});
export type StalenessPolicy = z.infer<typeof StalenessPolicySchema>;

export const DEFAULT_STALENESS: StalenessPolicy = Object.freeze({ intervals: 3, minMs: 60_000 });

/**
 * The variables that set the staleness rule, read by every process that judges an evaluation's
 * age (the API Lambda, `copilot api`, `copilot dev`, the worker when a new run resumes): one rule,
 * one pair of names.
 */
export const StalenessEnvSchema = z.object({
  /** Intervals of the cluster's own cadence before its newest evaluation is stale. */
  COPILOT_STALE_AFTER_INTERVALS: z.coerce.number().positive().max(1_000).default(3),
  /** A floor under that limit, in seconds. */
  COPILOT_STALE_AFTER_MIN_SECONDS: z.coerce.number().int().nonnegative().max(86_400).default(60),
});
export type StalenessEnv = z.infer<typeof StalenessEnvSchema>;

/** The policy the (already validated) variables describe. */
export function stalenessOf(env: StalenessEnv): StalenessPolicy {
  return {
    intervals: env.COPILOT_STALE_AFTER_INTERVALS,
    minMs: env.COPILOT_STALE_AFTER_MIN_SECONDS * 1000,
  };
}

/** A judgement of one evaluation's age. */
export interface Freshness {
  readonly stale: boolean;
  /** Whole seconds since the evaluation's instant (0 when the clocks disagree the other way). */
  readonly ageSeconds: number;
  /** The limit the age was judged against, in whole seconds. */
  readonly staleAfterSeconds: number;
}

export function freshnessOf(
  observedAtMs: number,
  intervalMs: number | null,
  nowMs: number,
  policy: StalenessPolicy = DEFAULT_STALENESS,
): Freshness {
  const limitMs = Math.max(policy.intervals * (intervalMs ?? DEFAULT_INTERVAL_MS), policy.minMs);
  const ageMs = Math.max(0, nowMs - observedAtMs);
  return {
    stale: ageMs > limitMs,
    ageSeconds: Math.floor(ageMs / 1000),
    staleAfterSeconds: Math.ceil(limitMs / 1000),
  };
}
