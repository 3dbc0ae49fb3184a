import * as z from 'zod';

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
/**
 * Three levels, not the seed's two: the seed's prompt asked for levels its model could not hold
 * (docs/lessons.md#explanations-carry-confidence-and-severity).
 */
export const SeveritySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof SeveritySchema>;

export const ActionTypeSchema = z.enum(['scale', 'restart', 'configure', 'alert', 'investigate']);
export type ActionType = z.infer<typeof ActionTypeSchema>;

export const RiskSchema = z.enum(['low', 'medium', 'high']);
export type Risk = z.infer<typeof RiskSchema>;

/** A fraction in [0, 1]: confidences and weights. */
export const UnitIntervalSchema = z.number().min(0).max(1);

/** One reason an issue exists, weighted by how much it explains. */
export const ContributingFactorSchema = z.object({
  /** Engine signal id or gate id, e.g. `persistence.latency_p99_ms`. */
  signal: z.string().min(1).max(200),
  description: z.string().max(2_000),
  weight: UnitIntervalSchema,
});
export type ContributingFactor = z.infer<typeof ContributingFactorSchema>;

/** A JSON value, so `parameters` survive the TEXT column unchanged. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };
export const JsonValueSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(JsonValueSchema),
    z.record(z.string(), JsonValueSchema),
  ]),
);

/** A remediation the copilot suggests. It never performs one (`POST /actions` is 501). */
export const SuggestedActionSchema = z.object({
  action_type: ActionTypeSchema,
  target_service: z.string().min(1).max(200),
  description: z.string().max(2_000),
  confidence: UnitIntervalSchema,
  risk: RiskSchema,
  parameters: z.record(z.string(), JsonValueSchema).default({}),
});
export type SuggestedAction = z.infer<typeof SuggestedActionSchema>;

/**
 * What an explainer reports for one issue, before it is stored. `key` names the condition (a gate
 * id, a worker rule, a log pattern), so the issue can be resolved when that condition clears.
 */
export const IssueInputSchema = z.object({
  key: z.string().min(1).max(200),
  severity: SeveritySchema,
  title: z.string().min(1).max(500),
  description: z.string().max(10_000),
  likely_cause: z.string().max(10_000),
  contributing_factors: z.array(ContributingFactorSchema).max(50).default([]),
  suggested_actions: z.array(SuggestedActionSchema).max(50).default([]),
  related_signals: z.array(z.string().min(1).max(200)).max(100).default([]),
});
export type IssueInput = z.input<typeof IssueInputSchema>;
export type ParsedIssueInput = z.infer<typeof IssueInputSchema>;

/** A stored issue, as the API returns it. `resolved_at` is set once its condition clears. */
export const IssueSchema = IssueInputSchema.extend({
  id: z.uuid(),
  assessment_id: z.uuid(),
  cluster_id: z.uuid(),
  created_at: z.iso.datetime({ offset: true }),
  resolved_at: z.iso.datetime({ offset: true }).nullable(),
});
export type Issue = z.infer<typeof IssueSchema>;
