import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CliError } from '../../bin/cli-support.js';
import { registerDbCommands } from '../../bin/commands/db.js';
import { ConfigurationError } from '../../shared/errors.js';
import { setupSchema } from '../../shared/store/admin.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from '../../shared/store/migrations.js';
import { withoutAwsCredentials } from '../support/aws-env.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';

const N = MIGRATIONS.length;
const V = LATEST_SCHEMA_VERSION;
const APPLIED_ALL = new RegExp(`^applied ${N} migration`);

/** Runs `copilot db …` in-process and returns what it printed on stdout (and on stderr). */
async function copilotWithStderr(...args: string[]): Promise<{ out: string; err: string }> {
  const program = new Command().name('copilot').exitOverride();
  registerDbCommands(program);
  let out = '';
  let err = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  const errSpy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'copilot', 'db', ...args]);
  } finally {
    spy.mockRestore();
    errSpy.mockRestore();
  }
  return { out, err };
}

async function copilot(...args: string[]): Promise<string> {
  return (await copilotWithStderr(...args)).out;
}

describe('copilot db', () => {
  let pg: TestPostgres;
  const dirs: string[] = [];
  beforeAll(async () => {
    pg = await startTestPostgres();
  });
  afterAll(async () => {
    await pg?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('sets up the schema once, then reports it up to date', async () => {
    const first = await copilot('setup-schema', '--database-url', pg.url);
    expect(first).toMatch(
      new RegExp(
        `^applied ${N} migration\\(s\\) \\(1, 2, .*, ${V}\\); schema at version ${V} \\(postgres\\)\n$`,
      ),
    );
    const second = await copilot('setup-schema', '--database-url', pg.url);
    expect(second).toBe(`schema up to date at version ${LATEST_SCHEMA_VERSION} (postgres)\n`);
  });

  it('exposes the same migration as one call for a deploy-time custom resource', async () => {
    const report = await setupSchema({ dialect: 'postgres', url: pg.url });
    expect(report).toEqual({
      dialect: 'postgres',
      applied: [],
      alreadyApplied: MIGRATIONS.map((m) => m.version),
    });
  });

  it('checks the connection and reports the schema version, from the environment too', async () => {
    vi.stubEnv('COPILOT_DATABASE_URL', pg.url);
    vi.stubEnv('COPILOT_DSQL_ENDPOINT', '');
    const check = JSON.parse(await copilot('check-connection', '--format', 'json'));
    expect(check).toMatchObject({ dialect: 'postgres', user: 'postgres', schemaVersion: V });
    expect(check.serverVersion).toMatch(/^PostgreSQL \d+/);
    const text = await copilot('check-connection', '--database-url', pg.url);
    expect(text).toContain(`version ${V} of ${V}`);
  });

  it('lists tables with exact counts, or bounded counts under a cap', async () => {
    const exact = await copilot('list-tables', '--database-url', pg.url);
    expect(exact).toMatch(new RegExp(`schema_migrations\\s+${N}\\b`));
    expect(exact).toMatch(/evaluations\s+0\b/);
    const bounded = JSON.parse(
      await copilot('list-tables', '--database-url', pg.url, '--cap', '5', '--format', 'json'),
    );
    expect(bounded.find((t: { table: string }) => t.table === 'schema_migrations')).toEqual({
      table: 'schema_migrations',
      exists: true,
      rows: 5,
      exact: false,
    });
    await expect(copilot('list-tables', '--database-url', pg.url, '--cap', 'lots')).rejects.toThrow(
      '--cap must be a positive integer, got lots',
    );
  });

  it('runs on an embedded store in a data directory, which persists', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'copilot-cli-'));
    dirs.push(dir);
    expect(await copilot('setup-schema', '--data-dir', dir)).toMatch(APPLIED_ALL);
    expect(await copilot('setup-schema', '--data-dir', dir)).toBe(
      `schema up to date at version ${V} (pglite)\n`,
    );
    expect(await copilot('list-tables', '--data-dir', dir)).toMatch(/clusters\s+0\b/);
  });

  it('reads an embedded store without creating one: a missing or empty directory is an error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'copilot-cli-'));
    dirs.push(dir);
    const missing = join(dir, 'nowhere');
    for (const command of ['check-connection', 'list-tables']) {
      const refused = await copilot(command, '--data-dir', missing).catch((e: unknown) => e);
      // A ConfigurationError: bin/copilot.ts prints `copilot: <message>` and exits 2.
      expect(refused).toBeInstanceOf(ConfigurationError);
      expect((refused as Error).message).toBe(
        `no embedded store in ${missing}: create it with \`copilot db setup-schema --data-dir ${missing}\`` +
          ` or run \`copilot dev --data-dir ${missing}\``,
      );
    }
    expect(existsSync(missing)).toBe(false);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    await expect(copilot('list-tables', '--data-dir', empty)).rejects.toThrow(
      /^no embedded store in /,
    );
    expect(readdirSync(empty)).toEqual([]);
    // setup-schema is the one that creates.
    expect(await copilot('setup-schema', '--data-dir', missing)).toMatch(APPLIED_ALL);
    expect(
      JSON.parse(await copilot('check-connection', '--data-dir', missing, '--format', 'json')),
    ).toMatchObject({ dialect: 'pglite', schemaVersion: V });
  });

  it('finds the store of the old copilot dev layout (X/data) when X is named, and says so', async () => {
    const root = mkdtempSync(join(tmpdir(), 'copilot-cli-'));
    dirs.push(root);
    await copilot('setup-schema', '--data-dir', join(root, 'data'));
    writeFileSync(join(root, 'temporal.db'), '');
    const { out, err } = await copilotWithStderr('list-tables', '--data-dir', root);
    expect(out).toMatch(/clusters\s+0\b/);
    expect(err).toBe(
      `copilot: ${root} is the layout an older \`copilot dev --data-dir\` wrote: using the store ` +
        `in ${join(root, 'data')} (name that directory to silence this)\n`,
    );
    // Nothing was initialised beside it.
    expect(readdirSync(root).sort()).toEqual(['data', 'temporal.db']);
    expect(await copilot('setup-schema', '--data-dir', root)).toBe(
      `schema up to date at version ${V} (pglite)\n`,
    );
  });

  it('will not create a store among the files of a directory that holds none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'copilot-cli-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    await expect(copilot('setup-schema', '--data-dir', dir)).rejects.toThrow(
      `${dir} holds files but no embedded store: name an empty or new directory for one`,
    );
    expect(readdirSync(dir)).toEqual(['notes.txt']);
  });

  it('fails with one clear line on a missing, doubled or unreachable database', async () => {
    vi.stubEnv('COPILOT_DATABASE_URL', '');
    vi.stubEnv('COPILOT_DSQL_ENDPOINT', '');
    await expect(copilot('check-connection')).rejects.toThrow(
      /^no database given: pass --database-url/,
    );
    await expect(
      copilot('check-connection', '--database-url', pg.url, '--data-dir', '/tmp/x'),
    ).rejects.toThrow('give only one of --database-url, --dsql-endpoint and --data-dir');
    const refused = await copilot(
      'check-connection',
      '--database-url',
      'postgres://u:pw@127.0.0.1:1/db',
    ).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CliError);
    expect((refused as Error).message).toMatch(
      /^database postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/db: .*ECONNREFUSED/,
    );
    expect((refused as Error).message).not.toContain('\n');
  });

  it('fails with the credentials message for DSQL without AWS credentials', async () => {
    withoutAwsCredentials();
    await expect(
      copilot('check-connection', '--dsql-endpoint', 'abc123.dsql.us-east-1.on.aws'),
    ).rejects.toThrow(
      /^no AWS credentials to sign a DSQL auth token for abc123\.dsql\.us-east-1\.on\.aws/,
    );
  });
});
