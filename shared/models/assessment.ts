import { z } from 'zod';
import { HealthStateSchema } from '../health/evaluation.js';
import { UnitIntervalSchema } from './issue.js';

export const TriggerSchema = z.enum(['state_change', 'scheduled']);
export type Trigger = z.infer<typeof TriggerSchema>;

/** Which explainer wrote the words: the rule-based one (default and fallback) or Bedrock. */
export const ExplainerSchema = z.enum(['rules', 'bedrock']);
export type Explainer = z.infer<typeof ExplainerSchema>;

/**
 * An explanation of one evaluation, written when the state changes or on the 5-minute schedule.
 * The state is the engine's (copied, never decided by the explainer:
 * docs/lessons.md#the-state-is-the-engines).
 */
export const AssessmentInputSchema = z.object({
  cluster_id: z.uuid(),
  /** The stored evaluation this explains, when there is one. */
  evaluation_id: z.uuid().nullable().default(null),
  trigger: TriggerSchema,
  health_state: HealthStateSchema,
  summary: z.string().min(1).max(20_000),
  /**
   * The explainer's overall confidence, 0..1 (the prior art had none:
   * docs/lessons.md#explanations-carry-confidence-and-severity).
   */
  confidence: UnitIntervalSchema,
  explainer: ExplainerSchema,
  /** Bedrock model id; null for the rule-based explainer. */
  model_id: z.string().min(1).max(300).nullable().default(null),
  input_tokens: z.number().int().nonnegative().default(0),
  output_tokens: z.number().int().nonnegative().default(0),
  created_at: z.iso.datetime({ offset: true }),
});
export type AssessmentInput = z.input<typeof AssessmentInputSchema>;
export type ParsedAssessmentInput = z.infer<typeof AssessmentInputSchema>;

/** A stored assessment, as the API returns it. */
export const AssessmentSchema = AssessmentInputSchema.extend({
  id: z.uuid(),
  issue_count: z.number().int().nonnegative(),
});
export type Assessment = z.infer<typeof AssessmentSchema>;
