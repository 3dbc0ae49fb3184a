import type { PendingQuery, Row, Sql } from 'postgres';
import * as z from 'zod';
import { SCALE_BANDS } from '../health/config.js';
import {
  BottleneckSchema,
  EvaluationSchema,
  HEALTH_STATES,
  StateReasonSchema,
} from '../health/evaluation.js';
import { type Assessment, AssessmentSchema, type ExplainerUsage } from '../models/assessment.js';

export type { ExplainerUsage } from '../models/assessment.js';

import { type Cluster, type ClusterLatest, ClusterNameSchema } from '../models/cluster.js';
import { type Issue, IssueSchema, type Severity, SeveritySchema } from '../models/issue.js';
import type { LogPatternRow } from '../models/log-pattern.js';
import {
  type SeriesPoint,
  SignalStatusMapSchema,
  SignalValuesSchema,
  type StoredEvaluation,
  type TimelineEntry,
} from '../models/stored-evaluation.js';
import { describeFirstIssue } from '../zod-issues.js';
import { StoreError, StoreInputError } from './errors.js';
import { clusterIdFor } from './ids.js';
import { parseInput, toDate, toLimit, toRange } from './input.js';
import type {
  AssessmentRow,
  ClusterRow,
  IssueRow,
  LogPatternDbRow,
  StoredEvaluationRow,
  TimelineRow,
} from './rows.js';

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

function toStoredEvaluation(row: StoredEvaluationRow): StoredEvaluation {
  const what = `evaluation ${row.id}`;
  return {
    id: row.id,
    cluster_id: row.cluster_id,
    workflow_id: row.workflow_id,
    cycle: Number(row.cycle),
    observed_at: iso(row.observed_at),
    interval_ms: row.interval_ms === null ? null : Number(row.interval_ms),
    evaluation: checkStored(EvaluationSchema, parseJson(row.evaluation, what), what),
    signal_values: checkStored(SignalValuesSchema, parseJson(row.signal_values, what), what),
    // NULL only while migration 19 has not reached the row: no status was kept, none is invented.
    signal_status:
      row.signal_status === null
        ? {}
        : checkStored(SignalStatusMapSchema, parseJson(row.signal_status, what), what),
  };
}

const EVALUATION_SELECT =
  'id, cluster_id, workflow_id, cycle, interval_ms, observed_at, evaluation, signal_values, signal_status';

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
  const rows = await sql<StoredEvaluationRow[]>`
    SELECT ${sql.unsafe(EVALUATION_SELECT)}
    FROM evaluations WHERE cluster_id = ${id}
    ORDER BY observed_at DESC LIMIT 1`;
  return rows[0] === undefined ? null : toStoredEvaluation(rows[0]);
}

/** One stored evaluation by id, or null. */
export async function evaluationById(sql: Sql, id: string): Promise<StoredEvaluation | null> {
  const evaluationId = parseInput(z.uuid(), id, 'evaluation id');
  const rows = await sql<StoredEvaluationRow[]>`
    SELECT ${sql.unsafe(EVALUATION_SELECT)} FROM evaluations WHERE id = ${evaluationId}`;
  return rows[0] === undefined ? null : toStoredEvaluation(rows[0]);
}

function toAssessment(row: AssessmentRow): Assessment {
  const what = `assessment ${row.id}`;
  // Columns added by migrations 20–26 are NULL on older rows: those read as the defaults.
  return checkStored(
    AssessmentSchema,
    {
      ...row,
      created_at: iso(row.created_at),
      llm_calls: row.llm_calls ?? 0,
      cache_read_tokens: Number(row.cache_read_tokens ?? 0),
      cache_write_tokens: Number(row.cache_write_tokens ?? 0),
      details: row.details === null ? undefined : parseJson(row.details, what),
    },
    what,
  );
}

const ASSESSMENT_SELECT =
  'id, cluster_id, evaluation_id, created_at, trigger, health_state, summary, confidence, ' +
  'explainer, model_id, input_tokens, output_tokens, issue_count, llm_calls, cache_read_tokens, ' +
  'cache_write_tokens, latency_ms, fallback_reason, reason, details';

