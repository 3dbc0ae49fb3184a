import type { Sql, TransactionSql } from 'postgres';
import * as z from 'zod';
import { type Evaluation, EvaluationSchema } from '../health/evaluation.js';
import { type AssessmentInput, AssessmentInputSchema } from '../models/assessment.js';
import { type Cluster, ClusterNameSchema } from '../models/cluster.js';
import { type IssueInput, IssueInputSchema } from '../models/issue.js';
import { type LogPatternInput, LogPatternInputSchema } from '../models/log-pattern.js';
import {
  SignalStatusMapSchema,
  SignalValuesSchema,
  type StoredSignals,
} from '../models/stored-evaluation.js';
import { StoreInputError } from './errors.js';
import {
  assessmentIdFor,
  clusterIdFor,
  evaluationIdFor,
  issueIdFor,
  logPatternIdFor,
} from './ids.js';
import { byteLength, parseInput, toDate } from './input.js';
import { BATCH, chunkBySize, DSQL_LIMITS } from './limits.js';
import { toCluster } from './reads.js';
import { type RetryOptions, transaction, withRetry } from './retry.js';
import type { ClusterRow, EvaluationRow } from './rows.js';

async function requireCluster(tx: TransactionSql, clusterId: string): Promise<void> {
  // No foreign keys on DSQL: the relation is enforced here, in the writing transaction.
  const rows = await tx`SELECT 1 FROM clusters WHERE id = ${clusterId}`;
  if (rows.length === 0)
    throw new StoreInputError(`unknown cluster ${clusterId}: register it with ensureCluster first`);
}

/**
 * Registers a watched cluster by name (idempotent) and returns it. The id is derived from the
 * name, so every worker and API instance agrees on it.
 */
export async function ensureCluster(
  sql: Sql,
  name: string,
  retry: RetryOptions = {},
): Promise<Cluster> {
  const clusterName = parseInput(ClusterNameSchema, name, 'cluster name');
  const id = clusterIdFor(clusterName);
  const rows = await withRetry(async () => {
    await sql`INSERT INTO clusters (id, name, created_at) VALUES (${id}, ${clusterName}, now())
      ON CONFLICT (id) DO NOTHING`;
    return sql<ClusterRow[]>`SELECT id, name, created_at FROM clusters WHERE id = ${id}`;
  }, retry);
  const row = rows[0];
  if (row === undefined) throw new StoreInputError(`cluster ${clusterName} vanished after insert`);
  return toCluster(row);
}

/** One cycle to store: the engine's output and what it saw of each signal. */
export interface EvaluationRecord {
  readonly clusterId: string;
  /** The observing workflow (for people reading the row; identity is cluster + instant). */
  readonly workflowId: string;
  /** The workflow run that judged the cycle, when known: tells a retry from a conflict. */
  readonly runId?: string | null;
  /** Cycle number within the observer's chain of runs (informational). */
  readonly cycle: number;
  /** The observer's cadence, so a reader can tell a stale cluster from a slow one. */
  readonly intervalMs?: number | null;
  readonly evaluation: Evaluation;
  /** The snapshot as stored: usable numbers and every other signal's status (`storedSignalsOf`). */
  readonly signals: StoredSignals;
}

const EvaluationRecordSchema = z.object({
  clusterId: z.uuid(),
  workflowId: z.string().min(1).max(1_000),
  runId: z.string().min(1).max(200).nullish(),
  cycle: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  intervalMs: z.number().int().positive().max(86_400_000).nullish(),
  evaluation: EvaluationSchema,
  signals: z.object({ values: SignalValuesSchema, status: SignalStatusMapSchema }),
});

