import { messageOf } from '../../shared/errors.js';
import { evidenceConfidence } from '../../shared/explain/confidence.js';
import type { GroundingPassage } from '../../shared/explain/grounding.js';
import { factsOf, groundResearch } from '../../shared/explain/llm.js';
import { costOf } from '../../shared/explain/models.js';
import { explainWithRules } from '../../shared/explain/rule-based.js';
import type { Evaluation, StateReason } from '../../shared/health/evaluation.js';
import type { AssessmentDetails, Explainer, Trigger } from '../../shared/models/assessment.js';
import type { IssueInput } from '../../shared/models/issue.js';
import type { LogPatternInput } from '../../shared/models/log-pattern.js';
import type { ExplainerUsage } from '../../shared/store/reads.js';
import { type BedrockConversations, describeBedrockError, Usage } from './bedrock.js';
import type { Knowledge } from './knowledge.js';

/** How much a cluster's explanations may spend in any hour before the rules answer alone. */
export interface ExplainBudget {
  /** Converse calls per cluster per hour. @default 24 */
  readonly callsPerHour: number;
  /** Input + output tokens (cache reads included) per cluster per hour. @default 120_000 */
  readonly tokensPerHour: number;
  /**
   * US dollars per cluster over the last 24 hours, at list prices, every token counted at the
   * researcher's (the dearer model's) prices: an upper bound, so the cap holds. @default 5
   */
  readonly usdPerDay: number;
}

export const DEFAULT_BUDGET: ExplainBudget = Object.freeze({
  callsPerHour: 24,
  tokensPerHour: 120_000,
  usdPerDay: 5,
});

export interface ExplainerDeps {
  /** Bedrock, when configured; without it the rule-based explainer answers every time. */
  readonly bedrock?: BedrockConversations;
  readonly knowledge: Knowledge;
  readonly budget?: ExplainBudget;
  /** The cluster's explainer usage since an instant (the store's assessments). */
  readonly usageSince: (since: number) => Promise<ExplainerUsage>;
  readonly now?: () => number;
  /** The engine's critical debounce, for the evidence confidence. @default 3 */
  readonly criticalCycles?: number;
}

export interface ExplainRequest {
  readonly evaluation: Evaluation;
  readonly trigger: Trigger;
  readonly logPatterns?: readonly LogPatternInput[];
  /** The newest assessment before this one: an unchanged happy state is not worth a model call. */
  readonly previous: { readonly state: string; readonly reason: StateReason | null } | null;
}

/** Everything an assessment stores of its explanation. */
export interface ExplainResult {
  readonly summary: string;
  readonly confidence: number;
  readonly issues: IssueInput[];
  readonly explainer: Explainer;
  readonly modelId: string | null;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadTokens: number;
  readonly cacheWriteTokens: number;
  readonly llmCalls: number;
  readonly latencyMs: number;
  readonly fallbackReason: string | null;
  readonly details: AssessmentDetails;
}

const sourcesOf = (passages: readonly GroundingPassage[]) =>
  passages.map((p) => ({ source: p.source, title: p.title, heading: p.heading, score: p.score }));

/**
 * Explains one evaluation. The rule-based explainer always runs (it is the default and the
 * fallback); Bedrock is asked only when it is configured, the evaluation is worth it, and the
 * cluster's budget allows:
 *
 * 1. runbook passages for the evaluation (knowledge base, else the local index);
 * 2. no model call for a scheduled look at a happy state whose reason has not changed since the
 *    last assessment — the steady state of a healthy cluster costs nothing;
 * 3. no model call past the budget (calls and tokens in the last hour, dollars in the last day,
 *    from the stored assessments, so restarts and several workers share it);
 * 4. the dispatcher decides the depth; `none` keeps the rule-based words;
 * 5. the researcher answers; its answer is held to the evaluation (`groundResearch`) and its
 *    confidence averaged with the evidence's, so a model cannot claim certainty the evidence does
 *    not carry;
 * 6. any failure — throttling, a 5xx, a timeout, an invalid or ungrounded answer — keeps the
 *    rule-based words and says why in `fallbackReason`; the tokens spent are still counted.
 */
