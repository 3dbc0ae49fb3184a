import { describe, expect, it } from 'vitest';
import {
  DIALECTS,
  lintDsqlStatement,
  MIGRATIONS,
  migrationChecksum,
  migrationStatements,
} from '../../shared/store/migrations.js';

describe('migrations are DSQL-compatible', () => {
  it.each(DIALECTS)('every %s statement passes the DSQL lint', (dialect) => {
    const problems = migrationStatements(dialect).flatMap((statement) =>
      lintDsqlStatement(statement, dialect).map((p) => `${p}: ${statement.slice(0, 60)}`),
    );
    expect(problems).toEqual([]);
  });

  it('creates indexes with ASYNC on DSQL only', () => {
    const indexes = (dialect: (typeof DIALECTS)[number]) =>
      migrationStatements(dialect).filter((s) => /^CREATE (UNIQUE )?INDEX/.test(s));
    expect(indexes('dsql').length).toBeGreaterThan(0);
    expect(indexes('dsql').every((s) => s.startsWith('CREATE INDEX ASYNC IF NOT EXISTS'))).toBe(
      true,
    );
    for (const dialect of ['postgres', 'pglite'] as const) {
      expect(indexes(dialect)).toHaveLength(indexes('dsql').length);
      expect(indexes(dialect).some((s) => /\bASYNC\b/.test(s))).toBe(false);
    }
  });

  it('keeps versions unique and ascending, with UUID primary keys and no jsonb anywhere', () => {
    const versions = MIGRATIONS.map((m) => m.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);
    const tables = migrationStatements('dsql').filter((s) => s.startsWith('CREATE TABLE'));
    for (const t of tables.slice(1)) expect(t).toMatch(/\bid UUID PRIMARY KEY\b/);
    expect(migrationStatements('dsql').join('\n')).not.toMatch(/jsonb/i);
  });

  it('catches each rule it enforces (so the lint can fail)', () => {
    const bad: Array<[string, string]> = [
      [
        'CREATE TABLE IF NOT EXISTS a (id UUID PRIMARY KEY, b UUID REFERENCES c (id))',
        'foreign key',
      ],
      ['CREATE TABLE IF NOT EXISTS a (id UUID PRIMARY KEY, doc JSONB)', 'jsonb column'],
      ['CREATE TABLE IF NOT EXISTS a (id BIGSERIAL PRIMARY KEY)', 'SERIAL column'],
      [
        'CREATE TABLE IF NOT EXISTS a (id UUID); CREATE TABLE IF NOT EXISTS b (id UUID)',
        'more than one statement',
      ],
      ['CREATE INDEX IF NOT EXISTS i ON a (b)', 'index without ASYNC on DSQL'],
      ['CREATE INDEX ASYNC IF NOT EXISTS i ON a (b DESC)', 'ASC/DESC in an index'],
      ['CREATE TABLE a (id UUID PRIMARY KEY)', 'not idempotent (no IF NOT EXISTS)'],
      ["INSERT INTO a VALUES ('x')", 'DML mixed into a migration'],
      ['CREATE TRIGGER t AFTER INSERT ON a EXECUTE FUNCTION f()', 'feature DSQL lacks'],
    ];
    for (const [statement, problem] of bad)
      expect(lintDsqlStatement(statement, 'dsql')).toContain(problem);
    expect(lintDsqlStatement('CREATE INDEX ASYNC IF NOT EXISTS i ON a (b)', 'postgres')).toContain(
      'ASYNC index on postgres',
    );
  });
});

/*
 * An applied migration never changes: `runMigrations` refuses a store whose recorded checksum of
 * a version differs from the code's (a data migration's checksum is its description). These are
 * the checksums as shipped; a new migration adds a line, an edit to an old one fails here first
 * instead of stopping every worker and schema deploy on an existing store.
 */
const SHIPPED: Record<'postgres' | 'dsql', readonly string[]> = {
  postgres: [
    'e9e26e4d396ef42b',
    '7787faa1731a384c',
    '4fa62b694bbd8aa5',
    'db6e7966cc3a24fe',
    '497dcaaf7559dad7',
    '55c8262c63ae22b4',
    '09b64b45288e5a1b',
    'e29ab0fc2e8d0cc4',
    'e863a40d7a1ddc36',
    '02c73ac815ae1eed',
    '2c543e19a55e2bdb',
    '6548e0056c0d7ac5',
    '52767d8ab5eea841',
    'c3514e922861923f',
    'dc03e6e3154b089b',
    'aa1acf3094c6db52',
    '71b79ff13de5d3df',
    'c8ad1fbaa5f4a91f',
    '248627d2c0f6fffc',
    'af6eada6d7b30262',
    '419baffd791dcfb1',
    '5f79c27c2023d850',
    '45faaa6ae86ca46a',
    'f0e6cfebbc6eb6e7',
    '9f24ee8212c74cc5',
    '0ce7a09f29309fb6',
  ],
  dsql: [
    'e9e26e4d396ef42b',
    '7787faa1731a384c',
    '683be2b837727873',
    '042048251c210666',
    'bc559ff4c8f92860',
    '55c8262c63ae22b4',
    'e5c9798f05040f54',
    'e29ab0fc2e8d0cc4',
    'df739e099e23348d',
    '4cd2cb1b71f59575',
    '2c543e19a55e2bdb',
    '8986aca69ba0d236',
    '360516254c47acea',
    'c3514e922861923f',
    'dc03e6e3154b089b',
    'aa1acf3094c6db52',
    'f989d854748859af',
    '35999ae3180b7729',
    '248627d2c0f6fffc',
    'af6eada6d7b30262',
    '419baffd791dcfb1',
    '5f79c27c2023d850',
    '45faaa6ae86ca46a',
    'f0e6cfebbc6eb6e7',
    '9f24ee8212c74cc5',
    '0ce7a09f29309fb6',
  ],
};

describe('shipped migrations stay as shipped', () => {
  it.each(['postgres', 'dsql'] as const)('every %s checksum matches the one shipped', (dialect) => {
    const shipped = SHIPPED[dialect];
    expect(MIGRATIONS.slice(0, shipped.length).map((m) => migrationChecksum(m, dialect))).toEqual(
      shipped,
    );
  });
});
