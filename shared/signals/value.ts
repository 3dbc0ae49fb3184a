import * as z from 'zod';

/**
 * One signal's value in one observation. Tri-state on purpose: a number, `absent` (the source
 * answered but has no such series) or `error` (the query failed). Nothing is ever coerced to 0;
 * the prior art turned a dead Prometheus into a "happy idle" cluster that way
 * (docs/lessons.md#zero-is-not-missing).
 */
export const SignalValueSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('ok'),
    /** Finite by construction: NaN and ±Inf are rejected here (zod 4 numbers are finite). */
    value: z.number(),
    /** Epoch ms of the newest sample behind the value, when the source knows it. */
    sampledAt: z.number().int().nonnegative().optional(),
  }),
  z.object({ status: z.literal('absent') }),
  z.object({ status: z.literal('error'), message: z.string().max(500) }),
]);
export type SignalValue = z.infer<typeof SignalValueSchema>;

/**
 * One observation of the monitored cluster at one instant: every signal id of the catalog that was
 * asked for, with its tri-state value. A signal missing from `values` was not asked for and reads
 * as absent.
 *
 * @example { "observedAt": 1764288000000, "values": { "state_transitions.throughput_per_sec": { "status": "ok", "value": 120.5 } } }
 */
export const SnapshotSchema = z.object({
  /** Epoch ms of the evaluation instant. */
  observedAt: z.number().int().nonnegative(),
  values: z.record(z.string(), SignalValueSchema),
});
export type Snapshot = z.infer<typeof SnapshotSchema>;

/**
 * What a reader knows of one signal in one cycle: `ok` (a usable number), `absent` (no such
 * series: nothing happened, or the source does not report it), `error` (the query failed) or
 * `stale` (a number older than the engine's sample-age limit). This is what is stored per signal
 * per cycle and served as stored: a failed query must reach the dashboard as `error`, never as
 * `absent`, and neither as 0.
 */
export const ObservedStatusSchema = z.enum(['ok', 'absent', 'error', 'stale']);
export type ObservedStatus = z.infer<typeof ObservedStatusSchema>;

export const ABSENT: SignalValue = Object.freeze({ status: 'absent' });

/** Builds an `ok` value; throws on a non-finite number, which no source may report as a value. */
export function ok(value: number, sampledAt?: number): SignalValue {
  if (!Number.isFinite(value)) {
    throw new RangeError(`signal value must be finite, got ${value}`);
  }
  return sampledAt === undefined ? { status: 'ok', value } : { status: 'ok', value, sampledAt };
}

export function failed(message: string): SignalValue {
  return { status: 'error', message: message.slice(0, 500) };
}
