import type { EngineConfig, ScaleBand } from './config.js';
import { SCALE_BANDS } from './config.js';
import type { HealthState } from './evaluation.js';

const INDEX: Readonly<Record<ScaleBand, number>> = {
  starter: 0,
  'mid-scale': 1,
  'high-throughput': 2,
};

export function bandIndex(band: ScaleBand): number {
  return INDEX[band];
}

/** The band a throughput falls in with no history (boundaries inclusive at the top band). */
export function classifyBand(throughput: number, config: EngineConfig): ScaleBand {
  if (throughput >= config.band.midMaxPerSec) return 'high-throughput';
  if (throughput >= config.band.starterMaxPerSec) return 'mid-scale';
  return 'starter';
}

/**
 * The band a throughput points to from `current`, with a relative hysteresis margin around each
 * boundary: with 10 %, starter→mid needs ≥55 st/s and mid→starter <45 (prior-art §3d).
 */
export function targetBand(
  throughput: number,
  current: ScaleBand,
  config: EngineConfig,
): ScaleBand {
  const { starterMaxPerSec: low, midMaxPerSec: high, hysteresis: h } = config.band;
  const i = INDEX[current];
  // Boundaries to cross upwards from the current band are raised, downwards lowered.
  const lowUp = low * (1 + h);
  const lowDown = low * (1 - h);
  const highUp = high * (1 + h);
  const highDown = high * (1 - h);
  let target: number;
  if (i === 0) {
    target = throughput >= highUp ? 2 : throughput >= lowUp ? 1 : 0;
  } else if (i === 1) {
    target = throughput >= highUp ? 2 : throughput < lowDown ? 0 : 1;
  } else {
    target = throughput < lowDown ? 0 : throughput < highDown ? 1 : 2;
  }
  return SCALE_BANDS[target] as ScaleBand;
}

export function applyFloor(band: ScaleBand, config: EngineConfig): ScaleBand {
  const floor = config.band.floor;
  return floor !== undefined && INDEX[floor] > INDEX[band] ? floor : band;
}

/** The band to start in when nothing is carried: configured, else classified, never below the floor. */
export function initialBand(throughput: number | undefined, config: EngineConfig): ScaleBand {
  const band =
    config.band.initial ??
    (throughput === undefined ? 'starter' : classifyBand(throughput, config));
  return applyFloor(band, config);
}

export interface BandStep {
  readonly band: ScaleBand;
  readonly upDwell: number;
  readonly downDwell: number;
}

/**
 * Moves the band for the *next* cycle. The current cycle is always judged with the band it started
 * with, so a band change can never make this cycle's verdict milder. Moving down needs
 * `downDwellCycles` calm cycles in a row: a stressed or critical cycle resets the count, so a
 * throughput collapse (100 → 2 st/s) keeps the thresholds of the scale the cluster was at.
 */
export function stepBand(
  current: ScaleBand,
  upDwell: number,
  downDwell: number,
  throughput: number,
  state: HealthState,
  config: EngineConfig,
): BandStep {
  const target = applyFloor(targetBand(throughput, current, config), config);
  const ti = INDEX[target];
  const ci = INDEX[current];
  if (ti > ci) {
    const up = upDwell + 1;
    return up >= config.band.upDwellCycles
      ? { band: target, upDwell: 0, downDwell: 0 }
      : { band: current, upDwell: up, downDwell: 0 };
  }
  if (ti < ci) {
    if (state === 'stressed' || state === 'critical') {
      return { band: current, upDwell: 0, downDwell: 0 };
    }
    const down = downDwell + 1;
    return down >= config.band.downDwellCycles
      ? { band: target, upDwell: 0, downDwell: 0 }
      : { band: current, upDwell: 0, downDwell: down };
  }
  return { band: current, upDwell: 0, downDwell: 0 };
}
