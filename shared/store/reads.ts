import type { Sql } from 'postgres';
import { z } from 'zod';
import { SCALE_BANDS } from '../health/config.js';
import {
  BottleneckSchema,
  EvaluationSchema,
  HEALTH_STATES,
  StateReasonSchema,
} from '../health/evaluation.js';
import { type Assessment, AssessmentSchema } from '../models/assessment.js';
import { type Cluster, ClusterNameSchema } from '../models/cluster.js';
import { type Issue, IssueSchema, type Severity, SeveritySchema } from '../models/issue.js';
import type { LogPatternRow } from '../models/log-pattern.js';
import {
  type SeriesPoint,
  SignalValuesSchema,
  type StoredEvaluation,
  type TimelineEntry,
} from '../models/stored-evaluation.js';
import { describeFirstIssue } from '../zod-issues.js';
import { StoreError } from './errors.js';
import { clusterIdFor } from './ids.js';
import { parseInput, toDate, toLimit, toRange } from './input.js';

const iso = (d: Date) => d.toISOString();

const STATES: ReadonlySet<string> = new Set(HEALTH_STATES);
const REASONS: ReadonlySet<string> = new Set(StateReasonSchema.options);
const BANDS: ReadonlySet<string> = new Set(SCALE_BANDS);
const BOTTLENECKS: ReadonlySet<string> = new Set(BottleneckSchema.options);

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new StoreError(`stored ${what} is not valid JSON`, { cause: error });
  }
}

function checkStored<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new StoreError(
      describeFirstIssue(parsed.error, `stored ${what} does not match the current schema`),
    );
  return parsed.data;
}

/** A `clusters` row as selected by `SELECT id, name, created_at`. */
export interface ClusterRow {
  id: string;
  name: string;
  created_at: Date;
}

/** A `clusters` row as a {@link Cluster}. */
export function toCluster(row: ClusterRow): Cluster {
  return { id: row.id, name: row.name, created_at: iso(row.created_at) };
}

const MAX_CLUSTERS = 1000;

/**
 * The watched clusters, by name: all of them (up to 1000), or the first `limit`. A small limit is
 * the cheap way to tell "none", "one" and "several" apart.
 */
export async function listClusters(
  sql: Sql,
  options: { readonly limit?: number } = {},
): Promise<Cluster[]> {
  const limit = toLimit(options.limit, MAX_CLUSTERS, MAX_CLUSTERS);
  const rows = await sql<ClusterRow[]>`
    SELECT id, name, created_at FROM clusters ORDER BY name LIMIT ${limit}`;
  return rows.map(toCluster);
}

/**
 * The cluster registered under `name`, or null. One primary-key read: the id is derived from the
 * name ({@link clusterIdFor}), and the name is checked and trimmed as `ensureCluster` does, so
 * both agree on the id.
 *
 * @throws StoreInputError for a name `ensureCluster` would refuse.
 */
export async function findCluster(sql: Sql, name: string): Promise<Cluster | null> {
  const clusterName = parseInput(ClusterNameSchema, name, 'cluster name');
  const rows = await sql<ClusterRow[]>`
    SELECT id, name, created_at FROM clusters WHERE id = ${clusterIdFor(clusterName)}`;
  const row = rows[0];
  return row === undefined ? null : toCluster(row);
}

interface EvaluationRow {
  id: string;
  cluster_id: string;
  workflow_id: string;
  cycle: string | number;
  observed_at: Date;
  evaluation: string;
  signal_values: string;
}

function toStoredEvaluation(row: EvaluationRow): StoredEvaluation {
  const what = `evaluation ${row.id}`;
  return {
    id: row.id,
    cluster_id: row.cluster_id,
    workflow_id: row.workflow_id,
    cycle: Number(row.cycle),
    observed_at: iso(row.observed_at),
    evaluation: checkStored(EvaluationSchema, parseJson(row.evaluation, what), what),
    signal_values: checkStored(SignalValuesSchema, parseJson(row.signal_values, what), what),
  };
}

const ClusterIdSchema = z.uuid();

/**
 * The newest evaluation of a cluster, or null before the first cycle. Index-backed
 * (`evaluations_cluster_observed_idx`, scanned backwards, one row).
 */
export async function latestEvaluation(
  sql: Sql,
  clusterId: string,
): Promise<StoredEvaluation | null> {
  const id = parseInput(ClusterIdSchema, clusterId, 'cluster id');
  const rows = await sql<EvaluationRow[]>`
    SELECT id, cluster_id, workflow_id, cycle, observed_at, evaluation, signal_values
    FROM evaluations WHERE cluster_id = ${id}
    ORDER BY observed_at DESC LIMIT 1`;
  return rows[0] === undefined ? null : toStoredEvaluation(rows[0]);
}

interface AssessmentRow {
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
}