function toEvaluationRow(input: EvaluationRecord): EvaluationRow {
  const record = parseInput(EvaluationRecordSchema, input, 'evaluation record');
  const e = record.evaluation;
  return {
    id: evaluationIdFor(record.clusterId, e.observedAt),
    cluster_id: record.clusterId,
    workflow_id: record.workflowId,
    run_id: record.runId ?? null,
    cycle: record.cycle,
    interval_ms: record.intervalMs ?? null,
    observed_at: new Date(e.observedAt),
    state: e.state,
    previous_state: e.previousState,
    changed: e.changed,
    reason: e.reason,
    scale_band: e.scaleBand,
    bottleneck: e.bottleneck,
    evaluation: JSON.stringify(e),
    signal_values: JSON.stringify(record.signals.values),
    signal_status: JSON.stringify(record.signals.status),
  };
}

const EVALUATION_COLUMNS = [
  'id',
  'cluster_id',
  'workflow_id',
  'run_id',
  'cycle',
  'interval_ms',
  'observed_at',
  'state',
  'previous_state',
  'changed',
  'reason',
  'scale_band',
  'bottleneck',
  'evaluation',
  'signal_values',
  'signal_status',
] as const;

/**
 * What writing one evaluation did: `inserted` a new row; `duplicate` — the row was there, written
 * by the same observer for the same cycle (a retried activity); `conflict` — another writer
 * already stored this cluster at this instant (two observers of one cluster, or a run that was
 * reset onto an instant already judged). A conflict keeps the first row and says whose it is.
 */
export type EvaluationWrite =
  | { readonly id: string; readonly outcome: 'inserted' | 'duplicate' }
  | {
      readonly id: string;
      readonly outcome: 'conflict';
      readonly existing: {
        readonly workflowId: string;
        readonly runId: string | null;
        readonly cycle: number;
      };
    };

/**
 * Stores one cycle's evaluation under its identity (cluster, observed instant). Safe to call again
 * (a retried activity): the deterministic id and `ON CONFLICT (id) DO NOTHING` leave one row, and
 * the outcome tells a retry from a conflicting writer instead of ignoring either.
 *
 * @throws StoreInputError for invalid input or an unknown cluster.
 */
export async function recordEvaluation(
  sql: Sql,
  record: EvaluationRecord,
  retry: RetryOptions = {},
): Promise<EvaluationWrite> {
  const row = toEvaluationRow(record);
  return transaction(
    sql,
    async (tx): Promise<EvaluationWrite> => {
      await requireCluster(tx, row.cluster_id);
      const result = await tx`INSERT INTO evaluations ${tx(row, ...EVALUATION_COLUMNS)}
        ON CONFLICT (id) DO NOTHING`;
      if (result.count === 1) return { id: row.id, outcome: 'inserted' };
      const [existing] = await tx<{ workflow_id: string; run_id: string | null; cycle: string }[]>`
        SELECT workflow_id, run_id, cycle FROM evaluations WHERE id = ${row.id}`;
      if (existing === undefined)
        throw new StoreInputError(`evaluation ${row.id} neither inserted nor found`);
      const sameWriter =
        existing.workflow_id === row.workflow_id &&
        Number(existing.cycle) === row.cycle &&
        (existing.run_id === null || row.run_id === null || existing.run_id === row.run_id);
      return sameWriter
        ? { id: row.id, outcome: 'duplicate' }
        : {
            id: row.id,
            outcome: 'conflict',
            existing: {
              workflowId: existing.workflow_id,
              runId: existing.run_id,
              cycle: Number(existing.cycle),
            },
          };
    },
    retry,
  );
}

/**
 * Stores many evaluations (a backfill or replay), in transactions of at most 500 rows and about
 * 4 MiB each, well inside DSQL's 3,000-row / 10 MiB limits. Idempotent like
 * {@link recordEvaluation}.
 *
 * @returns how many rows were new.
 */
