import * as z from 'zod';
import { ScaleBandSchema } from '../health/config.js';
import {
  BottleneckSchema,
  type Evaluation,
  EvaluationSchema,
  HealthStateSchema,
  StateReasonSchema,
} from '../health/evaluation.js';
import { SIGNAL_CATALOG } from '../signals/catalog.js';
import type { SignalValue, Snapshot } from '../signals/value.js';

/**
 * The usable numbers of the snapshot an evaluation was made from: `ok`, finite and fresh values
 * only, keyed by signal id. Stored beside the evaluation so sparklines need no recomputation.
 */
export const SignalValuesSchema = z.record(z.string().min(1).max(200), z.number());
export type SignalValues = z.infer<typeof SignalValuesSchema>;

/** Why a signal has no number in a cycle, as observed: never re-inferred by a reader. */
export const MissingStatusSchema = z.enum(['absent', 'error', 'stale']);
export type MissingStatus = z.infer<typeof MissingStatusSchema>;

/**
 * Why a signal has no number in {@link SignalValues}, when that is not simply `absent`: a failed
 * query (`error`) or a sample too old (`stale`), as the source reported it. A signal in neither
 * map had no series (or was not asked for): `absent`. Keeping the common case implicit keeps the
 * map to a few bytes a cycle (listing every absent catalog signal cost ~1.7 KB a row, more than
 * the values) and long sparkline reads cheap.
 */
export const SignalStatusMapSchema = z.record(z.string().min(1).max(200), MissingStatusSchema);
export type SignalStatusMap = z.infer<typeof SignalStatusMapSchema>;

/** What one cycle stores of its snapshot: the usable numbers, and why the others have none. */
export interface StoredSignals {
  readonly values: SignalValues;
  readonly status: SignalStatusMap;
}

const CATALOG_IDS: readonly string[] = SIGNAL_CATALOG.map((s) => s.id);

/** One value as stored: its number when usable (the engine's rule), else why it has none. */
function classify(v: SignalValue | undefined, staleBefore: number): number | MissingStatus {
  if (v === undefined || v.status === 'absent') return 'absent';
  if (v.status === 'error') return 'error';
  if (!Number.isFinite(v.value)) return 'error';
  if (v.sampledAt !== undefined && v.sampledAt < staleBefore) return 'stale';
  return v.value;
}

/**
 * Splits a snapshot into what is stored per cycle: every catalog signal (and any other the source
 * reported) either as a number or with its status. Stale values keep no number, exactly as the
 * engine reads them, so a sparkline never shows a number the engine did not use.
 */
export function storedSignalsOf(snapshot: Snapshot, maxSampleAgeSec: number): StoredSignals {
  const staleBefore = snapshot.observedAt - maxSampleAgeSec * 1000;
  const values: SignalValues = {};
  const status: SignalStatusMap = {};
  const ids = new Set([...CATALOG_IDS, ...Object.keys(snapshot.values)]);
  for (const id of ids) {
    const c = classify(
      Object.hasOwn(snapshot.values, id) ? snapshot.values[id] : undefined,
      staleBefore,
    );
    if (typeof c === 'number') values[id] = c;
    else if (c !== 'absent') status[id] = c;
  }
  return { values, status };
}

/**
 * The best account of the statuses of a row stored before statuses were kept (migration 19):
 * the gates kept the status of the signals they read, so `error` and `stale` survive for those;
 * every other catalog signal without a number stays implicit, `absent` (the old store did not
 * keep failures of signals no gate read).
 */
export function reconstructedStatusOf(
  evaluation: Pick<Evaluation, 'gates'>,
  values: SignalValues,
): SignalStatusMap {
  const byGate = new Map<string, string>();
  for (const g of evaluation.gates) byGate.set(g.signal, g.observedStatus);
  const status: SignalStatusMap = {};
  for (const id of CATALOG_IDS) {
    if (Object.hasOwn(values, id)) continue;
    const s = byGate.get(id);
    if (s === 'error' || s === 'stale') status[id] = s;
  }
  return status;
}

/** One cycle's stored evaluation: the engine's full output plus where it came from. */
export const StoredEvaluationSchema = z.object({
  id: z.uuid(),
  cluster_id: z.uuid(),
  workflow_id: z.string(),
  cycle: z.number().int().nonnegative(),
  observed_at: z.iso.datetime({ offset: true }),
  /** The observer's cadence when it wrote the row; null for rows written before it was kept. */
  interval_ms: z.number().int().positive().nullable(),
  evaluation: EvaluationSchema,
  signal_values: SignalValuesSchema,
  signal_status: SignalStatusMapSchema,
});
export type StoredEvaluation = z.infer<typeof StoredEvaluationSchema>;

/**
 * One row of the timeline: the indexed columns of a stored evaluation, without the payload. In a
 * downsampled read, the row is the most severe cycle of its bucket and `samples` counts the
 * cycles the bucket held.
 */
export const TimelineEntrySchema = z.object({
  id: z.uuid(),
  observed_at: z.iso.datetime({ offset: true }),
  health_state: HealthStateSchema,
  previous_state: HealthStateSchema.nullable(),
  changed: z.boolean(),
  reason: StateReasonSchema,
  scale_band: ScaleBandSchema,
  bottleneck: BottleneckSchema,
  samples: z.number().int().positive(),
});
export type TimelineEntry = z.infer<typeof TimelineEntrySchema>;

/** Where a signal's status reads `ok` (it had a number). */
export const PointStatusSchema = z.enum(['ok', 'absent', 'error', 'stale']);

/**
 * One point of a sparkline: `value` is null where the signal had no usable number, and `status`
 * says why (as stored). In a downsampled read the value is the mean of the bucket's numbers, with
 * their minimum and maximum, and the status is `ok` when any cycle had a number, else the worst
 * status of the bucket (error, then stale, then absent).
 */
export const SeriesPointSchema = z.object({
  t: z.iso.datetime({ offset: true }),
  value: z.number().nullable(),
  status: PointStatusSchema,
  min: z.number().nullable(),
  max: z.number().nullable(),
  samples: z.number().int().positive(),
});
export type SeriesPoint = z.infer<typeof SeriesPointSchema>;
