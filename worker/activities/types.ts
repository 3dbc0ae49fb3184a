import type { EngineConfigInput } from '../../shared/health/config.js';
import type { DecisionSummary } from '../../shared/health/decide.js';
import type {
  CarriedState,
  Evaluation,
  HealthState,
  StateReason,
} from '../../shared/health/evaluation.js';
import type { Trigger } from '../../shared/models/assessment.js';
import type { ExplainResult } from '../explain/explainer.js';

/*
 * The contract between workflows and activities. Workflows import these types only; everything
 * here crosses Temporal's history, so each field is one the workflow decides with or hands on —
 * the full evaluation stays in the store and travels by id (docs/runtime.md, "A lean observer").
 */

/** Context handed to assessments (the prior art passed none). */
export interface AssessmentContextInput {
  /** Bedrock Knowledge Base id, when runbooks are configured. */
  readonly knowledgeBaseId?: string | null;
  /** Whether log patterns are collected for this cluster (a Loki source is configured). */
  readonly logsEnabled?: boolean;
}

export interface ObserveCycleInput {
  readonly cluster: string;
  /** The observer's workflow id and run id: written with the row, they tell a retry from a conflict. */
  readonly observerId: string;
  readonly runId: string;
  readonly cycle: number;
  readonly carried: CarriedState | null;
  /** The evaluation instant (workflow time), epoch ms: with the cluster, the row's identity. */
  readonly at: number;
  /** The observer's cadence, stored with the row so readers can tell when it went stale. */
  readonly intervalMs: number;
  readonly engineConfig?: EngineConfigInput;
  /**
   * The first cycle of a run that did not continue from another (a new, restarted or reset
   * observer): start from the newest stored evaluation's carried state when it is recent enough to
   * still describe the cluster, so a restart neither forgets a critical streak nor invents a happy.
   */
  readonly resume?: boolean;
  /**
   * Skip the source and evaluate an empty snapshot: the observation failed after its retries, and
   * the cycle is still judged (as `unknown`) by the engine in an activity, never in the workflow.
   */
  readonly blind?: boolean;
}

/** What the observer keeps of a cycle: the engine's decision summary and where the row is. */
export interface CycleSummary extends DecisionSummary {
  /** The stored evaluation's id (cluster + instant), whether or not the write succeeded. */
  readonly evaluationId: string;
}

/**
 * `inserted`: a new row. `duplicate`: the row was there from this observer's earlier attempt at
 * the same cycle. `conflict`: another writer stored this instant first (kept; reported). `failed`:
 * the store refused or was unreachable after its own retries; the cycle still counts.
 */
export type StoreOutcome = 'inserted' | 'duplicate' | 'conflict' | 'failed';

export interface ObserveCycleOutput {
  readonly summary: CycleSummary;
  readonly stored: StoreOutcome;
  /** Why the write failed or conflicted, one line. */
  readonly storeNote?: string;
  /** The full evaluation, only when it is not in the store: an assessment can still explain it. */
  readonly evaluation?: Evaluation;
  /** The stored evaluation the carried state was resumed from, when `resume` found one. */
  readonly resumedFrom?: {
    readonly evaluationId: string;
    readonly observedAt: number;
    /** The verdict (`verdictOf`) the newest stored assessment explained, when there is one. */
    readonly assessedVerdict?: string;
  };
}

/** An evaluation to explain: by reference to the store, or inline when it never got there. */
export interface EvaluationRef {
  readonly evaluationId: string;
  readonly evaluation?: Evaluation;
}

export interface ExplainInput extends EvaluationRef {
  readonly cluster: string;
  readonly trigger: Trigger;
  readonly context?: AssessmentContextInput;
}

/** The explainer's result (worker/explain/explainer.ts), with what it explained. */
export interface ExplainOutput extends ExplainResult {
  /** What was explained, as the engine stored it: the assessment copies the state from here. */
  readonly explained: {
    readonly evaluationId: string;
    readonly state: HealthState;
    readonly observedAt: number;
  };
  /** The engine's reason the words explain. */
  readonly reason: StateReason;
}

export interface RecordAssessmentInput {
  readonly cluster: string;
  readonly key: string;
  readonly trigger: Trigger;
  readonly explanation: ExplainOutput;
}

export interface LatestForScheduleOutput {
  /** The observer's newest stored evaluation, by reference; null before the first one. */
  readonly latest: {
    readonly evaluationId: string;
    readonly state: HealthState;
    readonly observedAt: number;
    /** Older than the staleness limit: the observer or the store is not keeping up. */
    readonly stale: boolean;
  } | null;
  /** An assessment newer than the window exists, so the schedule skips this round. */
  readonly recentAssessment: boolean;
}

/**
 * Everything workflows may ask of the outside world. Workflows import this type only; the
 * implementation (`createActivities`) does the I/O.
 */
export interface CopilotActivities {
  /**
   * One observation cycle: snapshot, engine, store — in one activity, so the evaluation never
   * crosses the workflow's history. Never throws for a dead source (its values become errors and
   * the state `unknown`) nor for a dead store (`stored: 'failed'`).
   */
  observeCycle(input: ObserveCycleInput): Promise<ObserveCycleOutput>;
  explain(input: ExplainInput): Promise<ExplainOutput>;
  recordAssessment(input: RecordAssessmentInput): Promise<{ id: string; inserted: boolean }>;
  latestForSchedule(input: {
    readonly cluster: string;
    readonly at: number;
    readonly recentWindowMs: number;
  }): Promise<LatestForScheduleOutput>;
  /**
   * Deletes evaluations, log patterns, assessments and issues older than the retention window,
   * in DSQL-sized batches.
   */
  pruneHistory(input: { readonly at: number }): Promise<{ readonly deleted: number }>;
  collectLogPatterns(input: {
    readonly cluster: string;
    readonly at: number;
    readonly windowMs: number;
  }): Promise<{ readonly ok: boolean; readonly patterns: number }>;
}
