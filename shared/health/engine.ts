import type { EngineConfig } from './config.js';
import { DEFAULT_ENGINE_CONFIG } from './config.js';
import {
  CarriedCells,
  carriedFromCells,
  cellsFromCarried,
  compileEngine,
  Decision,
  decide,
  NONE,
  stateName,
} from './decide.js';
import {
  BottleneckSchema,
  type CarriedState,
  type Evaluation,
  type GateResult,
  type ObservedStatus,
  type SkipReason,
  SkipReasonSchema,
  type StateReason,
  StateReasonSchema,
} from './evaluation.js';
import { GATE_COUNT, GATE_DEFS, type GateDef } from './gates.js';
import { type Observation, observationColumns, observeInto, STATUS_NAMES } from './observation.js';
import { bandName } from './scale-band.js';
import { assessWorkers, serviceHealth } from './services.js';
import type { Snapshot } from './snapshot.js';

export { GATE_IDS } from './gates.js';

/**
 * Evaluates one observation. Pure and deterministic: the same carried state, snapshot and
 * configuration always give the same evaluation, with no clock, I/O or randomness, so workflows,
 * Lambda, `copilot replay` and fast-check all run it unchanged.
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

  const gates: GateResult[] = new Array(GATE_COUNT);
  const firedGates: string[] = [];
  for (let g = 0; g < GATE_COUNT; g++) {
    const def = GATE_DEFS[g] as GateDef;
    const r = gateResult(def, d, g);
    gates[g] = r;
    if (r.fired) firedGates.push(def.id);
  }
  const state = stateName(d.state);
  const previousState = d.previousState === NONE ? null : stateName(d.previousState);
  const scaleBand = bandName(d.band);
  const t = config.thresholds[scaleBand];
  return {
    observedAt: d.observedAt,
    state,
    previousState,
    changed: previousState !== state,
    reason: StateReasonSchema.options[d.reason] as StateReason,
    scaleBand,
    idle: d.idle,
    systemBusy: d.busy,
    gates,
    firedGates,
    services: serviceHealth(o, t, config, state, d.idle, d.busy, gates),
    bottleneck: BottleneckSchema.options[d.bottleneck] as Evaluation['bottleneck'],
    workers: assessWorkers(o, t, config, state, d.serverCritical),
    carried: carriedFromCells(d.next),
  };
}