export async function recordEvaluations(
  sql: Sql,
  records: readonly EvaluationRecord[],
  retry: RetryOptions = {},
): Promise<{ inserted: number; batches: number }> {
  const rows = records.map(toEvaluationRow);
  const clusters = [...new Set(rows.map((r) => r.cluster_id))];
  const batches = chunkBySize(rows, (r) => byteLength(r.evaluation) + byteLength(r.signal_values));
  let inserted = 0;
  for (const batch of batches) {
    inserted += await transaction(
      sql,
      async (tx) => {
        for (const clusterId of clusters) await requireCluster(tx, clusterId);
        const result = await tx`INSERT INTO evaluations ${tx(batch, ...EVALUATION_COLUMNS)}
          ON CONFLICT (id) DO NOTHING`;
        return result.count;
      },
      retry,
    );
  }
  return { inserted, batches: batches.length };
}

/** An assessment with its issues, written together. */
export interface AssessmentRecord {
  /**
   * What names this explanation run for idempotency, e.g. `${workflowId}:${cycle}`. The same key
   * always yields the same assessment id.
   */
  readonly key: string;
  readonly assessment: AssessmentInput;
  readonly issues: readonly IssueInput[];
}

/** The most issues one assessment may carry (keeps the write far inside 3,000 rows). */
export const MAX_ISSUES_PER_ASSESSMENT = 200;

/**
 * Stores an assessment and its issues in one transaction, then resolves the cluster's open issues
 * from earlier assessments whose condition (issue key) no longer appears. Idempotent: a replay
 * with the same key writes nothing new and resolves nothing further.
 *
 * @returns the assessment id, the issue ids (in input order), whether the assessment was new and
 *   how many older issues were resolved.
 */
export async function recordAssessment(
  sql: Sql,
  record: AssessmentRecord,
  retry: RetryOptions = {},
): Promise<{ id: string; inserted: boolean; issueIds: string[]; resolved: number }> {
  const key = parseInput(z.string().min(1).max(1_000), record.key, 'assessment key');
  const assessment = parseInput(AssessmentInputSchema, record.assessment, 'assessment');
  if (!Array.isArray(record.issues)) throw new StoreInputError('invalid issues: expected an array');
  if (record.issues.length > MAX_ISSUES_PER_ASSESSMENT)
    throw new StoreInputError(
      `too many issues: ${record.issues.length} > ${MAX_ISSUES_PER_ASSESSMENT} per assessment`,
    );
  const issues = record.issues.map((issue, i) => parseInput(IssueInputSchema, issue, `issue ${i}`));
  const keys = issues.map((i) => i.key);
  const duplicate = keys.find((k, i) => keys.indexOf(k) !== i);
  if (duplicate !== undefined)
    throw new StoreInputError(`duplicate issue key "${duplicate}" in one assessment`);
  const id = assessmentIdFor(assessment.cluster_id, key);
  const createdAt = toDate(assessment.created_at, 'created_at');
  const issueRows = issues.map((issue) => ({
    id: issueIdFor(id, issue.key),
    cluster_id: assessment.cluster_id,
    assessment_id: id,
    issue_key: issue.key,
    severity: issue.severity,
    title: issue.title,
    description: issue.description,
    likely_cause: issue.likely_cause,
    contributing_factors: JSON.stringify(issue.contributing_factors),
    suggested_actions: JSON.stringify(issue.suggested_actions),
    related_signals: JSON.stringify(issue.related_signals),
    created_at: createdAt,
  }));
  const inserted = await transaction(
    sql,
    async (tx) => {
      await requireCluster(tx, assessment.cluster_id);
      const result = await tx`INSERT INTO assessments ${tx({
        id,
        cluster_id: assessment.cluster_id,
        evaluation_id: assessment.evaluation_id,
        created_at: createdAt,
        trigger: assessment.trigger,
        health_state: assessment.health_state,
        summary: assessment.summary,
        confidence: assessment.confidence,
        explainer: assessment.explainer,
        model_id: assessment.model_id,
        input_tokens: assessment.input_tokens,
        output_tokens: assessment.output_tokens,
        issue_count: issueRows.length,
        llm_calls: assessment.llm_calls,
        cache_read_tokens: assessment.cache_read_tokens,
        cache_write_tokens: assessment.cache_write_tokens,
        latency_ms: assessment.latency_ms,
        fallback_reason: assessment.fallback_reason,
        reason: assessment.reason,
        details: JSON.stringify(assessment.details),
      })} ON CONFLICT (id) DO NOTHING`;
      if (issueRows.length > 0)
        await tx`INSERT INTO issues ${tx(issueRows)} ON CONFLICT (id) DO NOTHING`;
      return result.count === 1;
    },
    retry,
  );
  const resolved = await resolveClearedIssues(
    sql,
    { clusterId: assessment.cluster_id, activeKeys: keys, asOf: createdAt },
    retry,
  );
  return { id, inserted, issueIds: issueRows.map((r) => r.id), resolved };
}

