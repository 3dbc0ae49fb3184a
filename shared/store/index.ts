/**
 * The state store: schema and migrations, connections (DSQL, PostgreSQL, embedded PGlite),
 * idempotent OCC-safe writes, retention and the API's reads. An adapter: it does I/O and is kept
 * apart from the pure `shared/health`, `shared/signals` and `shared/models`.
 */
export * from './admin.js';
export * from './connection.js';
export * from './embedded.js';
export * from './errors.js';
export * from './ids.js';
export * from './limits.js';
export * from './migrations.js';
export * from './reads.js';
export * from './retention.js';
export * from './retry.js';
export * from './target.js';
export * from './writes.js';
