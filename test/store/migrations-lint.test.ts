import { describe, expect, it } from 'vitest';
import {
  DIALECTS,
  lintDsqlStatement,
  MIGRATIONS,
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
