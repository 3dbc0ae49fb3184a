import { SIG } from '../signals/ids.js';
import type { SignalValue, Snapshot } from '../signals/value.js';
import { type ObservedStatus, ObservedStatusSchema } from '../signals/value.js';

type Key = keyof typeof SIG;

/** The engine's signals in a fixed order; `I.throughput` is the index of throughput. */
export const ENGINE_KEYS = Object.keys(SIG) as Key[];
export const ENGINE_IDS: readonly string[] = ENGINE_KEYS.map((k) => SIG[k]);
/** Values per observation row. */
export const ENGINE_WIDTH = ENGINE_IDS.length;
export const I = Object.freeze(
  Object.fromEntries(ENGINE_KEYS.map((k, i) => [k, i])) as Record<Key, number>,
);

/** Status codes as stored in an observation's `s`: the index into {@link STATUS_NAMES}. */
export const STATUS_NAMES: readonly ObservedStatus[] = ObservedStatusSchema.options;
export const OK = 0;
export const ABSENT = 1;
export const ERROR = 2;
export const STALE = 3;

/**
 * The engine's view of observations, one row per cycle: for row `r`, signal `i` is at
 * `r * ENGINE_WIDTH + i`. `n` holds the usable number or NaN ("not usable": not ok, not finite,
 * or stale), `s` the status code. Typed arrays keep a replay of months in a few flat buffers and
 * let the decision kernel read values without touching a string key or a boxed number.
 */
export interface ObservationColumns {
  readonly rows: number;
  readonly observedAt: Float64Array;
  readonly n: Float64Array;
  readonly s: Uint8Array;
}

/** One cycle's observation: columns with a single row (what `evaluate` reads). */
export type Observation = ObservationColumns;

/** The usable value of signal `i` of a single-row observation, or undefined. */
export function num(o: Observation, i: number): number | undefined {
  const x = o.n[i] as number;
  return Number.isNaN(x) ? undefined : x;
}

export function observationColumns(rows: number): ObservationColumns {
  if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`invalid row count ${rows}`);
  return {
    rows,
    observedAt: new Float64Array(rows),
    n: new Float64Array(rows * ENGINE_WIDTH),
    s: new Uint8Array(rows * ENGINE_WIDTH),
  };
}

/**
 * Writes one tri-state value at position `j` of `n`/`s`: its number when usable, else NaN and why
 * not. A sample older than `staleBefore` (epoch ms) is stale.
 */
export function writeValue(
  n: Float64Array,
  s: Uint8Array,
  j: number,
  v: SignalValue | undefined,
  staleBefore: number,
): void {
  let x = Number.NaN;
  let code = OK;
  if (v === undefined) {
    code = ABSENT;
  } else if (v.status !== 'ok') {
    code = v.status === 'absent' ? ABSENT : ERROR;
  } else if (!Number.isFinite(v.value)) {
    // Typed callers can still hand over NaN or ±Inf; neither is ever a measurement.
    code = ERROR;
  } else if (v.sampledAt !== undefined && v.sampledAt < staleBefore) {
    code = STALE;
  } else {
    x = v.value;
  }
  n[j] = x;
  s[j] = code;
}

/** Reads a snapshot's engine signals into the row starting at `base`. */
function readInto(
  n: Float64Array,
  s: Uint8Array,
  base: number,
  snapshot: Snapshot,
  maxSampleAgeSec: number,
): void {
  const staleBefore = snapshot.observedAt - maxSampleAgeSec * 1000;
  const values = snapshot.values;
  for (let i = 0; i < ENGINE_WIDTH; i++) {
    writeValue(n, s, base + i, values[ENGINE_IDS[i] as string], staleBefore);
  }
}

/** Builds the engine's view of one snapshot (one row). */
export function observe(snapshot: Snapshot, maxSampleAgeSec: number): Observation {
  const cols = observationColumns(1);
  cols.observedAt[0] = snapshot.observedAt;
  readInto(cols.n, cols.s, 0, snapshot, maxSampleAgeSec);
  return cols;
}

/** Writes one snapshot into row `row` of `cols`. */
export function observeInto(
  cols: ObservationColumns,
  row: number,
  snapshot: Snapshot,
  maxSampleAgeSec: number,
): void {
  if (!Number.isInteger(row) || row < 0 || row >= cols.rows) {
    throw new RangeError(`row ${row} outside 0..${cols.rows - 1}`);
  }
  cols.observedAt[row] = snapshot.observedAt;
  readInto(cols.n, cols.s, row * ENGINE_WIDTH, snapshot, maxSampleAgeSec);
}

/** Row `row` of `cols` as a single-row observation (a copy): one step of a replay, evaluated in full. */
export function rowOf(cols: ObservationColumns, row: number): Observation {
  if (!Number.isInteger(row) || row < 0 || row >= cols.rows) {
    throw new RangeError(`row ${row} outside 0..${cols.rows - 1}`);
  }
  const out = observationColumns(1);
  out.observedAt[0] = cols.observedAt[row] as number;
  out.n.set(cols.n.subarray(row * ENGINE_WIDTH, (row + 1) * ENGINE_WIDTH));
  out.s.set(cols.s.subarray(row * ENGINE_WIDTH, (row + 1) * ENGINE_WIDTH));
  return out;
}

/** A run of snapshots as columns, in order. */
export function observeAll(
  snapshots: readonly Snapshot[],
  maxSampleAgeSec: number,
): ObservationColumns {
  const cols = observationColumns(snapshots.length);
  snapshots.forEach((snap, row) => {
    observeInto(cols, row, snap, maxSampleAgeSec);
  });
  return cols;
}
