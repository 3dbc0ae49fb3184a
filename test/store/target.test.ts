import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../bin/cli-support.js';
import { resolveDbTarget } from '../../bin/commands/db.js';
import { ConfigurationError } from '../../shared/errors.js';
import {
  EmbeddedStoreMissingError,
  locateEmbeddedStore,
  openAnyStoreTarget,
} from '../../shared/store/embedded.js';
import { StoreConfigError } from '../../shared/store/errors.js';
import { LATEST_SCHEMA_VERSION } from '../../shared/store/migrations.js';
import {
  describeStoreTarget,
  EmbeddedStoreUnavailableError,
  openStoreTarget,
  storeTargetFromEnv,
} from '../../shared/store/target.js';
import { loadWorkerSettings } from '../../worker/config.js';

const URL = 'postgres://copilot:secret@db.example:5432/copilot';
const ENDPOINT = 'abcdefghijklmnopqrstuvwxyz.dsql.eu-west-1.on.aws';

describe('storeTargetFromEnv', () => {
  it('names no store when no variable is set, or only blank ones', () => {
    expect(storeTargetFromEnv({})).toBeUndefined();
    expect(
      storeTargetFromEnv({
        COPILOT_DATABASE_URL: '',
        COPILOT_DSQL_ENDPOINT: '  ',
        COPILOT_DATA_DIR: '',
        COPILOT_DSQL_USER: 'reader',
        AWS_REGION: 'eu-west-1',
      }),
    ).toBeUndefined();
  });

  it('reads COPILOT_DATABASE_URL as PostgreSQL, ignoring the DSQL-only variables', () => {
    expect(
      storeTargetFromEnv({
        COPILOT_DATABASE_URL: ` ${URL} `,
        COPILOT_DSQL_USER: 'reader',
        AWS_REGION: 'eu-west-1',
        COPILOT_DATA_DIR: '/var/data',
      }),
    ).toEqual({ dialect: 'postgres', url: URL });
  });

  it('reads COPILOT_DSQL_ENDPOINT as DSQL as admin, with no region unless AWS_REGION is set', () => {
    expect(storeTargetFromEnv({ COPILOT_DSQL_ENDPOINT: ENDPOINT })).toEqual({
      dialect: 'dsql',
      endpoint: ENDPOINT,
      user: 'admin',
    });
    expect(
      storeTargetFromEnv({ COPILOT_DSQL_ENDPOINT: ENDPOINT, AWS_REGION: 'us-east-1' }),
    ).toEqual({ dialect: 'dsql', endpoint: ENDPOINT, user: 'admin', region: 'us-east-1' });
  });

  it('honours COPILOT_DSQL_USER, and a blank one means admin', () => {
    expect(
      storeTargetFromEnv({
        COPILOT_DSQL_ENDPOINT: ENDPOINT,
        COPILOT_DSQL_USER: 'copilot_reader',
        AWS_REGION: 'eu-west-1',
      }),
    ).toEqual({ dialect: 'dsql', endpoint: ENDPOINT, user: 'copilot_reader', region: 'eu-west-1' });
    expect(storeTargetFromEnv({ COPILOT_DSQL_ENDPOINT: ENDPOINT, COPILOT_DSQL_USER: ' ' })).toEqual(
      { dialect: 'dsql', endpoint: ENDPOINT, user: 'admin' },
    );
  });

  it('falls back to the embedded store in COPILOT_DATA_DIR, behind either other store', () => {
    expect(storeTargetFromEnv({ COPILOT_DATA_DIR: '.copilot/data' })).toEqual({
      dialect: 'embedded',
      dataDir: '.copilot/data',
    });
    expect(
      storeTargetFromEnv({ COPILOT_DSQL_ENDPOINT: ENDPOINT, COPILOT_DATA_DIR: '/d' }),
    ).toMatchObject({ dialect: 'dsql' });
  });

  it('refuses both COPILOT_DATABASE_URL and COPILOT_DSQL_ENDPOINT rather than picking one', () => {
    const both = { COPILOT_DATABASE_URL: URL, COPILOT_DSQL_ENDPOINT: ENDPOINT };
    expect(() => storeTargetFromEnv(both)).toThrow(StoreConfigError);
    expect(() => storeTargetFromEnv(both)).toThrow(
      'set only one of COPILOT_DATABASE_URL and COPILOT_DSQL_ENDPOINT',
    );
  });

  it('describes a target without its password', () => {
    expect(describeStoreTarget({ dialect: 'postgres', url: URL })).toBe(
      'postgres://copilot:***@db.example:5432/copilot',
    );
    expect(describeStoreTarget({ dialect: 'dsql', endpoint: ENDPOINT })).toBe(ENDPOINT);
    expect(describeStoreTarget({ dialect: 'embedded', dataDir: '/d' })).toBe(
      'embedded PGlite in /d',
    );
  });
});

