import { performance } from 'node:perf_hooks';
import { openStore, type Store, type StoreTarget } from './connection.js';
import {
  MIGRATIONS_TABLE,
  type MigrationReport,
  runMigrations,
  STORE_TABLES,
} from './migrations.js';

/** What `copilot db check-connection` reports. */
export interface ConnectionCheck {
  readonly dialect: Store['dialect'];
  readonly target: string;
  readonly serverVersion: string;
  readonly user: string;
  readonly database: string;
  /** Round trip of one `SELECT`, after the connection is open. */
  readonly roundTripMs: number;
  /** Highest applied migration, or null when the schema was never set up. */
  readonly schemaVersion: number | null;
}

async function tableExists(store: Store, name: string): Promise<boolean> {
  const rows = await store.sql`
    SELECT 1 FROM information_schema.tables
    WHERE table_schema = current_schema() AND table_name = ${name}`;
  return rows.length > 0;
}

/** Connects, runs one query and reads the schema version. Throws on any failure. */
export async function checkConnection(store: Store): Promise<ConnectionCheck> {
  const [info] = await store.sql<{ version: string; user: string; database: string }[]>`
    SELECT version() AS version, current_user AS user, current_database() AS database`;
  const started = performance.now();
  await store.sql`SELECT 1`;
  const roundTripMs = performance.now() - started;
  let schemaVersion: number | null = null;
  if (await tableExists(store, MIGRATIONS_TABLE)) {
    const [row] = await store.sql<{ v: number | null }[]>`
      SELECT max(version) AS v FROM schema_migrations`;
    schemaVersion = row?.v ?? null;
  }
  return {
    dialect: store.dialect,
    target: store.target,
    serverVersion: info?.version ?? 'unknown',
    user: info?.user ?? 'unknown',
    database: info?.database ?? 'unknown',
    roundTripMs,
    schemaVersion,
  };
}

/** One row of `copilot db list-tables`. */
export interface TableCount {
  readonly table: string;
  readonly exists: boolean;
  /** Rows counted, capped at `cap` when the count is bounded. */
  readonly rows: number | null;
  /** False when the count stopped at the cap (the table holds at least `rows`). */
  readonly exact: boolean;
}

/**
 * The store's tables with their row counts. On DSQL a full `COUNT(*)` over a large table can hit
 * the 5-minute transaction limit, so counting stops at `cap` rows there (a bounded count, marked
 * inexact); PostgreSQL and PGlite count exactly unless a cap is given.
 */
export async function listTables(
  store: Store,
  options: { readonly cap?: number } = {},
): Promise<TableCount[]> {
  const cap = options.cap ?? (store.dialect === 'dsql' ? 100_000 : undefined);
  const result: TableCount[] = [];
  for (const table of [MIGRATIONS_TABLE, ...STORE_TABLES]) {
    if (!(await tableExists(store, table))) {
      result.push({ table, exists: false, rows: null, exact: true });
      continue;
    }
    if (cap === undefined) {
      const [row] = await store.sql<{ n: string }[]>`SELECT count(*) AS n FROM ${store.sql(table)}`;
      result.push({ table, exists: true, rows: Number(row?.n ?? 0), exact: true });
    } else {
      const [row] = await store.sql<{ n: string }[]>`
        SELECT count(*) AS n FROM (SELECT 1 FROM ${store.sql(table)} LIMIT ${cap + 1}) AS bounded`;
      const n = Number(row?.n ?? 0);
      result.push({ table, exists: true, rows: Math.min(n, cap), exact: n <= cap });
    }
  }
  return result;
}

/**
 * Opens the target, brings its schema up to date and closes it: the one call a deploy step (the
 * CDK schema custom resource's Lambda) needs. Idempotent; safe to run on every deploy.
 *
 * @example await setupSchema({ dialect: 'dsql', endpoint: process.env.COPILOT_DSQL_ENDPOINT ?? '' })
 */
export async function setupSchema(target: StoreTarget): Promise<MigrationReport> {
  const store = await openStore({ ...target, max: 1 });
  try {
    return await runMigrations(store.sql, store.dialect);
  } finally {
    await store.close();
  }
}
