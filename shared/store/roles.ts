import type { Sql } from 'postgres';
import { StoreConfigError } from './errors.js';
import { type Dialect, MIGRATIONS_TABLE, STORE_TABLES } from './migrations.js';
import { type RetryOptions, withRetry } from './retry.js';

/**
 * The database roles the copilot's processes log in as. Neither is `admin` (DSQL) or a superuser:
 * the worker reads and writes the copilot's tables, the API only reads them. Schema changes are
 * made by whoever runs the migrations (`copilot db setup-schema`, the CDK schema custom resource),
 * connected as the owner/`admin`.
 */
export const COPILOT_ROLES = {
  worker: {
    name: 'copilot_worker',
    /** Evaluations, assessments and log patterns are written; issues resolved; retention deletes. */
    privileges: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  },
  api: {
    name: 'copilot_api',
    /** The JSON API only reads what the engine and the explainers stored. */
    privileges: ['SELECT'],
  },
} as const;

export type CopilotRoleKey = keyof typeof COPILOT_ROLES;
export type CopilotRoleName = (typeof COPILOT_ROLES)[CopilotRoleKey]['name'];

/** Every role, in the order they are set up. */
export const COPILOT_ROLE_KEYS: readonly CopilotRoleKey[] = ['worker', 'api'];

/** The table privileges the roles are ever given; anything of these a role should not hold is revoked. */
const MANAGED_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const;

/**
 * The tables the roles are granted on: the store's own tables, listed by name (never "all tables
 * in the schema": on a shared PostgreSQL database that would reach other applications' tables).
 * `schema_migrations` is readable by both, so each process can see the schema is current, and
 * written by neither.
 */
export const GRANTED_TABLES: readonly string[] = [...STORE_TABLES];

/** An IAM principal ARN DSQL can map a database role to (`AWS IAM GRANT`). */
const IAM_PRINCIPAL_ARN_RE = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]{1,512}$/;

/**
 * Checks an IAM principal ARN before it is put in a SQL literal.
 *
 * @throws StoreConfigError naming the bad value.
 */
export function checkIamPrincipalArn(arn: string): string {
  if (!IAM_PRINCIPAL_ARN_RE.test(arn))
    throw new StoreConfigError(
      `not an IAM role or user ARN: "${arn}" (expected arn:aws:iam::<account>:role/<name>)`,
    );
  return arn;
}

/** What the roles should look like: the IAM principals each maps to (DSQL only). */
export interface RoleBindings {
  /**
   * IAM principals that log in as `copilot_worker` (DSQL): the worker's task role. Given, they are
   * the whole list (others are unmapped); left out, the role's mappings are not touched.
   */
  readonly worker?: readonly string[];
  /** IAM principals that log in as `copilot_api` (DSQL): the API Lambda's role. As `worker`. */
  readonly api?: readonly string[];
}

/** The statements that give `role` exactly its privileges, one per transaction. */
export function grantStatements(role: CopilotRoleKey): string[] {
  const { name, privileges } = COPILOT_ROLES[role];
  const others = MANAGED_PRIVILEGES.filter((p) => !(privileges as readonly string[]).includes(p));
  const tables = GRANTED_TABLES.join(', ');
  return [
    `GRANT USAGE ON SCHEMA public TO ${name}`,
    `GRANT ${privileges.join(', ')} ON ${tables} TO ${name}`,
    ...(others.length === 0 ? [] : [`REVOKE ${others.join(', ')} ON ${tables} FROM ${name}`]),
    `GRANT SELECT ON ${MIGRATIONS_TABLE} TO ${name}`,
    `REVOKE INSERT, UPDATE, DELETE ON ${MIGRATIONS_TABLE} FROM ${name}`,
  ];
}

/** `CREATE ROLE …` for a role that does not exist yet. On DSQL a role needs LOGIN to be mapped. */
export function createRoleStatement(role: CopilotRoleKey): string {
  return `CREATE ROLE ${COPILOT_ROLES[role].name} WITH LOGIN`;
}

/** `AWS IAM GRANT` (DSQL): lets `arn` log in as `role` with a `dsql:DbConnect` token. */
export function iamGrantStatement(role: CopilotRoleKey, arn: string): string {
  return `AWS IAM GRANT ${COPILOT_ROLES[role].name} TO '${checkIamPrincipalArn(arn)}'`;
}

/** `AWS IAM REVOKE` (DSQL): `arn` may no longer log in as `role`. */
export function iamRevokeStatement(role: CopilotRoleKey, arn: string): string {
  return `AWS IAM REVOKE ${COPILOT_ROLES[role].name} FROM '${checkIamPrincipalArn(arn)}'`;
}

/** What {@link setupRoles} changed. */
export interface RolesReport {
  readonly dialect: Dialect;
  /** Roles that did not exist and were created. */
  readonly created: readonly CopilotRoleName[];
  /** IAM principals newly mapped, as `role=arn` (DSQL). */
  readonly mapped: readonly string[];
  /** IAM principals no longer wanted and unmapped, as `role=arn` (DSQL). */
  readonly unmapped: readonly string[];
}

/** Runs one role statement. */
export type StatementRunner = (sql: Sql, statement: string) => Promise<unknown>;

/** How {@link setupRoles} and {@link dropRoles} run. */
export interface RolesOptions {
  readonly retry?: RetryOptions;
  /**
   * Runs each statement. The tests put DSQL's `AWS IAM` statements through a PostgreSQL stand-in
   * here (DSQL cannot run on the test machines).
   * @default each statement in a transaction of its own, retried on conflicts
   */
  readonly execute?: StatementRunner;
}

