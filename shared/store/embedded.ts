import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { messageOf } from '../errors.js';
import { openStore, type Store } from './connection.js';
import { StoreConfigError } from './errors.js';
import { runMigrations } from './migrations.js';
import { describeStoreTarget, openStoreTarget, type StoreOpener } from './target.js';

/** A running embedded store: PGlite served over the PostgreSQL wire on 127.0.0.1. */
export interface EmbeddedStore {
  /** Connection URL for {@link openStore} with dialect `pglite`. */
  readonly url: string;
  /** The socket server's connection limit; keep the driver pool at or below it. */
  readonly maxConnections: number;
  close(): Promise<void>;
}

/** Options for {@link startEmbeddedStore}. */
export interface EmbeddedStoreOptions {
  /** Directory holding the database files, or `memory://` for a throwaway. */
  readonly dataDir: string;
  /**
   * Whether a missing store may be created (PGlite runs initdb in any directory without one).
   * Readers pass `false`, so a mistyped directory is an error instead of a new, empty database.
   * @default true
   */
  readonly create?: boolean;
  /**
   * TCP port on 127.0.0.1; 0 picks a free one.
   * @default 0
   */
  readonly port?: number;
  /**
   * Connections the socket server accepts. PGlite is one backend and runs one query at a time; the
   * server queues them, and a driver pool larger than this limit would see resets.
   * @default 8
   */
  readonly maxConnections?: number;
}

/** The embedded store a reader was pointed at does not exist; creating one is a writer's job. */
export class EmbeddedStoreMissingError extends StoreConfigError {
  constructor(readonly dataDir: string) {
    super(
      `no embedded store in ${dataDir}: create it with \`copilot db setup-schema --data-dir ${dataDir}\`` +
        ` or run \`copilot dev --data-dir ${dataDir}\``,
    );
    this.name = 'EmbeddedStoreMissingError';
  }
}

/** Whether `dir` holds a PGlite (PostgreSQL) data directory: initdb writes PG_VERSION there. */
export function isEmbeddedStoreDir(dir: string): boolean {
  return existsSync(join(dir, 'PG_VERSION'));
}

/** Where the embedded store a directory names really is (see {@link locateEmbeddedStore}). */
export interface EmbeddedStoreLocation {
  /** The store's directory, absolute (or `memory://…` as given). */
  readonly dataDir: string;
  /** Whether a store exists there already (always false in memory). */
  readonly exists: boolean;
  /**
   * The directory that was named, when the store was found in its `data` subdirectory instead:
   * the layout `copilot dev --data-dir X` wrote before `--data-dir` named the store itself.
   */
  readonly namedParent?: string;
}

/**
 * Resolves the directory a flag or COPILOT_DATA_DIR names to the store's own directory. It is the
 * directory itself, unless that holds no store but its `data` subdirectory does: then the old
 * `copilot dev` layout (store in `X/data`, Temporal in `X/temporal.db`) was named, and the store
 * in `X/data` is meant — opening `X` would initialise a second, empty database beside it.
 */
export function locateEmbeddedStore(dataDir: string): EmbeddedStoreLocation {
  if (dataDir.startsWith('memory://')) return { dataDir, exists: false };
  const dir = resolve(dataDir);
  if (isEmbeddedStoreDir(dir)) return { dataDir: dir, exists: true };
  const nested = join(dir, 'data');
  if (isEmbeddedStoreDir(nested)) return { dataDir: nested, exists: true, namedParent: dir };
  return { dataDir: dir, exists: false };
}

function holdsFiles(dir: string): boolean {
  try {
    return readdirSync(dir).length > 0;
  } catch {
    return false; // missing (or not a directory: mkdirSync below says so)
  }
}

