import type { Evaluation, GateResult } from '../health/evaluation.js';

/**
 * How sure an explanation can be of its causes, from the evidence the engine recorded — never a
 * constant per state (the rule-based explainer used to answer 0.9, 0.8, 0.65, 0.6 or 0.3 whatever
 * the numbers). Pure and deterministic. Three things move it:
 *
 * - **margin**: how far the most decisive fired gate is past its limit, relative to the limit
 *   (twice the limit counts as fully past: a latency of 400 ms against 200 ms is a clear cause, one
 *   of 210 ms is a borderline one);
 * - **persistence**: how many cycles the critical evidence has held, against the debounce (the
 *   engine's critical streak); stressed gates carry no streak, so they count half;
 * - **visibility**: the share of critical gates that had to be evaluated and could be (a blind
 *   gate — its signal failed or went stale — is a question the explanation cannot answer). Counted
 *   over the critical gates, the ones that could make the picture worse: counted over all gates,
 *   one blind critical gate among twenty moved the figure by less than its rounding.
 *
 * Competing causes on different services lower it a little: the explanation names several.
 */
export interface ConfidenceEvidence {
  /** 0..1: the strongest fired problem gate's margin past its limit. */
  readonly margin: number;
  /** 0..1: sustained critical evidence (streak over the critical debounce). */
  readonly persistence: number;
  /** 0..1: evaluated critical gates over evaluated plus blind critical ones. */
  readonly visibility: number;
  /** Distinct services with a fired problem gate. */
  readonly services: number;
}

const clamp = (x: number, lo = 0, hi = 1) => Math.min(hi, Math.max(lo, x));

/** How far past its limit a fired gate is, relative to the limit: 0 at the limit, 1 at twice it. */
export function marginOf(g: Pick<GateResult, 'observed' | 'threshold' | 'comparison'>): number {
  if (g.observed === null) return 0;
  const limit = Math.abs(g.threshold);
  if (limit === 0) return g.observed === g.threshold ? 0 : 1;
  const past = g.comparison === 'above' ? g.observed - g.threshold : g.threshold - g.observed;
  return clamp(past / limit);
}

/** Which service a gate speaks for (its id's family of signals), for counting competing causes. */
function serviceOf(g: GateResult): string {
  return g.signal.slice(0, g.signal.indexOf('.'));
}

export function evidenceOf(e: Evaluation, criticalCycles = 3): ConfidenceEvidence {
  const problems = e.gates.filter(
    (g) => g.fired && (g.level === 'critical' || g.level === 'stressed'),
  );
  const margin = problems.reduce((m, g) => Math.max(m, marginOf(g)), 0);
  const criticalFired = problems.some((g) => g.level === 'critical');
  const persistence = criticalFired
    ? clamp(e.carried.criticalStreak / Math.max(1, criticalCycles))
    : problems.length > 0
      ? 0.5
      : 0;
  const blindIds = new Set(e.blindGates);
  const critical = e.gates.filter((g) => g.level === 'critical');
  const evaluated = critical.filter((g) => g.evaluated).length;
  const blind = critical.filter((g) => blindIds.has(g.id)).length;
  const visibility = evaluated + blind === 0 ? 0 : evaluated / (evaluated + blind);
  return { margin, persistence, visibility, services: new Set(problems.map(serviceOf)).size };
}

/**
 * The confidence of the rule-based explanation of `e`, 0.05..0.97. Happy and idle rest on how much
 * of the picture was visible; unknown is low by nature; stressed and critical rise with the margin,
 * the persistence and the visibility. Monotone in each (a test checks the margin).
 */
export function evidenceConfidence(e: Evaluation, criticalCycles = 3): number {
  const x = evidenceOf(e, criticalCycles);
  let c: number;
  if (e.state === 'unknown') c = 0.15 + 0.25 * x.visibility;
  else if (e.state === 'happy') c = 0.55 + 0.4 * x.visibility;
  else {
    const competing = Math.min(0.15, 0.05 * Math.max(0, x.services - 1));
    c = 0.3 + 0.35 * x.margin + 0.15 * x.persistence + 0.15 * x.visibility - competing;
  }
  return Math.round(clamp(c, 0.05, 0.97) * 100) / 100;
}