/**
 * Resolves the cluster's open issues whose key is not in `activeKeys`, stamping `resolved_at`
 * with `asOf`. Only issues created before `asOf` are touched, so a late replay of an old
 * assessment cannot resolve what a newer one reported. Runs in batches of at most 500 rows.
 *
 * @returns how many issues were resolved.
 */
export async function resolveClearedIssues(
  sql: Sql,
  options: {
    readonly clusterId: string;
    readonly activeKeys: readonly string[];
    readonly asOf: Date | string | number;
  },
  retry: RetryOptions = {},
): Promise<number> {
  const clusterId = parseInput(z.uuid(), options.clusterId, 'cluster id');
  const keys = parseInput(z.array(z.string()), options.activeKeys, 'active issue keys');
  const asOf = toDate(options.asOf, 'asOf');
  let total = 0;
  for (;;) {
    const count = await transaction(
      sql,
      async (tx) => {
        const result = await tx`
          UPDATE issues SET resolved_at = ${asOf}
          WHERE id IN (
            SELECT id FROM issues
            WHERE cluster_id = ${clusterId} AND resolved_at IS NULL AND created_at < ${asOf}
              AND NOT (issue_key = ANY(${keys}::text[]))
            LIMIT ${BATCH.rows})`;
        return result.count;
      },
      retry,
    );
    total += count;
    if (count < BATCH.rows) return total;
  }
}

/**
 * Stores the log-pattern counts of one observation window. Idempotent per (cluster, window,
 * pattern, service); batched within DSQL's row limit.
 *
 * @returns how many rows were new.
 */
export async function recordLogPatterns(
  sql: Sql,
  input: {
    readonly clusterId: string;
    readonly observedAt: Date | string | number;
    readonly patterns: readonly LogPatternInput[];
  },
  retry: RetryOptions = {},
): Promise<{ inserted: number }> {
  const clusterId = parseInput(z.uuid(), input.clusterId, 'cluster id');
  const observedAt = toDate(input.observedAt, 'observedAt');
  if (!Array.isArray(input.patterns))
    throw new StoreInputError('invalid patterns: expected an array');
  const rows = input.patterns.map((p, i) => {
    const pattern = parseInput(LogPatternInputSchema, p, `log pattern ${i}`);
    return {
      id: logPatternIdFor(clusterId, observedAt.getTime(), pattern.pattern_id, pattern.service),
      cluster_id: clusterId,
      observed_at: observedAt,
      pattern_id: pattern.pattern_id,
      service: pattern.service,
      count: pattern.count,
      count_is_lower_bound: pattern.count_is_lower_bound,
      sample: pattern.sample,
    };
  });
  let inserted = 0;
  const maxRows = Math.min(BATCH.rows * 2, DSQL_LIMITS.maxRowsPerTransaction);
  for (const batch of chunkBySize(rows, (r) => byteLength(r.sample ?? '') + 200, maxRows)) {
    inserted += await transaction(
      sql,
      async (tx) => {
        await requireCluster(tx, clusterId);
        const result = await tx`INSERT INTO log_patterns ${tx(batch)} ON CONFLICT (id) DO NOTHING`;
        return result.count;
      },
      retry,
    );
  }
  return { inserted };
}
