import type { CdkCustomResourceEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSchemaSetupHandler,
  type SchemaSetupDependencies,
} from '../../lambda/schema-setup.js';
import { openStore, type Store } from '../../shared/store/connection.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from '../../shared/store/migrations.js';
import { COPILOT_ROLES } from '../../shared/store/roles.js';
import { freePort } from '../../worker/free-port.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';

const WORKER_ARN = 'arn:aws:iam::123456789012:role/TemporalSreCopilot-WorkerTaskRole-1';
const API_ARN = 'arn:aws:iam::123456789012:role/TemporalSreCopilot-ApiHandlerRole-1';
const ENDPOINT = 'abcdefghijklmnopqrstuvwxyz.dsql.eu-west-1.on.aws';

const properties = {
  ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
  Endpoint: ENDPOINT,
  WorkerRoleArns: [WORKER_ARN],
  ApiRoleArns: [API_ARN],
  Fingerprint: 'f1',
};

/** A CloudFormation event as the Provider framework hands it to `onEvent`. */
function event(
  requestType: 'Create' | 'Update' | 'Delete',
  extra: Record<string, unknown> = {},
): CdkCustomResourceEvent {
  return {
    RequestType: requestType,
    ServiceToken: properties.ServiceToken,
    ResponseURL: 'https://cloudformation-custom-resource-response.example/x',
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/TemporalSreCopilot/1',
    RequestId: 'req-1',
    LogicalResourceId: 'SchemaSetup',
    ResourceType: 'Custom::CopilotSchema',
    ResourceProperties: { ...properties, ...extra },
    ...(requestType === 'Create'
      ? {}
      : {
          PhysicalResourceId: `copilot-schema:${ENDPOINT}`,
          OldResourceProperties: properties,
        }),
  } as CdkCustomResourceEvent;
}

const quiet = { info: () => {}, warn: () => {} };

/** Undoes the newest migration (its DDL and its record): the database is one migration behind. */
async function undoLatestMigration(sql: Store['sql']): Promise<number> {
  const latest = MIGRATIONS[MIGRATIONS.length - 1];
  if (latest === undefined || latest.statement === undefined)
    throw new Error('the newest migration is a data migration: teach this helper to undo it');
  const ddl = latest.statement('postgres');
  const column = /ALTER TABLE (\w+) ADD COLUMN IF NOT EXISTS (\w+)/.exec(ddl);
  const index = /CREATE INDEX IF NOT EXISTS (\w+)/.exec(ddl);
  const table = /CREATE TABLE IF NOT EXISTS (\w+)/.exec(ddl);
  if (column) await sql.unsafe(`ALTER TABLE ${column[1]} DROP COLUMN ${column[2]}`);
  else if (index) await sql.unsafe(`DROP INDEX ${index[1]}`);
  else if (table) await sql.unsafe(`DROP TABLE ${table[1]}`);
  else throw new Error(`cannot undo migration ${latest.version}: ${ddl}`);
  await sql`DELETE FROM schema_migrations WHERE version = ${latest.version}`;
  return latest.version;
}

