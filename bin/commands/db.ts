import type { Command } from 'commander';
import { Option } from 'commander';
import { ConfigurationError } from '../../shared/errors.js';
import { checkConnection, listTables } from '../../shared/store/admin.js';
import type { Store } from '../../shared/store/connection.js';
import { openAnyStoreTarget } from '../../shared/store/embedded.js';
import { describeError, StoreConfigError, StoreError } from '../../shared/store/errors.js';
import { LATEST_SCHEMA_VERSION, runMigrations } from '../../shared/store/migrations.js';
import { type RolesReport, setupRoles } from '../../shared/store/roles.js';
import {
  type AnyStoreTarget,
  describeStoreTarget,
  type StoreEnv,
  type StoreHandle,
  storeTargetFromEnv,
} from '../../shared/store/target.js';
import { CliError, table } from '../cli-support.js';

/** The flags that choose the store, shared by `copilot db …` and `copilot api`. */
export interface StoreFlags {
  databaseUrl?: string;
  dialect: 'postgres' | 'pglite';
  dataDir?: string;
  dsqlEndpoint?: string;
  region?: string;
  user?: string;
}

/** Connection flags shared by every `db` subcommand. */
interface DbOptions extends StoreFlags {
  format: 'table' | 'json';
}

/**
 * Which database the flags (or, failing them, the environment, read as every other process reads
 * it: `storeTargetFromEnv`) name. Exactly one of a URL, a DSQL endpoint or an embedded data
 * directory; two at once is an error rather than a silent pick. `--user` and `--region` override
 * COPILOT_DSQL_USER and AWS_REGION.
 */
export function resolveDbTarget(opts: StoreFlags, env: StoreEnv = process.env): AnyStoreTarget {
  const given = [opts.databaseUrl, opts.dsqlEndpoint, opts.dataDir].filter((v) => v !== undefined);
  if (given.length > 1)
    throw new CliError('give only one of --database-url, --dsql-endpoint and --data-dir', 2);
  if (opts.dataDir !== undefined) return { dialect: 'embedded', dataDir: opts.dataDir };
  if (opts.databaseUrl !== undefined) return { dialect: opts.dialect, url: opts.databaseUrl };
  let target: AnyStoreTarget | undefined;
  try {
    target = storeTargetFromEnv({
      ...(opts.dsqlEndpoint === undefined
        ? {
            COPILOT_DATABASE_URL: env.COPILOT_DATABASE_URL,
            COPILOT_DSQL_ENDPOINT: env.COPILOT_DSQL_ENDPOINT,
            COPILOT_DATA_DIR: env.COPILOT_DATA_DIR,
          }
        : { COPILOT_DSQL_ENDPOINT: opts.dsqlEndpoint }),
      COPILOT_DSQL_USER: opts.user ?? env.COPILOT_DSQL_USER,
      AWS_REGION: opts.region ?? env.AWS_REGION,
    });
  } catch (error) {
    if (error instanceof StoreConfigError)
      throw new CliError(
        `${error.message} (or pass --database-url, --dsql-endpoint or --data-dir)`,
        2,
      );
    throw error;
  }
  if (target === undefined)
    throw new CliError(
      'no database given: pass --database-url, --dsql-endpoint or --data-dir ' +
        '(or set COPILOT_DATABASE_URL, COPILOT_DSQL_ENDPOINT or COPILOT_DATA_DIR)',
      2,
    );
  // --dialect says what serves a URL, from the flag or the environment alike.
  return target.dialect === 'postgres' ? { ...target, dialect: opts.dialect } : target;
}

/**
 * Opens the store the options name, runs `fn`, and always closes what it opened. Only `create`
 * may initialise a missing embedded store; otherwise a directory without one is an error that
 * says how to create it (a reader that created one would report on an empty database).
 */
async function withStore<T>(
  opts: DbOptions,
  fn: (store: Store) => Promise<T>,
  { create }: { readonly create: boolean },
): Promise<T> {
  const target = resolveDbTarget(opts);
  let handle: StoreHandle | undefined;
  try {
    handle = await openAnyStoreTarget(target, { create });
    if (handle.note !== undefined) process.stderr.write(`copilot: ${handle.note}\n`);
    return await fn(handle.store);
  } catch (error) {
    if (error instanceof CliError || error instanceof ConfigurationError) throw error;
    // The store's own errors say what is wrong already (credentials, a changed migration).
    if (error instanceof StoreError) throw new CliError(error.message);
    const where = handle?.describe ?? describeStoreTarget(target);
    throw new CliError(`database ${where}: ${describeError(error)}`);
  } finally {
    await handle?.close().catch(() => {});
  }
}

/** `setup-schema`'s own flags. */
interface SetupSchemaOptions extends DbOptions {
  roles?: boolean;
  workerIamRole?: string[];
  apiIamRole?: string[];
}

/** One line on what `--roles` did. */
function describeRoles(report: RolesReport): string {
  const parts = [
    report.created.length === 0 ? 'roles exist' : `created ${report.created.join(', ')}`,
    'grants up to date (copilot_worker read/write, copilot_api read-only)',
  ];
  if (report.mapped.length > 0) parts.push(`mapped ${report.mapped.join(', ')}`);
  if (report.unmapped.length > 0) parts.push(`unmapped ${report.unmapped.join(', ')}`);
  return `roles: ${parts.join('; ')}`;
}

const write = (text: string) => {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
};

