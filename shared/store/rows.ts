/*
 * The store's rows as the driver returns them (and as writes build them), one type per table, in
 * one place: reads and writes must agree on a column's name and type, and a new column is added
 * here once. BIGINT columns come back as strings from the driver; DSQL keeps JSON in TEXT.
 */

/** `clusters`, as selected by `SELECT id, name, created_at`. */
export interface ClusterRow {
  id: string;
  name: string;
  created_at: Date;
}

/** `evaluations`, every column the copilot writes. */
export interface EvaluationRow {
  id: string;
  cluster_id: string;
  workflow_id: string;
  /** NULL for rows written before migration 16. */
  run_id: string | null;
  cycle: number | string;
  /** NULL for rows written before migration 14. */
  interval_ms: number | string | null;
  observed_at: Date;
  state: string;
  previous_state: string | null;
  changed: boolean;
  reason: string;
  scale_band: string;
  bottleneck: string;
  /** The engine's `Evaluation`, JSON. */
  evaluation: string;
  /** `SignalValues`, JSON. */
  signal_values: string;
  /** `SignalStatusMap`, JSON; NULL only between migrations 15 and 19. */
  signal_status: string | null;
}

/** The columns of `evaluations` a full read selects (everything but the bookkeeping). */
export type StoredEvaluationRow = Pick<
  EvaluationRow,
  | 'id'
  | 'cluster_id'
  | 'workflow_id'
  | 'cycle'
  | 'interval_ms'
  | 'observed_at'
  | 'evaluation'
  | 'signal_values'
  | 'signal_status'
>;

/** A timeline read: the indexed columns of `evaluations`, and how many cycles the row stands for. */
export type TimelineRow = Pick<
  EvaluationRow,
  | 'id'
  | 'observed_at'
  | 'state'
  | 'previous_state'
  | 'changed'
  | 'reason'
  | 'scale_band'
  | 'bottleneck'
> & { samples: number | string };

/** `assessments`. */
export interface AssessmentRow {
  id: string;
  cluster_id: string;
  evaluation_id: string | null;
  created_at: Date;
  trigger: string;
  health_state: string;
  summary: string;
  confidence: number;
  explainer: string;
  model_id: string | null;
  input_tokens: number;
  output_tokens: number;
  issue_count: number;
  /** Migrations 20–26: NULL for rows written before them. */
  llm_calls: number | null;
  cache_read_tokens: string | number | null;
  cache_write_tokens: string | number | null;
  latency_ms: number | null;
  fallback_reason: string | null;
  reason: string | null;
  /** `AssessmentDetails`, JSON. */
  details: string | null;
}

/** `issues`. */
export interface IssueRow {
  id: string;
  cluster_id: string;
  assessment_id: string;
  issue_key: string;
  severity: string;
  title: string;
  description: string;
  likely_cause: string;
  contributing_factors: string;
  suggested_actions: string;
  related_signals: string;
  created_at: Date;
  resolved_at: Date | null;
}

/** `log_patterns`. */
export interface LogPatternDbRow {
  id: string;
  cluster_id: string;
  observed_at: Date;
  pattern_id: string;
  service: string;
  count: string | number;
  count_is_lower_bound: boolean;
  sample: string | null;
}