describe('schema setup custom resource handler against PostgreSQL', () => {
  let pg: TestPostgres;
  let admin: Store;
  const opened: Store[] = [];
  const roleUrl = (user: string) => {
    const u = new URL(pg.url);
    u.username = user;
    return u.toString();
  };
  const as = async (user: string) => {
    const s = await openStore({ dialect: 'postgres', url: roleUrl(user), max: 1 });
    opened.push(s);
    return s;
  };
  // The handler as deployed, except that it opens this PostgreSQL instead of DSQL as admin.
  const deps: SchemaSetupDependencies = {
    open: () => openStore({ dialect: 'postgres', url: pg.url, max: 1 }),
    logger: quiet,
  };
  const handler = () => createSchemaSetupHandler(deps);
  const canWrite = async (store: Store) => {
    try {
      await store.sql`DELETE FROM clusters WHERE name = 'nobody'`;
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === '42501') return false;
      throw error;
    }
  };

  beforeAll(async () => {
    pg = await startTestPostgres();
    admin = await openStore({ dialect: 'postgres', url: pg.url, max: 1 });
  });
  afterAll(async () => {
    for (const s of opened) await s.close();
    await admin?.close();
    await pg?.stop();
  });

  it('Create applies every migration and creates both roles with their grants', async () => {
    const result = await handler()(event('Create'));
    expect(result.PhysicalResourceId).toBe(`copilot-schema:${ENDPOINT}`);
    expect(result.Data).toEqual({
      SchemaVersion: String(LATEST_SCHEMA_VERSION),
      AppliedMigrations: MIGRATIONS.map((m) => m.version).join(','),
      CreatedRoles: `${COPILOT_ROLES.worker.name},${COPILOT_ROLES.api.name}`,
      // IAM mappings are DSQL's: on PostgreSQL none is made.
      MappedPrincipals: '',
      UnmappedPrincipals: '',
    });
    expect(await canWrite(await as(COPILOT_ROLES.worker.name))).toBe(true);
    expect(await canWrite(await as(COPILOT_ROLES.api.name))).toBe(false);
  });

  it('Update applies a migration the database lacks, and the roles keep their grants', async () => {
    const version = await undoLatestMigration(admin.sql);
    const result = await handler()(event('Update', { Fingerprint: 'f2' }));
    expect(result.Data).toMatchObject({ AppliedMigrations: String(version), CreatedRoles: '' });
    const [row] = await admin.sql<{ n: string }[]>`
      SELECT count(*) AS n FROM schema_migrations WHERE version = ${version}`;
    expect(Number(row?.n)).toBe(1);
    expect(await canWrite(await as(COPILOT_ROLES.worker.name))).toBe(true);
    expect(await canWrite(await as(COPILOT_ROLES.api.name))).toBe(false);
  });

  it('Update with nothing to do changes nothing', async () => {
    const result = await handler()(event('Update'));
    expect(result.Data).toMatchObject({ AppliedMigrations: '', CreatedRoles: '' });
  });

  it('Delete drops the roles and keeps the tables with their rows', async () => {
    await admin.sql`INSERT INTO clusters (id, name, created_at)
      VALUES ('00000000-0000-4000-8000-0000000000aa', 'kept', now())`;
    const result = await handler()(event('Delete'));
    expect(result.PhysicalResourceId).toBe(`copilot-schema:${ENDPOINT}`);
    const roles = await admin.sql`
      SELECT 1 FROM pg_roles WHERE rolname IN (${COPILOT_ROLES.worker.name}, ${COPILOT_ROLES.api.name})`;
    expect(roles).toHaveLength(0);
    const kept = await admin.sql`SELECT 1 FROM clusters WHERE name = 'kept'`;
    expect(kept).toHaveLength(1);
    await expect(as(COPILOT_ROLES.api.name).then((s) => s.sql`SELECT 1`)).rejects.toThrow(
      /copilot_api/,
    );
  });

  it('Create after a Delete brings the roles back', async () => {
    const result = await handler()(event('Create'));
    expect(result.Data).toMatchObject({ AppliedMigrations: '', CreatedRoles: expect.any(String) });
    expect(await canWrite(await as(COPILOT_ROLES.api.name))).toBe(false);
  });

  it('fails on bad properties, naming the property', async () => {
    await expect(handler()(event('Create', { Endpoint: '' }))).rejects.toThrow(
      /invalid schema setup properties: Endpoint/,
    );
    await expect(handler()(event('Create', { WorkerRoleArns: ['not-an-arn'] }))).rejects.toThrow(
      /WorkerRoleArns/,
    );
  });

  it('fails a Create on an unreachable store, but lets a Delete of a vanished store succeed', async () => {
    const port = await freePort();
    const gone: SchemaSetupDependencies = {
      open: () =>
        openStore({ dialect: 'postgres', url: `postgres://postgres@127.0.0.1:${port}/x`, max: 1 }),
      logger: quiet,
    };
    await expect(createSchemaSetupHandler(gone)(event('Create'))).rejects.toThrow();
    const deleted = await createSchemaSetupHandler(gone)(event('Delete'));
    expect(deleted.PhysicalResourceId).toBe(`copilot-schema:${ENDPOINT}`);
  });
});