/**
 * Starts the embedded default store: a file-backed PGlite (PostgreSQL in WASM) behind
 * `@electric-sql/pglite-socket`, so exactly the same driver code runs as against PostgreSQL and
 * DSQL. A fresh directory takes a few seconds (initdb); an existing one reopens in about 0.5 s.
 * Without `create`, a directory that holds no store is refused before PGlite can initialise one.
 *
 * @example
 * const embedded = await startEmbeddedStore({ dataDir: '.copilot/data' });
 * const store = await openStore({ dialect: 'pglite', url: embedded.url, max: 1 });
 */
export async function startEmbeddedStore(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  const maxConnections = options.maxConnections ?? 8;
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new StoreConfigError(`port must be 0..65535, got ${port}`);
  if (!Number.isInteger(maxConnections) || maxConnections < 1)
    throw new StoreConfigError(`maxConnections must be >= 1, got ${maxConnections}`);
  let dataDir = options.dataDir;
  if (dataDir.trim() === '') throw new StoreConfigError('embedded store needs a data directory');
  if (!dataDir.startsWith('memory://')) {
    dataDir = resolve(dataDir);
    if (!isEmbeddedStoreDir(dataDir)) {
      if (options.create === false) throw new EmbeddedStoreMissingError(dataDir);
      // initdb would scatter a database among whatever is there (a project folder, an old
      // `copilot dev` root): only an empty or new directory becomes a store.
      if (holdsFiles(dataDir))
        throw new StoreConfigError(
          `${dataDir} holds files but no embedded store: name an empty or new directory for one`,
        );
    }
    try {
      mkdirSync(dataDir, { recursive: true });
    } catch (error) {
      const reason = messageOf(error);
      throw new StoreConfigError(`cannot create data directory ${dataDir}: ${reason}`, {
        cause: error,
      });
    }
  }
  const db = await PGlite.create(dataDir);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    const reason = messageOf(error);
    throw new StoreConfigError(`cannot listen on 127.0.0.1:${port}: ${reason}`, { cause: error });
  }
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  let closed = false;
  return {
    url,
    maxConnections,
    async close() {
      if (closed) return;
      closed = true;
      await server.stop();
      await db.close();
    },
  };
}

/**
 * Opens any store target, the embedded one included: it is located (see `locateEmbeddedStore`),
 * started and served to the same driver as PostgreSQL, with PGlite's one-connection pool
 * (openStore's default for `pglite`: one backend, and concurrent connections were seen to mix up
 * answers). Other targets go to `openStoreTarget`. With `migrate`, the missing schema migrations
 * are applied before it returns. A failure closes whatever was already opened.
 *
 * Only the CLI and `copilot dev` import this: the worker image and the Lambda open server stores
 * with `openStoreTarget` (`target.ts`) and carry no PGlite.
 *
 * @throws EmbeddedStoreMissingError when an embedded store does not exist and `create` is false.
 */
export const openAnyStoreTarget: StoreOpener = async (target, options = {}) => {
  if (target.dialect !== 'embedded') return openStoreTarget(target, options);
  const create = options.create ?? options.migrate === true;
  const location = locateEmbeddedStore(target.dataDir);
  const describe = describeStoreTarget({ dialect: 'embedded', dataDir: location.dataDir });
  const note =
    location.namedParent === undefined
      ? undefined
      : `${location.namedParent} is the layout an older \`copilot dev --data-dir\` wrote: ` +
        `using the store in ${location.dataDir} (name that directory to silence this)`;
  let embedded: EmbeddedStore | undefined;
  let store: Store | undefined;
  try {
    embedded = await startEmbeddedStore({ dataDir: location.dataDir, create });
    store = await openStore({ dialect: 'pglite', url: embedded.url });
    if (options.migrate === true) await runMigrations(store.sql, store.dialect);
  } catch (error) {
    await store?.close().catch(() => {});
    await embedded?.close().catch(() => {});
    throw error;
  }
  const opened = store;
  const started = embedded;
  return {
    store: opened,
    describe,
    ...(note === undefined ? {} : { note }),
    close: async () => {
      try {
        await opened.close();
      } finally {
        await started.close();
      }
    },
  };
};
