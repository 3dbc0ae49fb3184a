import * as z from 'zod';

/**
 * How often one narrative log pattern was seen in one window. `count_is_lower_bound` is true when
 * the log query hit its line limit, so the true count is at least `count` (never pretend exact).
 */
export const LogPatternInputSchema = z.object({
  pattern_id: z.string().min(1).max(200),
  service: z.string().min(1).max(100),
  count: z.number().int().nonnegative(),
  count_is_lower_bound: z.boolean().default(false),
  sample: z.string().max(4_000).nullable().default(null),
});
export type LogPatternInput = z.input<typeof LogPatternInputSchema>;

/** A stored log-pattern row. */
export const LogPatternRowSchema = LogPatternInputSchema.extend({
  id: z.uuid(),
  cluster_id: z.uuid(),
  observed_at: z.iso.datetime({ offset: true }),
});
export type LogPatternRow = z.infer<typeof LogPatternRowSchema>;
