import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupSchema } from '../../shared/store/admin.js';
import { openStore, type Store } from '../../shared/store/connection.js';
import { lintDsqlStatement, MIGRATIONS_TABLE } from '../../shared/store/migrations.js';
import { deleteOlderThan } from '../../shared/store/retention.js';
import {
  COPILOT_ROLE_KEYS,
  COPILOT_ROLES,
  checkIamPrincipalArn,
  createRoleStatement,
  dropRoles,
  GRANTED_TABLES,
  grantStatements,
  iamGrantStatement,
  iamRevokeStatement,
  setupRoles,
} from '../../shared/store/roles.js';
import { openStoreTarget } from '../../shared/store/target.js';
import { ensureCluster } from '../../shared/store/writes.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';

/** The test server's URL, logged in as another role (the throwaway cluster trusts local logins). */
const urlAs = (url: string, user: string) => {
  const u = new URL(url);
  u.username = user;
  u.password = '';
  return u.toString();
};

/** The SQLSTATE a statement fails with, or 'ok'. */
async function outcome(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

const WORKER = COPILOT_ROLES.worker.name;
const API = COPILOT_ROLES.api.name;

describe('copilot database roles on PostgreSQL', () => {
  let pg: TestPostgres;
  let admin: Store;
  const opened: Store[] = [];
  const as = async (user: string) => {
    const store = await openStore({ dialect: 'postgres', url: urlAs(pg.url, user), max: 2 });
    opened.push(store);
    return store;
  };

  beforeAll(async () => {
    pg = await startTestPostgres();
    admin = await openStore({ dialect: 'postgres', url: pg.url, max: 2 });
    await setupSchema({ dialect: 'postgres', url: pg.url });
  });
  afterAll(async () => {
    for (const s of opened) await s.close();
    await admin?.close();
    await pg?.stop();
  });

  it('creates both roles once, then changes nothing on a second run', async () => {
    const first = await setupRoles(admin.sql, 'postgres');
    expect(first).toEqual({
      dialect: 'postgres',
      created: [WORKER, API],
      mapped: [],
      unmapped: [],
    });
    const second = await setupRoles(admin.sql, 'postgres');
    expect(second.created).toEqual([]);
    const roles = await admin.sql<{ rolname: string; rolsuper: boolean; rolcanlogin: boolean }[]>`
      SELECT rolname, rolsuper, rolcanlogin FROM pg_roles WHERE rolname IN (${WORKER}, ${API})
      ORDER BY rolname`;
    expect(roles).toEqual([
      { rolname: API, rolsuper: false, rolcanlogin: true },
      { rolname: WORKER, rolsuper: false, rolcanlogin: true },
    ]);
  });

  it('grants on every table the migrations create, and only on those', async () => {
    const rows = await admin.sql<{ table_name: string }[]>`
      SELECT table_name FROM information_schema.tables
      WHERE table_schema = current_schema() ORDER BY table_name`;
    // A new table added by a migration but not listed in STORE_TABLES fails here.
    expect(rows.map((r) => r.table_name)).toEqual([...GRANTED_TABLES, MIGRATIONS_TABLE].sort());
  });

  it('copilot_api reads every table and cannot INSERT, UPDATE, DELETE or create anything', async () => {
    await ensureCluster(admin.sql, 'roles-test');
    const api = await as(API);
    for (const table of [...GRANTED_TABLES, MIGRATIONS_TABLE])
      expect(await outcome(() => api.sql`SELECT count(*) FROM ${api.sql(table)}`)).toBe('ok');
    const [who] = await api.sql<{ user: string }[]>`SELECT current_user AS user`;
    expect(who?.user).toBe(API);
    const attempts = {
      insert: await outcome(
        () =>
          api.sql`INSERT INTO clusters (id, name, created_at)
            VALUES ('00000000-0000-4000-8000-000000000001', 'x', now())`,
      ),
      update: await outcome(() => api.sql`UPDATE clusters SET name = name`),
      delete: await outcome(() => api.sql`DELETE FROM clusters`),
      ensureCluster: await outcome(() => ensureCluster(api.sql, 'from-api')),
      retention: await outcome(() =>
        deleteOlderThan(api.sql, 'evaluations', { before: new Date() }),
      ),
      migrationsRecord: await outcome(
        () =>
          api.sql`INSERT INTO schema_migrations (version, name, checksum) VALUES (999, 'x', 'x')`,
      ),
      createTable: await outcome(() => api.sql`CREATE TABLE api_was_here (id int)`),
    };
    // 42501: insufficient_privilege, every time.
    expect(attempts).toEqual({
      insert: '42501',
      update: '42501',
      delete: '42501',
      ensureCluster: '42501',
      retention: '42501',
      migrationsRecord: '42501',
      createTable: '42501',
    });
    const [count] = await admin.sql<{ n: string }[]>`SELECT count(*) AS n FROM clusters`;
    expect(Number(count?.n)).toBe(1);
  });

  it('copilot_worker can INSERT, UPDATE and DELETE, but cannot change the schema', async () => {
    const worker = await as(WORKER);
    const cluster = await ensureCluster(worker.sql, 'written-by-worker');
    expect(cluster.name).toBe('written-by-worker');
    expect(
      await outcome(
        () => worker.sql`UPDATE clusters SET name = 'renamed' WHERE id = ${cluster.id}`,
      ),
    ).toBe('ok');
    expect(
      await outcome(() => deleteOlderThan(worker.sql, 'evaluations', { before: new Date() })),
    ).toBe('ok');
    expect(await outcome(() => worker.sql`DELETE FROM clusters WHERE id = ${cluster.id}`)).toBe(
      'ok',
    );
    expect(await outcome(() => worker.sql`CREATE TABLE worker_was_here (id int)`)).toBe('42501');
    expect(await outcome(() => worker.sql`DELETE FROM schema_migrations`)).toBe('42501');
  });

  it('the worker opens the store as copilot_worker and migrates it as it does at start-up', async () => {
    // worker/runtime.ts opens its store with { migrate: true }: on an up-to-date schema that must
    // need no DDL right (CREATE TABLE IF NOT EXISTS alone needs CREATE on the schema).
    const handle = await openStoreTarget(
      { dialect: 'postgres', url: urlAs(pg.url, WORKER), max: 1 },
      { migrate: true },
    );
    try {
      const [who] = await handle.store.sql<{ user: string }[]>`SELECT current_user AS user`;
      expect(who?.user).toBe(WORKER);
    } finally {
      await handle.close();
    }
  });

  it('takes back a privilege a role should not hold', async () => {
    await admin.sql.unsafe(`GRANT INSERT ON clusters TO ${API}`);
    const api = await as(API);
    const insert = () =>
      api.sql`INSERT INTO clusters (id, name, created_at)
        VALUES ('00000000-0000-4000-8000-000000000002', 'sneaky', now())
        ON CONFLICT (id) DO NOTHING`;
    expect(await outcome(insert)).toBe('ok');
    await setupRoles(admin.sql, 'postgres');
    expect(await outcome(insert)).toBe('42501');
  });

  it('fails clearly on PGlite, on IAM mappings outside DSQL and on a malformed ARN', async () => {
    await expect(setupRoles(admin.sql, 'pglite')).rejects.toThrow(/PostgreSQL or Aurora DSQL/);
    await expect(
      setupRoles(admin.sql, 'postgres', { worker: ['arn:aws:iam::111111111111:role/w'] }),
    ).rejects.toThrow(/only on Aurora DSQL/);
    await expect(
      setupRoles(admin.sql, 'dsql', { api: ["x'; DROP ROLE admin; --"] }),
    ).rejects.toThrow(/not an IAM role or user ARN/);
  });

  it('drops both roles and keeps the tables and their rows; a second drop does nothing', async () => {
    const before = await admin.sql<{ n: string }[]>`SELECT count(*) AS n FROM clusters`;
    expect(await dropRoles(admin.sql, 'postgres')).toEqual([WORKER, API]);
    const roles = await admin.sql`SELECT 1 FROM pg_roles WHERE rolname IN (${WORKER}, ${API})`;
    expect(roles).toHaveLength(0);
    const after = await admin.sql<{ n: string }[]>`SELECT count(*) AS n FROM clusters`;
    expect(after).toEqual(before);
    expect(await dropRoles(admin.sql, 'postgres')).toEqual([]);
  });
});

/**
 * DSQL's IAM mapping, stood in for on PostgreSQL: a `sys.iam_pg_role_mappings` table, and the two
 * `AWS IAM` statements (which PostgreSQL cannot parse) turned into an insert and a delete on it.
 * Everything else — CREATE ROLE, the grants, the reads of the mappings — runs as written.
 */
const dsqlOnPostgres = async (sql: Store['sql'], statement: string) => {
  const grant = /^AWS IAM GRANT (\w+) TO '([^']+)'$/.exec(statement);
  if (grant !== null)
    return sql`INSERT INTO sys.iam_pg_role_mappings (arn, pg_role_name) VALUES (${grant[2] ?? ''}, ${grant[1] ?? ''})`;
  const revoke = /^AWS IAM REVOKE (\w+) FROM '([^']+)'$/.exec(statement);
  if (revoke !== null)
    return sql`DELETE FROM sys.iam_pg_role_mappings WHERE pg_role_name = ${revoke[1] ?? ''} AND arn = ${revoke[2] ?? ''}`;
  return sql.begin((tx) => tx.unsafe(statement));
};

