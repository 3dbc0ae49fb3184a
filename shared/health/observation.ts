import { SIG } from '../signals/ids.js';
import type { ObservedStatus } from './evaluation.js';
import type { Snapshot } from './snapshot.js';

type Key = keyof typeof SIG;

/** The engine's signals in a fixed order; `I.throughput` is the index of throughput. */
export const ENGINE_KEYS = Object.keys(SIG) as Key[];
export const ENGINE_IDS: readonly string[] = ENGINE_KEYS.map((k) => SIG[k]);
export const I = Object.freeze(
  Object.fromEntries(ENGINE_KEYS.map((k, i) => [k, i])) as Record<Key, number>,
);

/**
 * The engine's view of one snapshot: each engine signal's usable number and its status, indexed by
 * {@link I}. Numbers live in a plain all-number array (V8 stores it as unboxed doubles) with NaN
 * for "not usable" (not `ok`, not finite, or stale), so reading history allocates no boxed numbers; {@link num} turns NaN back into
 * `undefined` for the engine's logic.
 */
export interface Observation {
  readonly observedAt: number;
  readonly n: readonly number[];
  readonly s: readonly ObservedStatus[];
}

/** The usable value of signal `i`, or undefined. */
export function num(o: Observation, i: number): number | undefined {
  const x = o.n[i] as number;
  return Number.isNaN(x) ? undefined : x;
}

/** Builds the engine's view of a snapshot; values older than `maxSampleAgeSec` count as stale. */
export function observe(snapshot: Snapshot, maxSampleAgeSec: number): Observation {
  const staleBefore = snapshot.observedAt - maxSampleAgeSec * 1000;
  const values = snapshot.values;
  const count = ENGINE_IDS.length;
  const n: number[] = [];
  const s: ObservedStatus[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const v = values[ENGINE_IDS[i] as string];
    let x = Number.NaN;
    if (v === undefined) {
      s[i] = 'absent';
    } else if (v.status !== 'ok') {
      s[i] = v.status;
    } else if (!Number.isFinite(v.value)) {
      // Typed callers can still hand over NaN or ±Inf; neither is ever a measurement.
      s[i] = 'error';
    } else if (v.sampledAt !== undefined && v.sampledAt < staleBefore) {
      s[i] = 'stale';
    } else {
      x = v.value;
      s[i] = 'ok';
    }
    n.push(x);
  }
  return { observedAt: snapshot.observedAt, n, s };
}
