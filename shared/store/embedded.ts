import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { messageOf } from '../errors.js';
import { StoreConfigError } from './errors.js';

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
  /** Directory holding the database files (created if missing), or `memory://` for a throwaway. */
  readonly dataDir: string;
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

/**
 * Starts the embedded default store: a file-backed PGlite (PostgreSQL in WASM) behind
 * `@electric-sql/pglite-socket`, so exactly the same driver code runs as against PostgreSQL and
 * DSQL. A fresh directory takes a few seconds (initdb); an existing one reopens in about 0.5 s.
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
