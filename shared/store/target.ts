import { openStore, redactUrl, type Store, type StoreTarget } from './connection.js';
import { StoreConfigError } from './errors.js';
import { runMigrations } from './migrations.js';

/*
 * This module never imports the embedded store (`embedded.ts`, PGlite: ~500 KiB of JavaScript and
 * ~27 MB of WebAssembly). The Lambda and the worker image open server stores only, and a bundler
 * follows static imports whatever runs: keeping PGlite out of this file keeps it out of their
 * bundles. `openAnyStoreTarget` in `embedded.ts` opens every target, for the CLI and `copilot dev`.
 */

/** The embedded default store: a file-backed PGlite in `dataDir` (or `memory://`). */
export interface EmbeddedStoreTarget {
  readonly dialect: 'embedded';
  readonly dataDir: string;
}

/** Every store the copilot can open: a PostgreSQL URL, a DSQL cluster, or the embedded PGlite. */
export type AnyStoreTarget = StoreTarget | EmbeddedStoreTarget;

/** The environment variables that choose the store. Every process reads these same names. */
export interface StoreEnv {
  /** A PostgreSQL URL. */
  readonly COPILOT_DATABASE_URL?: string | undefined;
  /** An Aurora DSQL cluster endpoint (IAM auth). */
  readonly COPILOT_DSQL_ENDPOINT?: string | undefined;
  /** The DSQL database role. @default 'admin' */
  readonly COPILOT_DSQL_USER?: string | undefined;
  /** The DSQL cluster's region. @default the region in the endpoint name */
  readonly AWS_REGION?: string | undefined;
  /** The embedded PGlite's data directory, used when neither of the above is set. */
  readonly COPILOT_DATA_DIR?: string | undefined;
}

const value = (raw: string | undefined): string | undefined => {
  const trimmed = raw?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
};

/**
 * The store the environment names: COPILOT_DSQL_ENDPOINT (with COPILOT_DSQL_USER, default
 * `admin`, and AWS_REGION when set), else COPILOT_DATABASE_URL, else the embedded store in
 * COPILOT_DATA_DIR; `undefined` when none is set. A blank variable counts as unset.
 *
 * @throws StoreConfigError when both COPILOT_DATABASE_URL and COPILOT_DSQL_ENDPOINT are set:
 *   two stores at once is an error rather than a silent pick.
 */
export function storeTargetFromEnv(env: StoreEnv): AnyStoreTarget | undefined {
  const url = value(env.COPILOT_DATABASE_URL);
  const endpoint = value(env.COPILOT_DSQL_ENDPOINT);
  if (url !== undefined && endpoint !== undefined)
    throw new StoreConfigError('set only one of COPILOT_DATABASE_URL and COPILOT_DSQL_ENDPOINT');
  if (endpoint !== undefined) {
    const region = value(env.AWS_REGION);
    return {
      dialect: 'dsql',
      endpoint,
      user: value(env.COPILOT_DSQL_USER) ?? 'admin',
      ...(region === undefined ? {} : { region }),
    };
  }
  if (url !== undefined) return { dialect: 'postgres', url };
  const dataDir = value(env.COPILOT_DATA_DIR);
  return dataDir === undefined ? undefined : { dialect: 'embedded', dataDir };
}

/** Where a target points, printable (no secrets) and known before anything is opened. */
export function describeStoreTarget(target: AnyStoreTarget): string {
  if (target.dialect === 'embedded') return `embedded PGlite in ${target.dataDir}`;
  if (target.dialect === 'dsql') return target.endpoint;
  return redactUrl(target.url);
}

/** An open store with whatever it had to start for it; `close()` stops both. */
export interface StoreHandle {
  readonly store: Store;
  /** Printable description of the store (no secrets). */
  readonly describe: string;
  /**
   * Something the user should hear about how the target was read, e.g. that the directory named
   * holds the old `copilot dev` layout and its `data` subdirectory was opened.
   */
  readonly note?: string;
  close(): Promise<void>;
}

/** Options of {@link openStoreTarget}. */
export interface OpenStoreOptions {
  /** Apply the missing schema migrations before returning. @default false */
  readonly migrate?: boolean;
  /**
   * Whether a missing embedded store may be created. Readers (`copilot api`, `copilot db
   * check-connection|list-tables`) must not: PGlite would initialise an empty database in any
   * directory, and every request would then fail against tables that do not exist.
   * @default the value of `migrate`: whoever sets up the schema may create the database for it
   */
  readonly create?: boolean;
}

/** Opens a store target: how {@link openStoreTarget} and `openAnyStoreTarget` are passed around. */
export type StoreOpener = (
  target: AnyStoreTarget,
  options?: OpenStoreOptions,
) => Promise<StoreHandle>;

/** The embedded store was asked of a build that does not carry it (the worker image, the Lambda). */
export class EmbeddedStoreUnavailableError extends StoreConfigError {
  constructor(readonly dataDir: string) {
    super(
      `the embedded store (COPILOT_DATA_DIR=${dataDir}) is not part of this build: ` +
        'set COPILOT_DATABASE_URL or COPILOT_DSQL_ENDPOINT (`copilot dev` runs the embedded store)',
    );
    this.name = 'EmbeddedStoreUnavailableError';
  }
}

/**
 * Opens a PostgreSQL or DSQL target and, with `migrate`, applies the missing schema migrations
 * before it returns. A failure closes whatever was already opened.
 *
 * @throws EmbeddedStoreUnavailableError for an embedded target: open those with
 *   `openAnyStoreTarget` (`embedded.ts`), which only the CLI and `copilot dev` import.
 */
export const openStoreTarget: StoreOpener = async (target, options = {}) => {
  if (target.dialect === 'embedded') throw new EmbeddedStoreUnavailableError(target.dataDir);
  const store = await openStore(target);
  try {
    if (options.migrate === true) await runMigrations(store.sql, store.dialect);
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  return { store, describe: store.target, close: () => store.close() };
};