/**
 * One statement in a transaction of its own, retried on conflicts: DSQL allows one DDL per
 * transaction and never DDL beside DML; GRANT, CREATE ROLE and AWS IAM GRANT count as DDL there.
 */
function statementRunner(options: RolesOptions): (sql: Sql, statement: string) => Promise<unknown> {
  const execute: StatementRunner = options.execute ?? ((sql, s) => sql.begin((tx) => tx.unsafe(s)));
  return (sql, statement) => withRetry(() => execute(sql, statement), options.retry ?? {});
}

/** Which of `names` exist as tables in the current schema. */
async function existingTables(sql: Sql, names: readonly string[]): Promise<string[]> {
  const rows = await sql<{ table_name: string }[]>`
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = current_schema() AND table_name IN ${sql(names as string[])}`;
  const found = new Set(rows.map((r) => r.table_name));
  return names.filter((n) => found.has(n));
}

async function roleExists(sql: Sql, name: string): Promise<boolean> {
  const rows = await sql`SELECT 1 FROM pg_roles WHERE rolname = ${name}`;
  return rows.length > 0;
}

/** The IAM principals a role is mapped to on DSQL (`sys.iam_pg_role_mappings`). */
async function iamMappings(sql: Sql, name: string): Promise<string[]> {
  const rows = await sql<{ arn: string }[]>`
    SELECT arn FROM sys.iam_pg_role_mappings WHERE pg_role_name = ${name}`;
  return rows.map((r) => r.arn);
}

function checkDialect(dialect: Dialect, bindings: RoleBindings): void {
  if (dialect === 'pglite')
    throw new StoreConfigError(
      'database roles need PostgreSQL or Aurora DSQL: the embedded PGlite store has one user',
    );
  const arns = [...(bindings.worker ?? []), ...(bindings.api ?? [])];
  if (dialect !== 'dsql' && arns.length > 0)
    throw new StoreConfigError(
      'IAM role mappings (AWS IAM GRANT) exist only on Aurora DSQL; on PostgreSQL give the ' +
        'roles a password or another authentication method instead',
    );
  for (const arn of arns) checkIamPrincipalArn(arn);
}

/**
 * Creates `copilot_worker` and `copilot_api` when missing, gives each exactly its privileges on
 * the copilot's tables (granting what it needs, revoking what it must not hold), and on DSQL maps
 * each to its IAM principals with `AWS IAM GRANT`, unmapping principals no longer wanted (a
 * replaced task role). Idempotent; run it after the migrations, connected as the tables' owner
 * (`admin` on DSQL), so tables added by a new migration are granted too.
 *
 * @throws StoreConfigError on PGlite, for IAM mappings outside DSQL, or for a malformed ARN.
 */
export async function setupRoles(
  sql: Sql,
  dialect: Dialect,
  bindings: RoleBindings = {},
  options: RolesOptions = {},
): Promise<RolesReport> {
  checkDialect(dialect, bindings);
  const run = statementRunner(options);
  const created: CopilotRoleName[] = [];
  const mapped: string[] = [];
  const unmapped: string[] = [];
  for (const role of COPILOT_ROLE_KEYS) {
    const { name } = COPILOT_ROLES[role];
    if (!(await roleExists(sql, name))) {
      try {
        await run(sql, createRoleStatement(role));
        created.push(name);
      } catch (error) {
        // A concurrent setup created it a moment earlier (42710 duplicate_object): fine.
        if (!(await roleExists(sql, name))) throw error;
      }
    }
    for (const statement of grantStatements(role)) await run(sql, statement);
    // No list for this role: leave its mappings alone. Reading an absent list as "none" would
    // unmap the deployed task role whenever someone ran `setup-schema --roles` by hand.
    const binding = bindings[role];
    if (dialect !== 'dsql' || binding === undefined) continue;
    const wanted = new Set(binding);
    const current = new Set(await iamMappings(sql, name));
    for (const arn of wanted) {
      if (current.has(arn)) continue;
      await run(sql, iamGrantStatement(role, arn));
      mapped.push(`${name}=${arn}`);
    }
    for (const arn of current) {
      if (wanted.has(arn)) continue;
      await run(sql, iamRevokeStatement(role, arn));
      unmapped.push(`${name}=${arn}`);
    }
  }
  return { dialect, created, mapped, unmapped };
}

/**
 * Removes the copilot's roles: their IAM mappings (DSQL), every privilege they hold on the
 * copilot's tables and schema, then the roles. The tables and their rows stay. Idempotent: a role
 * that is already gone is skipped.
 */
export async function dropRoles(
  sql: Sql,
  dialect: Dialect,
  options: RolesOptions = {},
): Promise<CopilotRoleName[]> {
  checkDialect(dialect, {});
  const run = statementRunner(options);
  const dropped: CopilotRoleName[] = [];
  for (const role of COPILOT_ROLE_KEYS) {
    const { name } = COPILOT_ROLES[role];
    if (!(await roleExists(sql, name))) continue;
    if (dialect === 'dsql')
      for (const arn of await iamMappings(sql, name)) await run(sql, iamRevokeStatement(role, arn));
    // A store whose schema was never set up has nothing to revoke on.
    const tables = await existingTables(sql, [...GRANTED_TABLES, MIGRATIONS_TABLE]);
    if (tables.length > 0) await run(sql, `REVOKE ALL ON ${tables.join(', ')} FROM ${name}`);
    await run(sql, `REVOKE USAGE ON SCHEMA public FROM ${name}`);
    await run(sql, `DROP ROLE IF EXISTS ${name}`);
    dropped.push(name);
  }
  return dropped;
}