export async function explainEvaluation(
  deps: ExplainerDeps,
  request: ExplainRequest,
): Promise<ExplainResult> {
  const now = deps.now ?? Date.now;
  const started = now();
  const e = request.evaluation;
  const logPatterns = request.logPatterns ?? [];
  const retrieved = await deps.knowledge.passagesFor(e);
  const passages = retrieved.passages;
  const rules = explainWithRules(e, {
    logPatterns,
    passages,
    ...(deps.criticalCycles === undefined ? {} : { criticalCycles: deps.criticalCycles }),
  });
  const usage = new Usage();
  // What this explanation spent, whoever answers: the calls made count even when they failed.
  const usageSoFar = () => ({
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    cacheReadTokens: usage.cacheReadTokens,
    cacheWriteTokens: usage.cacheWriteTokens,
    llmCalls: usage.calls,
    latencyMs: Math.max(0, Math.round(now() - started)),
  });
  const ruleAnswer = (
    fallbackReason: string | null,
    depth: AssessmentDetails['depth'],
  ): ExplainResult => ({
    summary: rules.summary,
    confidence: rules.confidence,
    issues: rules.issues,
    explainer: 'rules',
    modelId: null,
    ...usageSoFar(),
    fallbackReason,
    details: { sources: sourcesOf(passages), narratives: {}, dropped: [], depth },
  });

  const bedrock = deps.bedrock;
  if (bedrock === undefined) return ruleAnswer(null, 'rules');
  const unchangedHappy =
    request.trigger === 'scheduled' &&
    e.state === 'happy' &&
    request.previous?.state === 'happy' &&
    request.previous.reason === e.reason;
  if (unchangedHappy) return ruleAnswer('unchanged happy state: no model call', 'rules');

  const budget = deps.budget ?? DEFAULT_BUDGET;
  // The budget is read from the store; a store that cannot say what was spent means no model
  // call (the rules answer, and say why), never a failed explanation or an unmetered call.
  let spent: ExplainerUsage;
  let today: ExplainerUsage;
  try {
    [spent, today] = await Promise.all([
      deps.usageSince(now() - 3_600_000),
      deps.usageSince(now() - 86_400_000),
    ]);
  } catch (error) {
    return ruleAnswer(`budget unknown: ${messageOf(error)}`, 'rules');
  }
  const tokens =
    spent.inputTokens + spent.outputTokens + spent.cacheReadTokens + spent.cacheWriteTokens;
  // Room for the usual two calls (dispatcher, researcher); a repair of each can take an
  // explanation to four, so the hourly limit may be passed by at most two calls.
  if (spent.llmCalls + 2 > budget.callsPerHour || tokens >= budget.tokensPerHour)
    return ruleAnswer(
      `budget: ${spent.llmCalls} calls and ${tokens} tokens in the last hour (limits ${budget.callsPerHour} calls, ${budget.tokensPerHour} tokens)`,
      'rules',
    );
  // The daily cap in dollars: a cluster stressed all day would otherwise spend the hourly budget
  // every hour (~$10 a day with the default models, docs/benchmarks.md).
  const usd = costOf(bedrock.settings.researcherModel, today);
  if (usd >= budget.usdPerDay)
    return ruleAnswer(
      `budget: $${usd.toFixed(2)} spent in the last 24 hours (at most; limit $${budget.usdPerDay.toFixed(2)} a day)`,
      'rules',
    );

  const facts = factsOf(e, logPatterns);
  let depth: AssessmentDetails['depth'] = 'rules';
  try {
    const dispatch = await bedrock.dispatch(facts, usage);
    depth = dispatch.depth;
    if (dispatch.depth === 'none') return ruleAnswer(null, 'none');
    const research = await bedrock.research(facts, passages, dispatch.depth, usage);
    const grounded = groundResearch(e, research);
    const evidence = evidenceConfidence(e, deps.criticalCycles);
    return {
      summary: grounded.summary,
      confidence: Math.round(((grounded.confidence + evidence) / 2) * 100) / 100,
      issues: grounded.issues,
      explainer: 'bedrock',
      modelId: bedrock.models.researcher,
      ...usageSoFar(),
      fallbackReason: null,
      details: {
        sources: sourcesOf(passages),
        narratives: grounded.narratives,
        dropped: [...grounded.dropped],
        depth: dispatch.depth,
      },
    };
  } catch (error) {
    const why =
      error instanceof Error && error.name === 'UngroundedAnswerError'
        ? `ungrounded answer: ${messageOf(error)}`
        : describeBedrockError(error);
    return ruleAnswer(why, depth);
  }
}
