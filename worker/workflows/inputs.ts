import type { EngineConfigInput } from '../../shared/health/config.js';
import type { CarriedState, Evaluation, StateReason } from '../../shared/health/evaluation.js';
import type { Trigger } from '../../shared/models/assessment.js';
import type { AssessmentContextInput } from '../activities/types.js';

export type { AssessmentContextInput } from '../activities/types.js';

/** One input object per workflow, so fields can be added without breaking running executions. */
export interface ObserveClusterInput {
  readonly cluster: string;
  /** Observation cadence. @default 30_000 */
  readonly intervalMs?: number;
  /** Engine configuration (thresholds, overrides), validated by the activity. */
  readonly engineConfig?: EngineConfigInput;
  /** Carried engine state from the previous run (continue-as-new). */
  readonly carried?: CarriedState | null;
  /** Cycle number the run starts at; cycles number evaluations across runs. */
  readonly cycle?: number;
  /**
   * Set by continue-as-new: the run carries its predecessor's state. Without it the run is new (a
   * first start, a restart after terminate or failure, a reset) and resumes from the store.
   */
  readonly continued?: boolean;
  /** Continue-as-new after this many cycles, well before history limits. @default 300 */
  readonly cyclesPerRun?: number;
  /** Context handed to change-triggered assessments (the prior art passed none). */
  readonly assessment?: AssessmentContextInput;
  /** The verdict (reason and problem gates) of the previous run's last cycle (continue-as-new). */
  readonly lastVerdict?: string | null;
  /** The verdict the newest assessment this observer started explained (continue-as-new). */
  readonly assessedVerdict?: string | null;
  /**
   * The reason-only rule's carried state, in runs started before the verdict rule: read only so
   * their histories replay; new runs neither need nor carry it.
   */
  readonly lastReason?: StateReason | null;
  readonly assessedReason?: StateReason | null;
}

export interface AssessHealthInput {
  readonly cluster: string;
  readonly trigger: Trigger;
  /** The stored evaluation being explained: the state comes from it, never from the explainer. */
  readonly evaluationId: string;
  /** The evaluation itself, only when it could not be stored. */
  readonly evaluation?: Evaluation;
  /** Names this explanation for idempotency (the evaluation id: restart-proof). */
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
