import type { EngineConfig, ScaleBand } from './config.js';
import { SCALE_BANDS } from './config.js';

/**
 * Scale bands as codes: the index into {@link SCALE_BANDS} (0 starter, 1 mid-scale,
 * 2 high-throughput), -1 for "none". The decision kernel runs on these so a replay of months
 * never compares strings.
 */
export const NO_BAND = -1;

export function bandCode(band: ScaleBand | null | undefined): number {
  return band === null || band === undefined ? NO_BAND : SCALE_BANDS.indexOf(band);
}

export function bandName(code: number): ScaleBand {
  const band = SCALE_BANDS[code];
  if (band === undefined) throw new RangeError(`no scale band ${code}`);
  return band;
}

/** The band rules of a configuration, resolved once into numbers. */
export interface BandRules {
  readonly starterMax: number;
  readonly midMax: number;
  /** Boundaries with the hysteresis margin: crossing upwards needs more, downwards less. */
  readonly lowUp: number;
  readonly lowDown: number;
  readonly highUp: number;
  readonly highDown: number;
  readonly upDwellCycles: number;
  readonly downDwellCycles: number;
  readonly initial: number;
  readonly floor: number;
}

export function bandRules(config: EngineConfig): BandRules {
  const b = config.band;
  const h = b.hysteresis;
  return Object.freeze({
    starterMax: b.starterMaxPerSec,
    midMax: b.midMaxPerSec,
    lowUp: b.starterMaxPerSec * (1 + h),
    lowDown: b.starterMaxPerSec * (1 - h),
    highUp: b.midMaxPerSec * (1 + h),
    highDown: b.midMaxPerSec * (1 - h),
    upDwellCycles: b.upDwellCycles,
    downDwellCycles: b.downDwellCycles,
    initial: bandCode(b.initial),
    floor: bandCode(b.floor),
  });
}

/** The band a throughput falls in with no history (boundaries inclusive at the top band). */
function classifyBand(throughput: number, r: BandRules): number {
  if (throughput >= r.midMax) return 2;
  if (throughput >= r.starterMax) return 1;
  return 0;
}

/**
 * The band a throughput points to from `current`, with a relative hysteresis margin around each
 * boundary: with 10 %, starter→mid needs ≥55 st/s and mid→starter <45
 * (docs/lessons.md#small-clusters-get-small-limits).
 */
function targetBand(throughput: number, current: number, r: BandRules): number {
  if (current === 0) return throughput >= r.highUp ? 2 : throughput >= r.lowUp ? 1 : 0;
  if (current === 1) return throughput >= r.highUp ? 2 : throughput < r.lowDown ? 0 : 1;
  return throughput < r.lowDown ? 0 : throughput < r.highDown ? 1 : 2;
}

function applyFloor(band: number, r: BandRules): number {
  return Math.max(r.floor, band);
}

/**
 * The band to start in when nothing is carried: configured, else classified from this cycle's
 * throughput (NaN when unusable → starter), never below the floor.
 */
export function initialBand(throughput: number, r: BandRules): number {
  const band =
    r.initial !== NO_BAND ? r.initial : Number.isNaN(throughput) ? 0 : classifyBand(throughput, r);
  return applyFloor(band, r);
}

/** Where the band step writes: the next cycle's band and dwell counters. */
export interface BandCells {
  band: number;
  upDwell: number;
  downDwell: number;
}

/**
 * Moves the band for the *next* cycle into `out`. The current cycle is always judged with the
 * band it started with, so a band change can never make this cycle's verdict milder. Moving down
 * needs `downDwellCycles` calm cycles in a row: a stressed or critical cycle resets the count, so
 * a throughput collapse (100 → 2 st/s) keeps the thresholds of the scale the cluster was at.
 */
export function stepBand(
  out: BandCells,
  current: number,
  upDwell: number,
  downDwell: number,
  throughput: number,
  calm: boolean,
  r: BandRules,
): void {
  const target = applyFloor(targetBand(throughput, current, r), r);
  out.band = current;
  out.upDwell = 0;
  out.downDwell = 0;
  if (target > current) {
    const up = upDwell + 1;
    if (up >= r.upDwellCycles) out.band = target;
    else out.upDwell = up;
  } else if (target < current && calm) {
    const down = downDwell + 1;
    if (down >= r.downDwellCycles) out.band = target;
    else out.downDwell = down;
  }
}
