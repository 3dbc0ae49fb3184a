import { createHash } from 'node:crypto';
import type { Sql } from 'postgres';
import { backfillSignalStatus } from './backfill.js';
import { describeError, errorCode, MigrationError } from './errors.js';
import { isRetryableError, type RetryOptions, withRetry } from './retry.js';

/** The three databases the store runs on. One code path; DDL differs only where it must. */
export const DIALECTS = ['dsql', 'postgres', 'pglite'] as const;
export type Dialect = (typeof DIALECTS)[number];

/** One schema change: exactly one DDL statement, so DSQL's one-DDL-per-transaction rule holds. */
export interface DdlMigration {
  readonly version: number;
  readonly name: string;
  readonly statement: (dialect: Dialect) => string;
  readonly data?: undefined;
}

/**
 * A change to existing rows (DSQL forbids DML beside DDL, so it is a migration of its own). Runs
 * after the DDL before it, in bounded batches, each its own transaction; it must be idempotent and
 * resumable (a crash mid-way is finished by the next run), since the record is written only when
 * it completes. `describe` is what its checksum covers: change it when the behaviour changes.
 */
export interface DataMigration {
  readonly version: number;
  readonly name: string;
  readonly describe: string;
  readonly data: (sql: Sql, retry: RetryOptions) => Promise<number>;
  readonly statement?: undefined;
}

export type Migration = DdlMigration | DataMigration;

/** The table that records applied migrations. */
export const MIGRATIONS_TABLE = 'schema_migrations';

/** The tables the store owns, in creation order. */
export const STORE_TABLES = [
  'clusters',
  'evaluations',
  'assessments',
  'issues',
  'log_patterns',
] as const;

const table = (sql: string) => () => sql;

/**
 * A nullable column added to an existing table. DSQL's ADD COLUMN takes no DEFAULT and no
 * constraint (NOT NULL, CHECK, …), so new columns are nullable and readers treat NULL as
 * "written before this column existed".
 */
const addColumn = (on: string, column: string, type: string) => () =>
  `ALTER TABLE ${on} ADD COLUMN IF NOT EXISTS ${column} ${type}`;

/**
 * `CREATE INDEX ASYNC` on DSQL (the only form it has: the build runs as a background job and does
 * not block writers), plain `CREATE INDEX` elsewhere (PostgreSQL and PGlite reject ASYNC with
 * 42601). No ASC/DESC: DSQL refuses them and a B-tree scans backwards anyway.
 */
const index = (name: string, on: string, columns: string) => (dialect: Dialect) =>
  `CREATE INDEX${dialect === 'dsql' ? ' ASYNC' : ''} IF NOT EXISTS ${name} ON ${on} (${columns})`;