/** The newest assessment of a cluster, or null before the first one. Index-backed. */
export async function latestAssessment(sql: Sql, clusterId: string): Promise<Assessment | null> {
  const id = parseInput(ClusterIdSchema, clusterId, 'cluster id');
  const rows = await sql<AssessmentRow[]>`
    SELECT ${sql.unsafe(ASSESSMENT_SELECT)}
    FROM assessments WHERE cluster_id = ${id}
    ORDER BY created_at DESC LIMIT 1`;
  return rows[0] === undefined ? null : toAssessment(rows[0]);
}

/**
 * The explainer usage of a cluster's assessments explaining instants in `[since, now)`: one pass
 * over `(cluster_id, created_at)`. Assessments are dated by the instant they explain, which is
 * when they were written give or take a cycle.
 */
export async function explainerUsageSince(
  sql: Sql,
  clusterId: string,
  since: Date | string | number,
): Promise<ExplainerUsage> {
  const id = parseInput(ClusterIdSchema, clusterId, 'cluster id');
  const from = toDate(since, 'since');
  const [row] = await sql<Record<string, string | number | null>[]>`
    SELECT count(*) AS assessments,
      count(*) FILTER (WHERE explainer = 'bedrock') AS bedrock,
      coalesce(sum(llm_calls), 0) AS llm_calls,
      coalesce(sum(input_tokens), 0) AS input_tokens,
      coalesce(sum(output_tokens), 0) AS output_tokens,
      coalesce(sum(cache_read_tokens), 0) AS cache_read_tokens,
      coalesce(sum(cache_write_tokens), 0) AS cache_write_tokens
    FROM assessments WHERE cluster_id = ${id} AND created_at >= ${from}`;
  const n = (k: string) => Number(row?.[k] ?? 0);
  return {
    assessments: n('assessments'),
    bedrock: n('bedrock'),
    llmCalls: n('llm_calls'),
    inputTokens: n('input_tokens'),
    outputTokens: n('output_tokens'),
    cacheReadTokens: n('cache_read_tokens'),
    cacheWriteTokens: n('cache_write_tokens'),
  };
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

/** The most cycles (or buckets) one timeline read returns: ~300 bytes each as JSON, ~3 MB. */
export const MAX_TIMELINE_POINTS = 10_000;
/** The most points one sparkline read returns over all its signals: ~140 bytes each, ~2.8 MB. */
export const MAX_SERIES_POINTS = 20_000;
/** The smallest downsampling step: finer than the fastest cadence is no downsampling at all. */
export const MIN_STEP_MS = 1_000;

/** Steps a downsampled read picks from: round numbers a person reads at a glance. */
const NICE_STEPS_MS = [
  1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200, 86_400,
].map((s) => s * 1000);

/** The smallest round step that fits `[from, to)` in `points` buckets. */
export function stepFor(from: number, to: number, points: number): number {
  const needed = Math.ceil((to - from) / points);
  return NICE_STEPS_MS.find((s) => s >= needed) ?? Math.ceil(needed / 86_400_000) * 86_400_000;
}

/** How a bounded read went: whether it cut, and at what resolution. */
export interface ReadBounds {
  /** True when the range held more than the limit: the oldest points were left out. */
  readonly truncated: boolean;
  /** The bucket width when the read was downsampled, else null (one point per stored cycle). */
  readonly stepMs: number | null;
}

/** What a bounded read returned: the newest points of the range, oldest first. */
export interface BoundedRead<T> extends ReadBounds {
  readonly points: T[];
}

/** Options of {@link evaluationTimeline}. */
export interface TimelineOptions {
  readonly clusterId: string;
  readonly from: Date | string | number;
  readonly to: Date | string | number;
  /** Only the cycles where the state changed (never downsampled: changes are sparse). */
  readonly changesOnly?: boolean;
  /** 1..10,000, default 5,000 (a day at 30 s is 2,880 rows). */
  readonly limit?: number;
  /**
   * Bucket width: one row per bucket, the most severe cycle in it. Without one, a range holding
   * more cycles than `limit` is downsampled to the smallest round step that fits it.
   */
  readonly stepMs?: number;
}

function toStep(stepMs: number | undefined): number | undefined {
  if (stepMs === undefined) return undefined;
  if (!Number.isInteger(stepMs) || stepMs < MIN_STEP_MS || stepMs > 366 * 86_400_000)
    throw new StoreInputError(
      `step must be whole milliseconds from ${MIN_STEP_MS} to a year, got ${stepMs}`,
    );
  return stepMs;
}

function toTimelineEntry(r: TimelineRow): TimelineEntry {
  // Rows were validated on the way in; check only the enum columns here (cheap set lookups)
  // rather than running the full schema on every row.
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
    samples: Number(r.samples),
  } as TimelineEntry;
}

