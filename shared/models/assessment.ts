import * as z from 'zod';
import { HealthStateSchema, StateReasonSchema } from '../health/evaluation.js';
import { SERVICES } from '../signals/types.js';
import { UnitIntervalSchema } from './issue.js';

export const TriggerSchema = z.enum(['state_change', 'scheduled']);
export type Trigger = z.infer<typeof TriggerSchema>;

/** Which explainer wrote the words: the rule-based one (default and fallback) or Bedrock. */
export const ExplainerSchema = z.enum(['rules', 'bedrock']);
export type Explainer = z.infer<typeof ExplainerSchema>;

/** A runbook passage an explanation cites: where it is, not its text (the corpus holds that). */
export const AssessmentSourceSchema = z.object({
  source: z.string().min(1).max(1_000),
  title: z.string().max(300),
  heading: z.string().max(300),
  score: z.number(),
});

/**
 * What an explanation rested on, beyond its words: the runbook passages it cites, each service's
 * part as the researcher told it, the issues grounding dropped (and why), and how deep the
 * dispatcher chose to go (`rules` when no model was asked).
 */
export const AssessmentDetailsSchema = z.object({
  sources: z.array(AssessmentSourceSchema).max(20).default([]),
  narratives: z.partialRecord(z.enum(SERVICES), z.string().max(2_000)).default({}),
  dropped: z
    .array(z.object({ key: z.string().max(200), why: z.string().max(1_000) }))
    .max(50)
    .default([]),
  depth: z.enum(['rules', 'none', 'quick', 'deep']).default('rules'),
});
export type AssessmentDetails = z.infer<typeof AssessmentDetailsSchema>;

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
  /** Converse calls made for these words (dispatcher and researcher, repairs included). */
  llm_calls: z.number().int().nonnegative().default(0),
  /** Prompt tokens served from Bedrock's prompt cache, and written to it. */
  cache_read_tokens: z.number().int().nonnegative().default(0),
  cache_write_tokens: z.number().int().nonnegative().default(0),
  /** How long the explainer took, ms; null for rows written before it was kept. */
  latency_ms: z.number().int().nonnegative().nullable().default(null),
  /**
   * Why the rule-based explainer answered although Bedrock is configured (throttled, timed out,
   * invalid output, budget spent, …); null when Bedrock answered or was not configured.
   */
  fallback_reason: z.string().max(1_000).nullable().default(null),
  /** The engine's reason the words explain (the state's reason when they were written). */
  reason: StateReasonSchema.nullable().default(null),
  details: AssessmentDetailsSchema.default({
    sources: [],
    narratives: {},
    dropped: [],
    depth: 'rules',
  }),
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

/** What a cluster's explanations cost since an instant: what budgets and dashboards read. */
export interface ExplainerUsage {
  readonly assessments: number;
  /** Assessments Bedrock wrote (the rest are rule-based). */
  readonly bedrock: number;
  readonly llmCalls: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadTokens: number;
  readonly cacheWriteTokens: number;
}
