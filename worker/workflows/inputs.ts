import type { EngineConfigInput } from '../../shared/health/config.js';
import type { CarriedState, Evaluation } from '../../shared/health/evaluation.js';
import type { Trigger } from '../../shared/models/assessment.js';

/** One input object per workflow, so fields can be added without breaking running executions. */
export interface ObserveClusterInput {
  readonly cluster: string;
  /** Observation cadence. @default 30_000 */
  readonly intervalMs?: number;
  /** Engine configuration (thresholds, overrides), validated by the activity. */
  readonly engineConfig?: EngineConfigInput;
  /** Carried engine state from the previous run (continue-as-new or a restart). */
  readonly carried?: CarriedState | null;
  /** Cycle number the run starts at; cycles number evaluations across runs. */
  readonly cycle?: number;
  /** Continue-as-new after this many cycles, well before history limits. @default 200 */
  readonly cyclesPerRun?: number;
  /** Context handed to change-triggered assessments (the prior art passed none). */
  readonly assessment?: AssessmentContextInput;
}

export interface AssessmentContextInput {
  /** Bedrock Knowledge Base id, when runbooks are configured. */
  readonly knowledgeBaseId?: string | null;
  /** Whether log patterns are collected for this cluster (a Loki source is configured). */
  readonly logsEnabled?: boolean;
}

export interface AssessHealthInput {
  readonly cluster: string;
  readonly trigger: Trigger;
  /** The engine's evaluation being explained: the state comes from here, never from the explainer. */
  readonly evaluation: Evaluation;
  /** Names this explanation for idempotency (e.g. `${observerId}:${cycle}`). */
  readonly key: string;
  readonly context?: AssessmentContextInput;
}

export interface ScheduledAssessmentInput {
  readonly cluster: string;
  /** @default 300_000 (5 minutes) */
  readonly intervalMs?: number;
  /** Skip when an assessment newer than this exists. @default 240_000 */
  readonly recentWindowMs?: number;
  readonly context?: AssessmentContextInput;
  readonly iteration?: number;
}

export interface LogWatcherInput {
  readonly cluster: string;
  /** @default 30_000 */
  readonly intervalMs?: number;
  readonly iteration?: number;
}