/** Newest-first rows (one more than `limit` when there are more) → oldest-first, and the cut. */
function newest<T>(rows: readonly T[], limit: number): { points: T[]; truncated: boolean } {
  return { points: rows.slice(0, limit).reverse(), truncated: rows.length > limit };
}

/**
 * The evaluations of a cluster in `[from, to)` without their payload, oldest first: every cycle,
 * only the state changes, or one row per `step` bucket (its most severe cycle — critical, then
 * unknown, then stressed — so an incident inside a bucket is never averaged away; `changed` says
 * whether the state changed anywhere in the bucket). Always the **newest** points of the range:
 * when more than `limit` exist the oldest are left out and `truncated` says so. Both reads walk
 * `(cluster_id, observed_at)` (or `(cluster_id, changed, observed_at)`) backwards.
 */
export async function evaluationTimeline(
  sql: Sql,
  options: TimelineOptions,
): Promise<BoundedRead<TimelineEntry>> {
  const id = parseInput(ClusterIdSchema, options.clusterId, 'cluster id');
  const { from, to } = toRange(options.from, options.to);
  const limit = toLimit(options.limit, 5_000, MAX_TIMELINE_POINTS);
  const changesOnly = options.changesOnly === true;
  const step = changesOnly ? undefined : toStep(options.stepMs);
  if (step === undefined) {
    const rows = await sql<TimelineRow[]>`
      SELECT id, observed_at, state, previous_state, changed, reason, scale_band, bottleneck,
        1 AS samples
      FROM evaluations
      WHERE cluster_id = ${id} ${changesOnly ? sql`AND changed = true` : sql``}
        AND observed_at >= ${from} AND observed_at < ${to}
      ORDER BY observed_at DESC LIMIT ${limit + 1}`;
    if (rows.length <= limit || changesOnly || options.stepMs !== undefined) {
      const { points, truncated } = newest(rows, limit);
      return { points: points.map(toTimelineEntry), truncated, stepMs: null };
    }
  }
  const stepMs = step ?? stepFor(from.getTime(), to.getTime(), limit);
  const rows = await sql<TimelineRow[]>`
    SELECT DISTINCT ON (b) id, observed_at, state, previous_state, changed_in_bucket AS changed,
      reason, scale_band, bottleneck, samples
    FROM (
      SELECT id, observed_at, state, previous_state, reason, scale_band, bottleneck,
        floor(extract(epoch FROM observed_at) * 1000 / ${stepMs}) AS b,
        CASE state WHEN 'critical' THEN 3 WHEN 'unknown' THEN 2 WHEN 'stressed' THEN 1 ELSE 0 END
          AS severity,
        count(*) OVER w AS samples,
        bool_or(changed) OVER w AS changed_in_bucket
      FROM evaluations
      WHERE cluster_id = ${id} AND observed_at >= ${from} AND observed_at < ${to}
      WINDOW w AS (PARTITION BY floor(extract(epoch FROM observed_at) * 1000 / ${stepMs}))
    ) bucketed
    ORDER BY b DESC, severity DESC, observed_at DESC
    LIMIT ${limit + 1}`;
  const { points, truncated } = newest(rows, limit);
  return { points: points.map(toTimelineEntry), truncated, stepMs };
}

/** The most signals one sparkline read may ask for. */
export const MAX_SERIES_SIGNALS = 12;