describe('copilot database roles with DSQL IAM mappings (stood in for on PostgreSQL)', () => {
  let pg: TestPostgres;
  let admin: Store;
  const worker1 = 'arn:aws:iam::123456789012:role/Copilot-WorkerTaskRole-1';
  const worker2 = 'arn:aws:iam::123456789012:role/Copilot-WorkerTaskRole-2';
  const api = 'arn:aws:iam::123456789012:role/Copilot-ApiHandlerRole-1';
  const mappings = async () =>
    admin.sql<{ pg_role_name: string; arn: string }[]>`
      SELECT pg_role_name, arn FROM sys.iam_pg_role_mappings ORDER BY pg_role_name, arn`;

  beforeAll(async () => {
    pg = await startTestPostgres();
    admin = await openStore({ dialect: 'postgres', url: pg.url, max: 2 });
    await setupSchema({ dialect: 'postgres', url: pg.url });
    await admin.sql`CREATE SCHEMA sys`;
    await admin.sql`CREATE TABLE sys.iam_pg_role_mappings (arn TEXT NOT NULL, pg_role_name TEXT NOT NULL)`;
  });
  afterAll(async () => {
    await admin?.close();
    await pg?.stop();
  });

  it('maps each role to its IAM roles, once', async () => {
    const first = await setupRoles(
      admin.sql,
      'dsql',
      { worker: [worker1], api: [api] },
      { execute: dsqlOnPostgres },
    );
    expect(first).toEqual({
      dialect: 'dsql',
      created: [WORKER, API],
      mapped: [`${WORKER}=${worker1}`, `${API}=${api}`],
      unmapped: [],
    });
    const again = await setupRoles(
      admin.sql,
      'dsql',
      { worker: [worker1], api: [api] },
      { execute: dsqlOnPostgres },
    );
    expect(again).toMatchObject({ created: [], mapped: [], unmapped: [] });
    expect(await mappings()).toEqual([
      { pg_role_name: API, arn: api },
      { pg_role_name: WORKER, arn: worker1 },
    ]);
  });

  it('moves a mapping to a replaced task role and revokes the old one', async () => {
    const report = await setupRoles(
      admin.sql,
      'dsql',
      { worker: [worker2], api: [api] },
      { execute: dsqlOnPostgres },
    );
    expect(report).toMatchObject({
      mapped: [`${WORKER}=${worker2}`],
      unmapped: [`${WORKER}=${worker1}`],
    });
    expect(await mappings()).toEqual([
      { pg_role_name: API, arn: api },
      { pg_role_name: WORKER, arn: worker2 },
    ]);
  });

  it('leaves the mappings of a role it was given no list for (setup-schema --roles by hand)', async () => {
    for (const bindings of [{}, { api: [api] }]) {
      const report = await setupRoles(admin.sql, 'dsql', bindings, { execute: dsqlOnPostgres });
      expect(report).toMatchObject({ mapped: [], unmapped: [] });
    }
    expect(await mappings()).toEqual([
      { pg_role_name: API, arn: api },
      { pg_role_name: WORKER, arn: worker2 },
    ]);
  });

  it('dropping the roles revokes their mappings first', async () => {
    expect(await dropRoles(admin.sql, 'dsql', { execute: dsqlOnPostgres })).toEqual([WORKER, API]);
    expect(await mappings()).toEqual([]);
  });
});

