import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerDbCommands } from '../../bin/commands/db.js';
import { openStore, type Store } from '../../shared/store/connection.js';
import { COPILOT_ROLES } from '../../shared/store/roles.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';

/** Runs `copilot db …` in-process and returns what it printed on stdout. */
async function copilot(...args: string[]): Promise<string> {
  const program = new Command().name('copilot').exitOverride();
  registerDbCommands(program);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'copilot', 'db', ...args]);
  } finally {
    spy.mockRestore();
  }
  return out;
}

/** The SQLSTATE a statement fails with, or 'ok'. */
async function outcome(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

describe('copilot db setup-schema --roles on PostgreSQL', () => {
  let pg: TestPostgres;
  const stores: Store[] = [];
  const dirs: string[] = [];
  const as = async (user: string) => {
    const u = new URL(pg.url);
    u.username = user;
    const store = await openStore({ dialect: 'postgres', url: u.toString(), max: 1 });
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    pg = await startTestPostgres();
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    await pg?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('creates the roles beside the schema; copilot_api cannot write, copilot_worker can', async () => {
    const out = await copilot('setup-schema', '--database-url', pg.url, '--roles');
    expect(out).toMatch(/^applied \d+ migration/);
    expect(out).toContain('roles: created copilot_worker, copilot_api; grants up to date');

    const api = await as(COPILOT_ROLES.api.name);
    const insert = (s: Store) =>
      s.sql`INSERT INTO clusters (id, name, created_at)
        VALUES (gen_random_uuid(), current_user, now())`;
    expect({
      select: await outcome(() => api.sql`SELECT count(*) FROM evaluations`),
      insert: await outcome(() => insert(api)),
      update: await outcome(() => api.sql`UPDATE issues SET resolved_at = now()`),
      delete: await outcome(() => api.sql`DELETE FROM log_patterns`),
    }).toEqual({ select: 'ok', insert: '42501', update: '42501', delete: '42501' });

    const worker = await as(COPILOT_ROLES.worker.name);
    expect({
      insert: await outcome(() => insert(worker)),
      update: await outcome(() => worker.sql`UPDATE issues SET resolved_at = now()`),
      delete: await outcome(() => worker.sql`DELETE FROM log_patterns`),
    }).toEqual({ insert: 'ok', update: 'ok', delete: 'ok' });
  });

  it('a second run reports the roles as they are, in JSON too', async () => {
    const out = await copilot(
      'setup-schema',
      '--database-url',
      pg.url,
      '--roles',
      '--format',
      'json',
    );
    const report = JSON.parse(out) as { applied: number[]; roles: { created: string[] } };
    expect(report.applied).toEqual([]);
    expect(report.roles).toEqual({ dialect: 'postgres', created: [], mapped: [], unmapped: [] });
  });

  it('without --roles, creates no role', async () => {
    const fresh = await startTestPostgres();
    try {
      await copilot('setup-schema', '--database-url', fresh.url);
      const admin = await openStore({ dialect: 'postgres', url: fresh.url, max: 1 });
      try {
        const rows = await admin.sql`SELECT 1 FROM pg_roles WHERE rolname LIKE 'copilot_%'`;
        expect(rows).toHaveLength(0);
      } finally {
        await admin.close();
      }
    } finally {
      await fresh.stop();
    }
  });

  it('refuses IAM mappings on PostgreSQL and roles on the embedded store', async () => {
    await expect(
      copilot(
        'setup-schema',
        '--database-url',
        pg.url,
        '--worker-iam-role',
        'arn:aws:iam::123456789012:role/worker',
      ),
    ).rejects.toThrow(/only on Aurora DSQL/);
    const dir = mkdtempSync(join(tmpdir(), 'copilot-roles-'));
    dirs.push(dir);
    await expect(
      copilot('setup-schema', '--data-dir', join(dir, 'store'), '--roles'),
    ).rejects.toThrow(/--roles needs PostgreSQL/);
  });
});