/** Options of {@link signalSeries}. */
export interface SeriesOptions {
  readonly clusterId: string;
  readonly signalIds: readonly string[];
  readonly from: Date | string | number;
  readonly to: Date | string | number;
  /**
   * Points per signal, 1..5,000 (default 2,880: a day at 30 s), and never more than
   * {@link MAX_SERIES_POINTS} over all signals: with 12 signals at most 1,666 each.
   */
  readonly limit?: number;
  /** Bucket width; without one a range with more cycles than the limit is downsampled. */
  readonly stepMs?: number;
}

interface SeriesRow {
  observed_at: Date;
  signal_values: string;
  signal_status: string | null;
}

function statusIn(
  id: string,
  values: Record<string, unknown>,
  status: Record<string, unknown>,
): SeriesPoint['status'] {
  if (typeof values[id] === 'number') return 'ok';
  const s = status[id];
  return s === 'error' || s === 'stale' ? s : 'absent';
}

/**
 * Sparkline series: for each signal id, one point per stored cycle in `[from, to)` (or per `step`
 * bucket), oldest first, read from what each evaluation stored (no recomputation). A cycle where
 * the signal had no usable number gives `value: null` and the status stored with it — `error`
 * for a failed query, never re-inferred and never 0. Always the **newest** points of the range;
 * `truncated` says when older ones were left out.
 */
export async function signalSeries(
  sql: Sql,
  options: SeriesOptions,
): Promise<ReadBounds & { series: Record<string, SeriesPoint[]> }> {
  const id = parseInput(ClusterIdSchema, options.clusterId, 'cluster id');
  const ids = parseInput(
    z.array(z.string().min(1).max(200)).min(1).max(MAX_SERIES_SIGNALS),
    options.signalIds,
    'signal ids',
  );
  const { from, to } = toRange(options.from, options.to);
  const asked = toLimit(options.limit, 2_880, 5_000);
  const limit = Math.min(asked, Math.floor(MAX_SERIES_POINTS / ids.length));
  const step = toStep(options.stepMs);
  const series: Record<string, SeriesPoint[]> = {};
  for (const signal of ids) series[signal] = [];
  if (step === undefined) {
    // The stored values are parsed here rather than in SQL: PostgreSQL's per-row jsonb conversion
    // measured about twice the cost of shipping the text and running JSON.parse (bench/store).
    const rows = await sql<SeriesRow[]>`
      SELECT observed_at, signal_values, signal_status
      FROM evaluations
      WHERE cluster_id = ${id} AND observed_at >= ${from} AND observed_at < ${to}
      ORDER BY observed_at DESC LIMIT ${limit + 1}`;
    if (rows.length <= limit || options.stepMs !== undefined) {
      const { points, truncated } = newest(rows, limit);
      for (const row of points) {
        const t = iso(row.observed_at);
        const values = parseJson(row.signal_values, 'signal values') as Record<string, unknown>;
        const status = (
          row.signal_status === null ? {} : parseJson(row.signal_status, 'signal status')
        ) as Record<string, unknown>;
        for (const signal of ids) {
          const v = values[signal];
          const value = typeof v === 'number' ? v : null;
          series[signal]?.push({
            t,
            value,
            status: statusIn(signal, values, status),
            min: value,
            max: value,
            samples: 1,
          });
        }
      }
      return { truncated: truncated || limit < asked, stepMs: null, series };
    }
  }
  const stepMs = step ?? stepFor(from.getTime(), to.getTime(), limit);
  // Aggregated per bucket in the database, so a month of cycles never crosses the wire. Each row's
  // values are converted to jsonb once, inside a sub-select fenced with OFFSET 0: flattened, the
  // planner repeats the conversion and the extraction in every aggregate (a month of 3 signals
  // took 14 s; fenced, ~0.9 s, and 12 signals ~1.2 s on this machine). Stored values are numbers
  // by construction. The status text, a few bytes, is read only for cycles without a number.
  const value = (i: number) => sql(`v${i}`);
  const missingAs = (i: number, status: string) =>
    sql`bool_or(${value(i)} IS NULL AND signal_status::json ->> ${ids[i] as string} = ${status})`;
  const columns = ids.map(
    (_signal, i) => sql`
      avg(${value(i)}) AS ${sql(`mean${i}`)}, min(${value(i)}) AS ${sql(`min${i}`)},
      max(${value(i)}) AS ${sql(`max${i}`)}, count(${value(i)}) AS ${sql(`n${i}`)},
      ${missingAs(i, 'error')} AS ${sql(`err${i}`)}, ${missingAs(i, 'stale')} AS ${sql(`stale${i}`)}`,
  );
  const extracts = ids.map((signal, i) => sql`(j ->> ${signal})::float8 AS ${value(i)}`);
  const join = (parts: readonly PendingQuery<Row[]>[]) =>
    parts.reduce((acc, part, i) => (i === 0 ? part : sql`${acc}, ${part}`));
  const rows = await sql<Record<string, unknown>[]>`
    SELECT b, count(*) AS samples, ${join(columns)}
    FROM (
      SELECT b, signal_status, ${join(extracts)} FROM (
        SELECT floor(extract(epoch FROM observed_at) * 1000 / ${stepMs}) AS b, signal_status,
          signal_values::jsonb AS j
        FROM evaluations
        WHERE cluster_id = ${id} AND observed_at >= ${from} AND observed_at < ${to}
        OFFSET 0
      ) parsed
      -- A fence: flattened, each aggregate would extract its value again (six times a signal).
      OFFSET 0
    ) cycles
    GROUP BY b ORDER BY b DESC LIMIT ${limit + 1}`;
  const { points, truncated } = newest(rows, limit);
  const num = (x: unknown): number | null => (x === null || x === undefined ? null : Number(x));
  for (const row of points) {
    const t = iso(new Date(Number(row.b) * stepMs));
    ids.forEach((signal, i) => {
      const n = Number(row[`n${i}`]);
      const status: SeriesPoint['status'] =
        n > 0
          ? 'ok'
          : row[`err${i}`] === true
            ? 'error'
            : row[`stale${i}`] === true
              ? 'stale'
              : 'absent';
      series[signal]?.push({
        t,
        value: n > 0 ? num(row[`mean${i}`]) : null,
        status,
        min: n > 0 ? num(row[`min${i}`]) : null,
        max: n > 0 ? num(row[`max${i}`]) : null,
        samples: Number(row.samples),
      });
    });
  }
  return { truncated: truncated || limit < asked, stepMs, series };
}

