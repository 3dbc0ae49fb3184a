import { z } from 'zod';
import { ScaleBandSchema } from '../health/config.js';
import {
  BottleneckSchema,
  EvaluationSchema,
  HealthStateSchema,
  StateReasonSchema,
} from '../health/evaluation.js';

/**
 * The numeric signal values of the snapshot an evaluation was made from: only `ok` values, keyed
 * by engine signal id. Stored beside the evaluation so sparklines need no recomputation.
 */
export const SignalValuesSchema = z.record(z.string().min(1).max(200), z.number());
export type SignalValues = z.infer<typeof SignalValuesSchema>;

/** One cycle's stored evaluation: the engine's full output plus where it came from. */
export const StoredEvaluationSchema = z.object({
  id: z.uuid(),
  cluster_id: z.uuid(),
  workflow_id: z.string(),
  cycle: z.number().int().nonnegative(),
  observed_at: z.iso.datetime({ offset: true }),
  evaluation: EvaluationSchema,
  signal_values: SignalValuesSchema,
});
export type StoredEvaluation = z.infer<typeof StoredEvaluationSchema>;

/** One row of the timeline: the indexed columns of a stored evaluation, without the payload. */
export const TimelineEntrySchema = z.object({
  id: z.uuid(),
  observed_at: z.iso.datetime({ offset: true }),
  health_state: HealthStateSchema,
  previous_state: HealthStateSchema.nullable(),
  changed: z.boolean(),
  reason: StateReasonSchema,
  scale_band: ScaleBandSchema,
  bottleneck: BottleneckSchema,
});
export type TimelineEntry = z.infer<typeof TimelineEntrySchema>;

/** One point of a sparkline; `value` is null where the signal had no `ok` value that cycle. */
export const SeriesPointSchema = z.object({
  t: z.iso.datetime({ offset: true }),
  value: z.number().nullable(),
});
export type SeriesPoint = z.infer<typeof SeriesPointSchema>;
