import * as z from 'zod';
import type { HealthState, StateReason } from '../health/evaluation.js';

/**
 * A watched Temporal cluster. The copilot may watch several; every stored row names one. The id
 * is derived from the name (UUIDv5), so every writer agrees on it without a lookup.
 *
 * @example { "id": "0f6b3f2e-…", "name": "prod-eu", "created_at": "2026-11-28T12:00:00.000Z" }
 */
export const ClusterSchema = z.object({
  id: z.uuid(),
  name: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, 'letters, digits and . _ : / - only'),
  created_at: z.iso.datetime({ offset: true }),
});
export type Cluster = z.infer<typeof ClusterSchema>;

/** A cluster name as accepted by {@link ClusterSchema}. */
export const ClusterNameSchema = ClusterSchema.shape.name;

/** A cluster with what its newest evaluation says (null before its first one). */
export interface ClusterLatest extends Cluster {
  readonly latest: {
    readonly observed_at: string;
    readonly state: HealthState;
    readonly reason: StateReason;
    /** The observer's cadence when it wrote the row; null for rows older than that column. */
    readonly interval_ms: number | null;
  } | null;
}
