import type { ObservedStatus, Snapshot } from '../signals/value.js';
import type { EngineConfig } from './config.js';
import { DEFAULT_ENGINE_CONFIG } from './config.js';
import {
  CarriedCells,
  cellsFromCarried,
  compileEngine,
  Decision,
  decide,
  summarize,
} from './decide.js';
import {
  type CarriedState,
  type Evaluation,
  type GateResult,
  type SkipReason,
  SkipReasonSchema,
} from './evaluation.js';
import { GATE_COUNT, GATE_DEFS, type GateDef } from './gates.js';
import { type Observation, observationColumns, observeInto, STATUS_NAMES } from './observation.js';
import { assessWorkers, serviceHealth } from './services.js';

export { GATE_IDS } from './gates.js';

/**
 * Evaluates one observation. Pure and deterministic: the same carried state, snapshot and
 * configuration always give the same evaluation, with no clock, I/O or randomness, so workflows,
 * Lambda and fast-check all run it unchanged; `copilot replay` runs its kernel (decide.ts).
 *
 * The decision kernel (decide.ts) sets state, band, gates, bottleneck and carried state; this adds
 * what explains them — gate objects, per-service health, worker findings — as plain JSON.
 *
 * @param previous the carried state of the previous cycle, or null on the first cycle
 */
export function evaluate(
  previous: CarriedState | null | undefined,
  snapshot: Snapshot,
  config: EngineConfig = DEFAULT_ENGINE_CONFIG,
): Evaluation {
  observeInto(ROW, 0, snapshot, config.maxSampleAgeSec);
  return evaluateObservation(previous, ROW, config);
}

// Scratch for the kernel. `evaluate` is synchronous, calls nothing outside the engine and copies
// everything it returns out of these, so one set serves every call (typed arrays cost more to
// allocate than the whole decision).
const ROW = observationColumns(1);
const PREV = new CarriedCells();
const DECISION = new Decision();

function gateResult(d: GateDef, decision: Decision, g: number): GateResult {
  const x = decision.observed[g] as number;
  const skip = decision.skip[g] as number;
  return {
    id: d.id,
    family: d.family,
    level: d.level,
    signal: d.signal,
    fired: (decision.fired & (1 << g)) !== 0,
    evaluated: skip === 0,
    observed: Number.isNaN(x) ? null : x,
    observedStatus: STATUS_NAMES[decision.status[g] as number] as ObservedStatus,
    threshold: decision.threshold[g] as number,
    comparison: d.comparison,
    demandGated: d.demandGated,
    skipReason: skip === 0 ? null : (SkipReasonSchema.options[skip - 1] as SkipReason),
  };
}

/** {@link evaluate} on an already-read single-row observation. */
export function evaluateObservation(
  previous: CarriedState | null | undefined,
  o: Observation,
  config: EngineConfig = DEFAULT_ENGINE_CONFIG,
): Evaluation {
  const d = DECISION;
  decide(compileEngine(config), o, 0, cellsFromCarried(previous, PREV), d);

  const summary = summarize(d);
  const t = config.thresholds[summary.scaleBand];
  const gates: GateResult[] = new Array(GATE_COUNT);
  for (let g = 0; g < GATE_COUNT; g++) gates[g] = gateResult(GATE_DEFS[g] as GateDef, d, g);
  // Listed, not spread: V8 builds a spread copy through its slow path (3× the whole evaluation).
  return {
    observedAt: summary.observedAt,
    state: summary.state,
    previousState: summary.previousState,
    changed: summary.changed,
    reason: summary.reason,
    scaleBand: summary.scaleBand,
    idle: summary.idle,
    systemBusy: summary.systemBusy,
    gates,
    firedGates: summary.firedGates,
    blindGates: summary.blindGates,
    services: serviceHealth(o, t, config, summary.state, d.idle, d.busy, gates),
    bottleneck: summary.bottleneck,
    workers: assessWorkers(o, t, config, summary.state, d.serverCritical, gates),
    carried: summary.carried,
  };
}