/**
 * The schema, as an append-only list. Never edit an applied migration (its checksum is recorded
 * and checked); add a new one. DSQL rules: UUID keys, no foreign keys (relations are enforced in
 * code), JSON kept in TEXT columns (no jsonb column type on DSQL; casts at query time are fine),
 * no SERIAL, no ASC/DESC in indexes.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create clusters',
    statement: table(`CREATE TABLE IF NOT EXISTS clusters (
  id UUID PRIMARY KEY,
  name TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL
)`),
  },
  {
    version: 2,
    name: 'create evaluations',
    statement: table(`CREATE TABLE IF NOT EXISTS evaluations (
  id UUID PRIMARY KEY,
  cluster_id UUID NOT NULL,
  workflow_id TEXT NOT NULL,
  cycle BIGINT NOT NULL,
  observed_at TIMESTAMPTZ NOT NULL,
  state TEXT NOT NULL,
  previous_state TEXT,
  changed BOOLEAN NOT NULL,
  reason TEXT NOT NULL,
  scale_band TEXT NOT NULL,
  bottleneck TEXT NOT NULL,
  evaluation TEXT NOT NULL,
  signal_values TEXT NOT NULL,
  recorded_at TIMESTAMPTZ NOT NULL DEFAULT now()
)`),
  },
  {
    version: 3,
    name: 'index evaluations by cluster and time',
    statement: index('evaluations_cluster_observed_idx', 'evaluations', 'cluster_id, observed_at'),
  },
  {
    version: 4,
    name: 'index evaluation state changes',
    statement: index(
      'evaluations_cluster_changed_observed_idx',
      'evaluations',
      'cluster_id, changed, observed_at',
    ),
  },
  {
    version: 5,
    name: 'index evaluations by time for retention',
    statement: index('evaluations_observed_idx', 'evaluations', 'observed_at'),
  },
  {
    version: 6,
    name: 'create assessments',
    statement: table(`CREATE TABLE IF NOT EXISTS assessments (
  id UUID PRIMARY KEY,
  cluster_id UUID NOT NULL,
  evaluation_id UUID,
  created_at TIMESTAMPTZ NOT NULL,
  trigger TEXT NOT NULL,
  health_state TEXT NOT NULL,
  summary TEXT NOT NULL,
  confidence DOUBLE PRECISION NOT NULL,
  explainer TEXT NOT NULL,
  model_id TEXT,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  issue_count INTEGER NOT NULL,
  recorded_at TIMESTAMPTZ NOT NULL DEFAULT now()
)`),
  },
  {
    version: 7,
    name: 'index assessments by cluster and time',
    statement: index('assessments_cluster_created_idx', 'assessments', 'cluster_id, created_at'),
  },
  {
    version: 8,
    name: 'create issues',
    statement: table(`CREATE TABLE IF NOT EXISTS issues (
  id UUID PRIMARY KEY,
  cluster_id UUID NOT NULL,
  assessment_id UUID NOT NULL,
  issue_key TEXT NOT NULL,
  severity TEXT NOT NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  likely_cause TEXT NOT NULL,
  contributing_factors TEXT NOT NULL,
  suggested_actions TEXT NOT NULL,
  related_signals TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  resolved_at TIMESTAMPTZ
)`),
  },
  {
    version: 9,
    name: 'index issues by assessment',
    statement: index('issues_assessment_severity_idx', 'issues', 'assessment_id, severity'),
  },
  {
    version: 10,
    name: 'index open issues by cluster',
    statement: index('issues_cluster_resolved_idx', 'issues', 'cluster_id, resolved_at'),
  },
  {
    version: 11,
    name: 'create log patterns',
    statement: table(`CREATE TABLE IF NOT EXISTS log_patterns (
  id UUID PRIMARY KEY,
  cluster_id UUID NOT NULL,
  observed_at TIMESTAMPTZ NOT NULL,
  pattern_id TEXT NOT NULL,
  service TEXT NOT NULL,
  count BIGINT NOT NULL,
  count_is_lower_bound BOOLEAN NOT NULL,
  sample TEXT
)`),
  },
  {
    version: 12,
    name: 'index log patterns by cluster and time',
    statement: index(
      'log_patterns_cluster_observed_idx',
      'log_patterns',
      'cluster_id, observed_at',
    ),
  },
  {
    version: 13,
    name: 'index log patterns by time for retention',
    statement: index('log_patterns_observed_idx', 'log_patterns', 'observed_at'),
  },
  {
    version: 14,
    name: 'evaluations: the observer cadence, for staleness',
    statement: addColumn('evaluations', 'interval_ms', 'BIGINT'),
  },
  {
    version: 15,
    name: 'evaluations: each signal status as observed',
    statement: addColumn('evaluations', 'signal_status', 'TEXT'),
  },
  {
    version: 16,
    name: 'evaluations: the workflow run that wrote the row',
    statement: addColumn('evaluations', 'run_id', 'TEXT'),
  },
  {
    version: 17,
    name: 'index assessments by time for retention',
    statement: index('assessments_created_idx', 'assessments', 'created_at'),
  },
  {
    version: 18,
    name: 'index issues by time for retention',
    statement: index('issues_created_idx', 'issues', 'created_at'),
  },
  {
    version: 19,
    name: 'evaluations: signal status of rows written before version 15',
    // The text is part of the checksum of an applied migration: it stays as first applied. (What
    // it calls `absent` is left implicit by the backfill today; readers treat both alike.)
    describe:
      'for each evaluation with signal_status NULL, in (observed_at, id) order by 500: the status ' +
      'of every catalog signal without a stored number, from the gates that read it (error or ' +
      'stale), else absent',
    data: backfillSignalStatus,
  },
  {
    version: 20,
    name: 'assessments: language-model calls behind the words',
    statement: addColumn('assessments', 'llm_calls', 'INTEGER'),
  },
  {
    version: 21,
    name: 'assessments: prompt tokens read from the cache',
    statement: addColumn('assessments', 'cache_read_tokens', 'BIGINT'),
  },
  {
    version: 22,
    name: 'assessments: prompt tokens written to the cache',
    statement: addColumn('assessments', 'cache_write_tokens', 'BIGINT'),
  },
  {
    version: 23,
    name: 'assessments: time the explainer took',
    statement: addColumn('assessments', 'latency_ms', 'INTEGER'),
  },
  {
    version: 24,
    name: 'assessments: why the rule-based explainer answered instead of Bedrock',
    statement: addColumn('assessments', 'fallback_reason', 'TEXT'),
  },
  {
    version: 25,
    name: "assessments: the engine's reason the words explain",
    statement: addColumn('assessments', 'reason', 'TEXT'),
  },
  {
    version: 26,
    name: 'assessments: runbook sources, service narratives and what grounding dropped',
    statement: addColumn('assessments', 'details', 'TEXT'),
  },
];

/** The DDL that creates the migrations table itself (run before anything else). */
export const MIGRATIONS_TABLE_DDL = `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  checksum TEXT NOT NULL,
  applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)`;