describe('the processes that choose a store agree', () => {
  it('the worker reads the same target, DSQL user included, and a conflict as ConfigError', () => {
    const s = loadWorkerSettings({
      COPILOT_DSQL_ENDPOINT: ENDPOINT,
      COPILOT_DSQL_USER: 'copilot_writer',
      AWS_REGION: 'eu-west-1',
    });
    expect(s.storeTarget).toEqual({
      dialect: 'dsql',
      endpoint: ENDPOINT,
      user: 'copilot_writer',
      region: 'eu-west-1',
    });
    expect(loadWorkerSettings({}).storeTarget).toEqual({
      dialect: 'embedded',
      dataDir: '.copilot/data',
    });
    expect(() =>
      loadWorkerSettings({ COPILOT_DATABASE_URL: URL, COPILOT_DSQL_ENDPOINT: ENDPOINT }),
    ).toThrow(ConfigurationError);
  });

  it('`copilot db` and `copilot api` honour COPILOT_DSQL_USER; --user and --region win', () => {
    const env = { COPILOT_DSQL_ENDPOINT: ENDPOINT, COPILOT_DSQL_USER: 'copilot_reader' };
    expect(resolveDbTarget({ dialect: 'postgres' }, env)).toEqual({
      dialect: 'dsql',
      endpoint: ENDPOINT,
      user: 'copilot_reader',
    });
    expect(
      resolveDbTarget({ dialect: 'postgres', dsqlEndpoint: ENDPOINT }, { COPILOT_DSQL_USER: 'r' }),
    ).toEqual({ dialect: 'dsql', endpoint: ENDPOINT, user: 'r' });
    expect(
      resolveDbTarget({ dialect: 'postgres', user: 'admin', region: 'us-east-1' }, env),
    ).toEqual({ dialect: 'dsql', endpoint: ENDPOINT, user: 'admin', region: 'us-east-1' });
  });

  it('`copilot db`: a flag replaces the environment, which names a store only when unambiguous', () => {
    const both = { COPILOT_DATABASE_URL: URL, COPILOT_DSQL_ENDPOINT: ENDPOINT };
    expect(resolveDbTarget({ dialect: 'postgres', databaseUrl: 'postgres://x/y' }, both)).toEqual({
      dialect: 'postgres',
      url: 'postgres://x/y',
    });
    expect(resolveDbTarget({ dialect: 'postgres', dsqlEndpoint: ENDPOINT }, both)).toMatchObject({
      dialect: 'dsql',
    });
    expect(resolveDbTarget({ dialect: 'pglite', dataDir: '/d' }, both)).toEqual({
      dialect: 'embedded',
      dataDir: '/d',
    });
    expect(resolveDbTarget({ dialect: 'pglite' }, { COPILOT_DATABASE_URL: URL })).toEqual({
      dialect: 'pglite',
      url: URL,
    });
    expect(resolveDbTarget({ dialect: 'postgres' }, { COPILOT_DATA_DIR: '/d' })).toEqual({
      dialect: 'embedded',
      dataDir: '/d',
    });
    const conflict = (() => {
      try {
        return resolveDbTarget({ dialect: 'postgres' }, both);
      } catch (error) {
        return error;
      }
    })();
    expect(conflict).toBeInstanceOf(CliError);
    expect((conflict as CliError).message).toMatch(
      /^set only one of COPILOT_DATABASE_URL and COPILOT_DSQL_ENDPOINT/,
    );
    expect(() => resolveDbTarget({ dialect: 'postgres' }, {})).toThrow(/^no database given/);
  });
});