function toAssessment(row: AssessmentRow): Assessment {
  return checkStored(
    AssessmentSchema,
    { ...row, created_at: iso(row.created_at) },
    `assessment ${row.id}`,
  );
}

/** The newest assessment of a cluster, or null before the first one. Index-backed. */
export async function latestAssessment(sql: Sql, clusterId: string): Promise<Assessment | null> {
  const id = parseInput(ClusterIdSchema, clusterId, 'cluster id');
  const rows = await sql<AssessmentRow[]>`
    SELECT id, cluster_id, evaluation_id, created_at, trigger, health_state, summary, confidence,
      explainer, model_id, input_tokens, output_tokens, issue_count
    FROM assessments WHERE cluster_id = ${id}
    ORDER BY created_at DESC LIMIT 1`;
  return rows[0] === undefined ? null : toAssessment(rows[0]);
}

/** What `/status` needs: the newest evaluation (the state) and the newest assessment (the words). */
export interface LatestStatus {
  readonly evaluation: StoredEvaluation | null;
  readonly assessment: Assessment | null;
}

/** The newest evaluation and assessment of a cluster, read in parallel. */
export async function latestStatus(sql: Sql, clusterId: string): Promise<LatestStatus> {
  const [evaluation, assessment] = await Promise.all([
    latestEvaluation(sql, clusterId),
    latestAssessment(sql, clusterId),
  ]);
  return { evaluation, assessment };
}

