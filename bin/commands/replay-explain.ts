import { NO_USAGE } from '../../shared/api/mapping.js';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from '../../shared/health/config.js';
import type { DecisionSummary } from '../../shared/health/decide.js';
import { evaluateObservation } from '../../shared/health/engine.js';
import type { CarriedState } from '../../shared/health/evaluation.js';
import { type ObservationColumns, rowOf } from '../../shared/health/observation.js';
import type { ExplainerUsage } from '../../shared/models/assessment.js';
import { type ExplainerConfig, openExplainer } from '../../worker/explain/config.js';
import { type ExplainResult, explainEvaluation } from '../../worker/explain/explainer.js';

/** What `copilot replay --explain` adds to a printed line. */
export interface ExplanationLine {
  readonly summary: string;
  readonly confidence: number;
  readonly explainer: ExplainResult['explainer'];
  readonly model_id: string | null;
  readonly fallback_reason: string | null;
  readonly issues: readonly { key: string; severity: string; title: string }[];
  readonly sources: readonly string[];
  readonly llm_calls: number;
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly cache_read_tokens: number;
  readonly cache_write_tokens: number;
}

function lineOf(x: ExplainResult): ExplanationLine {
  return {
    summary: x.summary,
    confidence: x.confidence,
    explainer: x.explainer,
    model_id: x.modelId,
    fallback_reason: x.fallbackReason,
    issues: x.issues.map((i) => ({ key: i.key, severity: i.severity, title: i.title })),
    sources: [...new Set(x.details.sources.map((s) => s.source))],
    llm_calls: x.llmCalls,
    input_tokens: x.inputTokens,
    output_tokens: x.outputTokens,
    cache_read_tokens: x.cacheReadTokens,
    cache_write_tokens: x.cacheWriteTokens,
  };
}

/**
 * Explains the chosen steps of a replay as the observer would have at each: the step is evaluated
 * in full (gates, services, workers) from its observation and the state carried from the step
 * before — the same rules the kernel ran, so the explained state is the printed one — and handed
 * to the explainer as a state change. The replay's own model usage is the budget's ledger: a
 * replay spends at most the hourly budget however many changes it finds, then the rules answer
 * with the budget as their fallback reason.
 */
export async function explainSteps(
  steps: readonly DecisionSummary[],
  columns: ObservationColumns,
  chosen: readonly number[],
  explainer: ExplainerConfig,
  options: { readonly config?: EngineConfig; readonly carried?: CarriedState | null } = {},
): Promise<Map<number, ExplanationLine>> {
  const config = options.config ?? DEFAULT_ENGINE_CONFIG;
  let spent: ExplainerUsage = NO_USAGE;
  const deps = { ...openExplainer(explainer), usageSince: async () => spent };
  const out = new Map<number, ExplanationLine>();
  for (const i of chosen) {
    const step = steps[i];
    if (step === undefined) throw new RangeError(`no step ${i} in a replay of ${steps.length}`);
    const before = i === 0 ? (options.carried ?? null) : (steps[i - 1]?.carried ?? null);
    const evaluation = evaluateObservation(before, rowOf(columns, i), config);
    if (evaluation.state !== step.state || evaluation.reason !== step.reason)
      throw new Error(
        `step ${i}: the full evaluation (${evaluation.state}, ${evaluation.reason}) disagrees with the replay (${step.state}, ${step.reason})`,
      );
    const prev = i === 0 ? null : steps[i - 1];
    const x = await explainEvaluation(deps, {
      evaluation,
      trigger: 'state_change',
      previous:
        prev === undefined || prev === null ? null : { state: prev.state, reason: prev.reason },
    });
    spent = {
      assessments: spent.assessments + 1,
      bedrock: spent.bedrock + (x.explainer === 'bedrock' ? 1 : 0),
      llmCalls: spent.llmCalls + x.llmCalls,
      inputTokens: spent.inputTokens + x.inputTokens,
      outputTokens: spent.outputTokens + x.outputTokens,
      cacheReadTokens: spent.cacheReadTokens + x.cacheReadTokens,
      cacheWriteTokens: spent.cacheWriteTokens + x.cacheWriteTokens,
    };
    out.set(i, lineOf(x));
  }
  return out;
}