describe('role statements', () => {
  const arn = 'arn:aws:iam::123456789012:role/TemporalSreCopilot-WorkerTaskRole-AbC123';

  it('maps an IAM role with AWS IAM GRANT and unmaps it with AWS IAM REVOKE (DSQL syntax)', () => {
    expect(iamGrantStatement('worker', arn)).toBe(`AWS IAM GRANT copilot_worker TO '${arn}'`);
    expect(iamRevokeStatement('api', arn)).toBe(`AWS IAM REVOKE copilot_api FROM '${arn}'`);
    expect(createRoleStatement('api')).toBe('CREATE ROLE copilot_api WITH LOGIN');
  });

  it('accepts role and user ARNs in any partition and refuses anything that could escape the literal', () => {
    expect(checkIamPrincipalArn('arn:aws-us-gov:iam::123456789012:user/ops/alice')).toBe(
      'arn:aws-us-gov:iam::123456789012:user/ops/alice',
    );
    for (const bad of [
      "arn:aws:iam::123456789012:role/x'--",
      'arn:aws:iam::12345:role/x',
      'arn:aws:sts::123456789012:assumed-role/x/y',
      '',
    ])
      expect(() => checkIamPrincipalArn(bad)).toThrow(/not an IAM role or user ARN/);
  });

  it('gives the API SELECT only and revokes the writes; every statement is one DSQL-clean statement', () => {
    const api = grantStatements('api');
    expect(api).toContain(`GRANT SELECT ON ${GRANTED_TABLES.join(', ')} TO copilot_api`);
    expect(api).toContain(
      `REVOKE INSERT, UPDATE, DELETE ON ${GRANTED_TABLES.join(', ')} FROM copilot_api`,
    );
    const worker = grantStatements('worker');
    expect(worker).toContain(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ${GRANTED_TABLES.join(', ')} TO copilot_worker`,
    );
    for (const role of COPILOT_ROLE_KEYS)
      for (const statement of [createRoleStatement(role), ...grantStatements(role)])
        expect(lintDsqlStatement(statement, 'dsql'), statement).toEqual([]);
  });
});