/** Adds the {@link StoreFlags} options to a command. */
export function storeFlagOptions(command: Command): Command {
  return command
    .option('--database-url <url>', 'PostgreSQL-wire URL (env COPILOT_DATABASE_URL)')
    .addOption(
      new Option('--dialect <dialect>', 'what serves --database-url')
        .choices(['postgres', 'pglite'])
        .default('postgres'),
    )
    .option(
      '--data-dir <dir>',
      "the embedded PGlite store's directory, as for copilot dev (env COPILOT_DATA_DIR; " +
        'only setup-schema creates a missing one)',
    )
    .option('--dsql-endpoint <host>', 'Aurora DSQL cluster endpoint (env COPILOT_DSQL_ENDPOINT)')
    .option(
      '--region <region>',
      'AWS region of the DSQL cluster (env AWS_REGION; else from the endpoint)',
    )
    .option(
      '--user <role>',
      'DSQL database role (env COPILOT_DSQL_USER; default admin, which uses DbConnectAdmin)',
    );
}

function connectionOptions(command: Command): Command {
  return storeFlagOptions(command).addOption(
    new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'),
  );
}

/**
 * `copilot db check-connection | setup-schema | list-tables`: operate the state store on DSQL,
 * PostgreSQL or the embedded PGlite default.
 */
export function registerDbCommands(program: Command): void {
  const db = program
    .command('db')
    .description('state store: check the connection, set up the schema, list tables');

  connectionOptions(
    db
      .command('check-connection')
      .description('connect, run one query and report the server and schema version'),
  ).action((opts: DbOptions) =>
    withStore(
      opts,
      async (store) => {
        const check = await checkConnection(store);
        if (opts.format === 'json') return write(JSON.stringify(check));
        write(
          table([
            ['target', `${check.target} (${check.dialect})`],
            ['server', check.serverVersion],
            ['user', `${check.user} on database ${check.database}`],
            ['round trip', `${check.roundTripMs.toFixed(2)} ms`],
            [
              'schema',
              check.schemaVersion === null
                ? 'not set up (run copilot db setup-schema)'
                : `version ${check.schemaVersion} of ${LATEST_SCHEMA_VERSION}`,
            ],
          ]),
        );
      },
      { create: false },
    ),
  );

  connectionOptions(
    db
      .command('setup-schema')
      .description('apply the schema migrations that are missing (idempotent)')
      .option(
        '--roles',
        'also create the copilot_worker (read/write) and copilot_api (read-only) roles and ' +
          'grant them the copilot tables (PostgreSQL and DSQL; connect as the tables owner)',
      )
      .option(
        '--worker-iam-role <arn...>',
        'DSQL: IAM roles that log in as copilot_worker (AWS IAM GRANT); implies --roles',
      )
      .option(
        '--api-iam-role <arn...>',
        'DSQL: IAM roles that log in as copilot_api (AWS IAM GRANT); implies --roles',
      ),
  ).action((opts: SetupSchemaOptions) => {
    const roles =
      opts.roles === true || opts.workerIamRole !== undefined || opts.apiIamRole !== undefined;
    return withStore(
      opts,
      async (store) => {
        const report = await runMigrations(store.sql, store.dialect);
        let rolesReport: RolesReport | undefined;
        if (roles) {
          if (store.dialect === 'pglite')
            throw new CliError(
              '--roles needs PostgreSQL (--database-url) or DSQL (--dsql-endpoint): the ' +
                'embedded store has one user',
              2,
            );
          // A flag left out leaves that role's IAM mappings as they are (not "map none").
          rolesReport = await setupRoles(store.sql, store.dialect, {
            ...(opts.workerIamRole === undefined ? {} : { worker: opts.workerIamRole }),
            ...(opts.apiIamRole === undefined ? {} : { api: opts.apiIamRole }),
          });
        }
        if (opts.format === 'json')
          return write(JSON.stringify(rolesReport ? { ...report, roles: rolesReport } : report));
        write(
          report.applied.length === 0
            ? `schema up to date at version ${LATEST_SCHEMA_VERSION} (${store.dialect})`
            : `applied ${report.applied.length} migration(s) (${report.applied.join(', ')}); ` +
                `schema at version ${LATEST_SCHEMA_VERSION} (${store.dialect})`,
        );
        if (rolesReport !== undefined) write(describeRoles(rolesReport));
      },
      // The one reading-and-writing command that may bring a new embedded store into being.
      { create: true },
    );
  });

  connectionOptions(
    db
      .command('list-tables')
      .description('the store tables and their row counts (bounded on DSQL)')
      .option(
        '--cap <rows>',
        'stop counting at this many rows (default: 100000 on DSQL, exact elsewhere)',
      ),
  ).action((opts: DbOptions & { cap?: string }) => {
    let cap: number | undefined;
    if (opts.cap !== undefined) {
      cap = Number(opts.cap);
      if (!Number.isInteger(cap) || cap < 1)
        throw new CliError(`--cap must be a positive integer, got ${opts.cap}`, 2);
    }
    return withStore(
      opts,
      async (store) => {
        const tables = await listTables(store, cap === undefined ? {} : { cap });
        if (opts.format === 'json') return write(JSON.stringify(tables));
        const rows = tables.map((t) => [
          t.table,
          !t.exists ? '-' : t.exact ? String(t.rows) : `>= ${t.rows}`,
          !t.exists ? 'missing (run copilot db setup-schema)' : t.exact ? '' : 'bounded count',
        ]);
        write(table([['table', 'rows', 'note'], ...rows]));
      },
      { create: false },
    );
  });
}
