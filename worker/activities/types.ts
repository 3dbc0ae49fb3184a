import type { EngineConfigInput } from '../../shared/health/config.js';
import type { CarriedState, Evaluation } from '../../shared/health/evaluation.js';
import type { Explainer, Trigger } from '../../shared/models/assessment.js';
import type { IssueInput } from '../../shared/models/issue.js';
import type { SignalValues } from '../../shared/models/stored-evaluation.js';
import type { AssessmentContextInput } from '../workflows/inputs.js';

export interface ObserveInput {
  readonly cluster: string;
  readonly observerId: string;
  readonly cycle: number;
  readonly carried: CarriedState | null;
  /** The evaluation instant (workflow time), epoch ms. */
  readonly at: number;
  readonly engineConfig?: EngineConfigInput;
  /**
   * Skip the source and evaluate an empty snapshot: the observation failed after its retries, and
   * the cycle is still judged (as `unknown`) by the engine in an activity, never in the workflow.
   */
  readonly blind?: boolean;
}

export interface ObserveOutput {
  readonly evaluation: Evaluation;
  readonly signalValues: SignalValues;
}

export interface RecordEvaluationInput {
  readonly cluster: string;
  readonly observerId: string;
  readonly cycle: number;
  readonly evaluation: Evaluation;
  readonly signalValues: SignalValues;
}

export interface ExplainInput {
  readonly cluster: string;
  readonly trigger: Trigger;
  readonly evaluation: Evaluation;
  readonly context?: AssessmentContextInput;
}

export interface ExplainOutput {
  readonly summary: string;
  readonly confidence: number;
  readonly issues: IssueInput[];
  readonly explainer: Explainer;
  readonly modelId: string | null;
  readonly inputTokens: number;
  readonly outputTokens: number;
}

export interface RecordAssessmentInput {
  readonly cluster: string;
  readonly key: string;
  readonly trigger: Trigger;
  readonly evaluation: Evaluation;
  readonly explanation: ExplainOutput;
}

export interface LatestForScheduleOutput {
  /** The observer's newest stored evaluation (never a fresh re-evaluation). */
  readonly evaluation: Evaluation | null;
  /** Idempotency key of that evaluation (`${workflowId}:${cycle}`), or null. */
  readonly key: string | null;
  /** An assessment newer than the window exists, so the schedule skips this round. */
  readonly recentAssessment: boolean;
}

/**
 * Everything workflows may ask of the outside world. Workflows import this type only; the
 * implementation (`createActivities`) does the I/O.
 */
export interface CopilotActivities {
  /** Takes one snapshot and runs the engine on it with the carried state. Never throws for a dead source: its values become errors and the state `unknown`. */
  observe(input: ObserveInput): Promise<ObserveOutput>;
  recordEvaluation(input: RecordEvaluationInput): Promise<{ id: string }>;
  explain(input: ExplainInput): Promise<ExplainOutput>;
  recordAssessment(input: RecordAssessmentInput): Promise<{ id: string; inserted: boolean }>;
  latestForSchedule(input: {
    readonly cluster: string;
    readonly at: number;
    readonly recentWindowMs: number;
  }): Promise<LatestForScheduleOutput>;
  /** Deletes evaluations and log patterns older than the retention window, in DSQL-sized batches. */
  pruneHistory(input: { readonly at: number }): Promise<{ readonly deleted: number }>;
  collectLogPatterns(input: {
    readonly cluster: string;
    readonly at: number;
    readonly windowMs: number;
  }): Promise<{ readonly ok: boolean; readonly patterns: number }>;
}