/**
 * Every watched cluster (up to 1,000, by name) with its newest evaluation's time, state and
 * cadence: one primary-key scan plus one backwards index step per cluster.
 */
export async function listClustersWithLatest(sql: Sql): Promise<ClusterLatest[]> {
  const rows = await sql<
    (ClusterRow & {
      observed_at: Date | null;
      state: string | null;
      reason: string | null;
      interval_ms: string | number | null;
    })[]
  >`
    SELECT c.id, c.name, c.created_at, e.observed_at, e.state, e.reason, e.interval_ms
    FROM clusters c LEFT JOIN LATERAL (
      SELECT observed_at, state, reason, interval_ms FROM evaluations
      WHERE cluster_id = c.id ORDER BY observed_at DESC LIMIT 1
    ) e ON true
    ORDER BY c.name LIMIT ${MAX_CLUSTERS}`;
  return rows.map((r) => {
    if (r.observed_at === null || r.state === null || r.reason === null)
      return { ...toCluster(r), latest: null };
    if (!STATES.has(r.state) || !REASONS.has(r.reason))
      throw new StoreError(
        `stored evaluation of cluster ${r.id} does not match the current schema`,
      );
    return {
      ...toCluster(r),
      latest: {
        observed_at: iso(r.observed_at),
        state: r.state as StoredEvaluation['evaluation']['state'],
        reason: r.reason as StoredEvaluation['evaluation']['reason'],
        interval_ms: r.interval_ms === null ? null : Number(r.interval_ms),
      },
    };
  });
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
  const rows = await sql<LogPatternDbRow[]>`
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