/** Every DDL statement the migrations run on a dialect, in order (for review and linting). */
export function migrationStatements(dialect: Dialect): string[] {
  return [
    MIGRATIONS_TABLE_DDL,
    ...MIGRATIONS.flatMap((m) => (m.statement === undefined ? [] : [m.statement(dialect)])),
  ];
}

/** SHA-256 of a migration's statement (or a data migration's description), so an edit is caught. */
export function migrationChecksum(migration: Migration, dialect: Dialect): string {
  const text =
    migration.statement === undefined
      ? `data: ${migration.describe}`
      : migration.statement(dialect);
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/**
 * Problems that would stop a statement running on Aurora DSQL, or break our own rules. Returns
 * an empty list for a clean statement. Used by the test suite on every migration.
 */
export function lintDsqlStatement(statement: string, dialect: Dialect): string[] {
  const problems: string[] = [];
  const text = statement.replace(/--.*$/gm, '');
  const upper = text.toUpperCase();
  const body = text.trim().replace(/;\s*$/, '');
  if (body.includes(';')) problems.push('more than one statement');
  if (/\bREFERENCES\b|\bFOREIGN\s+KEY\b/.test(upper)) problems.push('foreign key');
  if (/\bJSONB\b/.test(upper)) problems.push('jsonb column');
  if (/\b(SMALL|BIG)?SERIAL\b/.test(upper)) problems.push('SERIAL column');
  if (
    /^\s*(CREATE\s+(OR\s+REPLACE\s+)?(TRIGGER|EXTENSION|TEMP|TEMPORARY|MATERIALIZED|TYPE)\b|TRUNCATE\b)/.test(
      upper,
    ) ||
    /\bPARTITION\s+BY\b|\bINHERITS\s*\(/.test(upper)
  )
    problems.push('feature DSQL lacks');
  if (/\b(ASC|DESC)\b/.test(upper) && /\bINDEX\b/.test(upper))
    problems.push('ASC/DESC in an index');
  if (/^\s*(INSERT|UPDATE|DELETE)\b/i.test(text)) problems.push('DML mixed into a migration');
  if (/^\s*CREATE\s+(UNIQUE\s+)?INDEX\b/i.test(text)) {
    const async = /\bINDEX\s+ASYNC\b/i.test(text);
    if (dialect === 'dsql' && !async) problems.push('index without ASYNC on DSQL');
    if (dialect !== 'dsql' && async) problems.push(`ASYNC index on ${dialect}`);
  }
  if (/^\s*CREATE\s+(TABLE|INDEX)\b/i.test(text) && !/\bIF\s+NOT\s+EXISTS\b/i.test(text))
    problems.push('not idempotent (no IF NOT EXISTS)');
  if (/^\s*ALTER\s+TABLE\b/i.test(text)) {
    if (!/\bADD\s+COLUMN\s+IF\s+NOT\s+EXISTS\b/i.test(text))
      problems.push('ALTER TABLE other than ADD COLUMN IF NOT EXISTS');
    if (/\bDEFAULT\b|\bNOT\s+NULL\b|\bCHECK\b|\bUNIQUE\b|\bPRIMARY\s+KEY\b/i.test(text))
      problems.push('ADD COLUMN with a default or constraint');
  }
  return problems;
}

/** What {@link runMigrations} did. */
export interface MigrationReport {
  readonly dialect: Dialect;
  readonly applied: readonly number[];
  readonly alreadyApplied: readonly number[];
}

/**
 * Retry DDL also when a concurrent migrator created the same object a moment earlier: PostgreSQL
 * can report that as 23505 (pg_type) or 42P07/42710 even with IF NOT EXISTS. The retry then sees
 * the object and does nothing.
 */
const isRetryableDdlError = (error: unknown): boolean => {
  const code = errorCode(error);
  return isRetryableError(error) || code === '23505' || code === '42P07' || code === '42710';
};

async function runDdl(sql: Sql, statement: string, retry: RetryOptions): Promise<void> {
  const rows = await withRetry(
    // One DDL per transaction, nothing else in it (DSQL).
    () => sql.begin((tx) => tx.unsafe(statement)),
    { ...retry, isRetryable: isRetryableDdlError },
  );
  // DSQL answers CREATE INDEX ASYNC with a job id; wait for the build so the next deploy step
  // (and the first read) has the index. Outside any transaction, as DSQL requires.
  const jobId = (rows as unknown as Array<{ job_id?: unknown }>)[0]?.job_id;
  if (typeof jobId === 'string' && jobId.length > 0) {
    const [result] = await sql`SELECT sys.wait_for_job(${jobId}) AS ok`;
    if (result?.ok !== true) throw new MigrationError(`index build job ${jobId} failed`);
  }
}

/**
 * Brings the schema up to date: creates the migrations table, then applies each migration not yet
 * recorded, each DDL in its own transaction and its record in a separate one (DSQL forbids mixing
 * DDL and DML). Idempotent and safe to run concurrently: every DDL is `IF NOT EXISTS` and the
 * record is `ON CONFLICT DO NOTHING`, so a crash between the two is healed by the next run.
 * This is also what the CDK schema custom resource calls on deploy.
 *
 * @throws MigrationError when an applied migration's checksum no longer matches the code.
 */
export async function runMigrations(
  sql: Sql,
  dialect: Dialect,
  retry: RetryOptions = {},
): Promise<MigrationReport> {
  if (!DIALECTS.includes(dialect)) throw new MigrationError(`unknown dialect: ${String(dialect)}`);
  // Only when missing: even `CREATE TABLE IF NOT EXISTS` needs CREATE on the schema, and the
  // worker, logged in as `copilot_worker` (no DDL rights), runs this on an up-to-date schema.
  const [bootstrapped] = await sql`
    SELECT 1 AS found FROM information_schema.tables
    WHERE table_schema = current_schema() AND table_name = ${MIGRATIONS_TABLE}`;
  if (bootstrapped === undefined) await runDdl(sql, MIGRATIONS_TABLE_DDL, retry);
  const recorded = await sql<{ version: number; checksum: string }[]>`
    SELECT version, checksum FROM schema_migrations`;
  const checksums = new Map(recorded.map((r) => [r.version, r.checksum]));
  const applied: number[] = [];
  const alreadyApplied: number[] = [];
  for (const migration of MIGRATIONS) {
    const checksum = migrationChecksum(migration, dialect);
    const known = checksums.get(migration.version);
    if (known !== undefined) {
      if (known !== checksum)
        throw new MigrationError(
          `migration ${migration.version} (${migration.name}) was changed after it was applied: ` +
            `recorded checksum ${known}, code has ${checksum}; add a new migration instead`,
        );
      alreadyApplied.push(migration.version);
      continue;
    }
    try {
      if (migration.data !== undefined) await migration.data(sql, retry);
      else await runDdl(sql, migration.statement(dialect), retry);
    } catch (error) {
      throw new MigrationError(
        `migration ${migration.version} (${migration.name}) failed: ${describeError(error)}`,
        { cause: error },
      );
    }
    await withRetry(
      () =>
        sql.begin(
          (tx) => tx`
            INSERT INTO schema_migrations (version, name, checksum)
            VALUES (${migration.version}, ${migration.name}, ${checksum})
            ON CONFLICT (version) DO NOTHING`,
        ),
      retry,
    );
    applied.push(migration.version);
  }
  return { dialect, applied, alreadyApplied };
}

/** The latest migration version in the code. */
export const LATEST_SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));