describe('locateEmbeddedStore', () => {
  it('is the directory itself, or X/data when only that holds a store (the old dev layout)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'copilot-locate-'));
    try {
      expect(locateEmbeddedStore(join(dir, 'x'))).toEqual({
        dataDir: join(dir, 'x'),
        exists: false,
      });
      mkdirSync(join(dir, 'x', 'data'), { recursive: true });
      writeFileSync(join(dir, 'x', 'data', 'PG_VERSION'), '18\n');
      expect(locateEmbeddedStore(join(dir, 'x'))).toEqual({
        dataDir: join(dir, 'x', 'data'),
        exists: true,
        namedParent: join(dir, 'x'),
      });
      expect(locateEmbeddedStore(join(dir, 'x', 'data'))).toEqual({
        dataDir: join(dir, 'x', 'data'),
        exists: true,
      });
      // A store in X itself wins over one below it.
      writeFileSync(join(dir, 'x', 'PG_VERSION'), '18\n');
      expect(locateEmbeddedStore(join(dir, 'x'))).toEqual({
        dataDir: join(dir, 'x'),
        exists: true,
      });
      expect(locateEmbeddedStore('memory://')).toEqual({ dataDir: 'memory://', exists: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('openAnyStoreTarget', () => {
  it('starts an embedded store, migrates it on request, and closes both', async () => {
    const handle = await openAnyStoreTarget(
      { dialect: 'embedded', dataDir: 'memory://' },
      { migrate: true },
    );
    try {
      expect(handle.describe).toBe('embedded PGlite in memory://');
      expect(handle.store.dialect).toBe('pglite');
      const [row] = await handle.store.sql<{ version: number }[]>`
        select max(version)::int as version from schema_migrations`;
      expect(row?.version).toBe(LATEST_SCHEMA_VERSION);
    } finally {
      await handle.close();
    }
  });

  it('creates a missing embedded store only for a caller that migrates, or says create', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'copilot-target-'));
    try {
      const store = join(dir, 'store');
      const missing = await openAnyStoreTarget({ dialect: 'embedded', dataDir: store }).catch(
        (e: unknown) => e,
      );
      expect(missing).toBeInstanceOf(EmbeddedStoreMissingError);
      expect(missing).toBeInstanceOf(ConfigurationError);
      expect(existsSync(store)).toBe(false);
      await expect(
        openAnyStoreTarget(
          { dialect: 'embedded', dataDir: store },
          { migrate: true, create: false },
        ),
      ).rejects.toThrow(EmbeddedStoreMissingError);
      const created = await openAnyStoreTarget(
        { dialect: 'embedded', dataDir: store },
        { migrate: true },
      );
      await created.close();
      expect(created.describe).toBe(`embedded PGlite in ${store}`);
      // Now it exists, a reader opens it (and the schema is there).
      const read = await openAnyStoreTarget({ dialect: 'embedded', dataDir: store });
      try {
        expect(read.note).toBeUndefined();
        const [row] = await read.store.sql<
          { n: number }[]
        >`select count(*)::int as n from clusters`;
        expect(row?.n).toBe(0);
      } finally {
        await read.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects an unusable target with StoreConfigError', async () => {
    await expect(openAnyStoreTarget({ dialect: 'postgres', url: 'not a url' })).rejects.toThrow(
      StoreConfigError,
    );
  });
});

describe('openStoreTarget (server stores only: the worker image and the Lambda)', () => {
  it('refuses an embedded target with a message naming the server variables, creating nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'copilot-target-'));
    try {
      const store = join(dir, 'store');
      const error = await openStoreTarget(
        { dialect: 'embedded', dataDir: store },
        { migrate: true },
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EmbeddedStoreUnavailableError);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toContain(
        'set COPILOT_DATABASE_URL or COPILOT_DSQL_ENDPOINT',
      );
      expect(existsSync(store)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects an unusable server target with StoreConfigError', async () => {
    await expect(openStoreTarget({ dialect: 'postgres', url: 'not a url' })).rejects.toThrow(
      StoreConfigError,
    );
  });
});