interface IssueRow {
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

function toIssue(row: IssueRow): Issue {
  const what = `issue ${row.id}`;
  return checkStored(
    IssueSchema,
    {
      id: row.id,
      cluster_id: row.cluster_id,
      assessment_id: row.assessment_id,
      key: row.issue_key,
      severity: row.severity,
      title: row.title,
      description: row.description,
      likely_cause: row.likely_cause,
      contributing_factors: parseJson(row.contributing_factors, what),
      suggested_actions: parseJson(row.suggested_actions, what),
      related_signals: parseJson(row.related_signals, what),
      created_at: iso(row.created_at),
      resolved_at: row.resolved_at === null ? null : iso(row.resolved_at),
    },
    what,
  );
}

/**
 * The issues of one assessment, most severe first, optionally only one severity. Index-backed
 * (`issues_assessment_severity_idx`).
 *
 * @param options.limit 1..100, default 10 (the seed API's bounds).
 */
export async function issuesOfAssessment(
  sql: Sql,
  assessmentId: string,
  options: { readonly severity?: Severity; readonly limit?: number } = {},
): Promise<Issue[]> {
  const id = parseInput(z.uuid(), assessmentId, 'assessment id');
  const limit = toLimit(options.limit, 10, 100);
  const severity =
    options.severity === undefined
      ? undefined
      : parseInput(SeveritySchema, options.severity, 'severity');
  const rows = await sql<IssueRow[]>`
    SELECT * FROM issues
    WHERE assessment_id = ${id} ${severity === undefined ? sql`` : sql`AND severity = ${severity}`}
    ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, issue_key
    LIMIT ${limit}`;
  return rows.map(toIssue);
}

/** The cluster's unresolved issues, newest first. Index-backed (`issues_cluster_resolved_idx`). */
export async function openIssues(
  sql: Sql,
  clusterId: string,
  options: { readonly limit?: number } = {},
): Promise<Issue[]> {
  const id = parseInput(ClusterIdSchema, clusterId, 'cluster id');
  const limit = toLimit(options.limit, 100, 1_000);
  const rows = await sql<IssueRow[]>`
    SELECT * FROM issues WHERE cluster_id = ${id} AND resolved_at IS NULL
    ORDER BY created_at DESC, issue_key LIMIT ${limit}`;
  return rows.map(toIssue);
}

/** Options of {@link evaluationTimeline}. */
export interface TimelineOptions {
  readonly clusterId: string;
  readonly from: Date | string | number;
  readonly to: Date | string | number;
  /** Only the cycles where the state changed (index `evaluations_cluster_changed_observed_idx`). */
  readonly changesOnly?: boolean;
  /** 1..50,000, default 5,000 (a day at 30 s is 2,880 rows). */
  readonly limit?: number;
}

/**
 * The evaluations of a cluster in `[from, to)`, oldest first, without their payload: every cycle,
 * or only the state changes. Exact, because every cycle is stored.
 */
export async function evaluationTimeline(
  sql: Sql,
  options: TimelineOptions,
): Promise<TimelineEntry[]> {
  const id = parseInput(ClusterIdSchema, options.clusterId, 'cluster id');
  const { from, to } = toRange(options.from, options.to);
  const limit = toLimit(options.limit, 5_000, 50_000);
  const rows = await sql<
    {
      id: string;
      observed_at: Date;
      state: string;
      previous_state: string | null;
      changed: boolean;
      reason: string;
      scale_band: string;
      bottleneck: string;
    }[]
  >`
    SELECT id, observed_at, state, previous_state, changed, reason, scale_band, bottleneck
    FROM evaluations
    WHERE cluster_id = ${id} ${options.changesOnly === true ? sql`AND changed = true` : sql``}
      AND observed_at >= ${from} AND observed_at < ${to}
    ORDER BY observed_at LIMIT ${limit}`;
  // Rows were validated on the way in; a day is 2,880 rows, so check only the enum columns here
  // (cheap set lookups) rather than running the full schema on every row.
  return rows.map((r) => {
    if (
      !STATES.has(r.state) ||
      (r.previous_state !== null && !STATES.has(r.previous_state)) ||
      !REASONS.has(r.reason) ||
      !BANDS.has(r.scale_band) ||
      !BOTTLENECKS.has(r.bottleneck)
    )
      throw new StoreError(`stored evaluation ${r.id} does not match the current schema`);
    return {
      id: r.id,
      observed_at: iso(r.observed_at),
      health_state: r.state,
      previous_state: r.previous_state,
      changed: r.changed,
      reason: r.reason,
      scale_band: r.scale_band,
      bottleneck: r.bottleneck,
    } as TimelineEntry;
  });
}

/** The most signals one sparkline read may ask for. */
export const MAX_SERIES_SIGNALS = 12;

/**
 * Sparkline series: for each requested signal id, one point per stored cycle in `[from, to)`,
 * oldest first, read from the values stored beside each evaluation (no recomputation). A cycle
 * where the signal had no `ok` value gives `value: null`, never 0.
 *
 * @param options.limit cycles to return, 1..20,000 (default 2,880: a day at 30 s).
 */
export async function signalSeries(
  sql: Sql,
  options: {
    readonly clusterId: string;
    readonly signalIds: readonly string[];
    readonly from: Date | string | number;
    readonly to: Date | string | number;
    readonly limit?: number;
  },
): Promise<Record<string, SeriesPoint[]>> {
  const id = parseInput(ClusterIdSchema, options.clusterId, 'cluster id');
  const ids = parseInput(
    z.array(z.string().min(1).max(200)).min(1).max(MAX_SERIES_SIGNALS),
    options.signalIds,
    'signal ids',
  );
  const { from, to } = toRange(options.from, options.to);
  const limit = toLimit(options.limit, 2_880, 20_000);
  // The stored values are parsed here rather than in SQL: PostgreSQL's per-row jsonb conversion
  // measured about twice the cost of shipping the text and running JSON.parse (bench/store).
  const rows = await sql<{ observed_at: Date; signal_values: string }[]>`
    SELECT observed_at, signal_values
    FROM evaluations
    WHERE cluster_id = ${id} AND observed_at >= ${from} AND observed_at < ${to}
    ORDER BY observed_at LIMIT ${limit}`;
  const series: Record<string, SeriesPoint[]> = {};
  for (const signal of ids) series[signal] = [];
  for (const row of rows) {
    const t = iso(row.observed_at);
    const values = parseJson(row.signal_values, 'signal values') as Record<string, unknown>;
    for (const signal of ids) {
      const value = Object.hasOwn(values, signal) ? values[signal] : undefined;
      series[signal]?.push({ t, value: typeof value === 'number' ? value : null });
    }
  }
  return series;
}

/**
 * Log-pattern counts of a cluster: those observed since `since`, or (without it) the newest
 * observation window only. Highest counts first within a window.
 */
export async function recentLogPatterns(
  sql: Sql,
  options: {
    readonly clusterId: string;
    readonly since?: Date | string | number;
    readonly limit?: number;
  },
): Promise<LogPatternRow[]> {
  const id = parseInput(ClusterIdSchema, options.clusterId, 'cluster id');
  const limit = toLimit(options.limit, 50, 1_000);
  const since = options.since === undefined ? undefined : toDate(options.since, 'since');
  const window =
    since === undefined
      ? sql`observed_at = (SELECT max(observed_at) FROM log_patterns WHERE cluster_id = ${id})`
      : sql`observed_at >= ${since}`;
  const rows = await sql<
    {
      id: string;
      cluster_id: string;
      observed_at: Date;
      pattern_id: string;
      service: string;
      count: string | number;
      count_is_lower_bound: boolean;
      sample: string | null;
    }[]
  >`
    SELECT id, cluster_id, observed_at, pattern_id, service, count, count_is_lower_bound, sample
    FROM log_patterns WHERE cluster_id = ${id} AND ${window}
    ORDER BY observed_at DESC, count DESC, pattern_id LIMIT ${limit}`;
  return rows.map((r) => ({
    id: r.id,
    cluster_id: r.cluster_id,
    observed_at: iso(r.observed_at),
    pattern_id: r.pattern_id,
    service: r.service,
    count: Number(r.count),
    count_is_lower_bound: r.count_is_lower_bound,
    sample: r.sample,
  }));
}
