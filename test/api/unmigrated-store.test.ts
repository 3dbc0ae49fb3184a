import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toProblem } from '../../lambda/common/http-errors.js';
import { type LocalApi, startLocalApi } from '../../lambda/local-server.js';
import { ProblemSchema, StatusResponseSchema } from '../../shared/api/schemas.js';
import { openStore, type Store } from '../../shared/store/connection.js';
import { runMigrations } from '../../shared/store/migrations.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';

const quiet = new Logger({ serviceName: 'copilot-api-test', logLevel: 'SILENT' });

/**
 * A store that answers but was never set up (no `schema_migrations`, no `clusters`: SQLSTATE
 * 42P01 on every read) is an operator's missing step, not a server bug: 503 `degraded`, saying
 * what to run — never a 500.
 */
describe('the API over a PostgreSQL without the copilot schema', () => {
  // A bare PostgreSQL, a store on it and the API over that, in start order.
  const up: { pg?: TestPostgres; store?: Store; api?: LocalApi } = {};
  const api = () => up.api as LocalApi;
  beforeAll(async () => {
    up.pg = await startTestPostgres();
    up.store = await openStore({ dialect: 'postgres', url: up.pg.url, max: 2 });
    up.api = await startLocalApi({ store: up.store, port: 0, logger: quiet });
  });
  afterAll(async () => {
    await up.api?.close();
    await up.store?.close();
    await up.pg?.stop();
  });

  it('answers 503 degraded with the command to run, on every data route', async () => {
    for (const path of ['/status', '/status/timeline', '/status/issues', '/clusters']) {
      const res = await fetch(`${api().url}${path}`);
      expect(res.status, path).toBe(503);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(ProblemSchema.parse(await res.json())).toEqual({
        type: 'about:blank',
        title: 'State store not set up',
        status: 503,
        detail:
          'the state store has no copilot schema: run `copilot db setup-schema` against it ' +
          '(copilot dev and copilot worker set it up when they start)',
        degraded: true,
        health_state: 'unknown',
      });
    }
    // Routes that never read the store still answer.
    expect((await fetch(`${api().url}/openapi.json`)).status).toBe(200);
  });

  it('serves once the schema is set up: the 503 was the missing schema, nothing else', async () => {
    await runMigrations((up.store as Store).sql, 'postgres');
    const res = await fetch(`${api().url}/status`);
    expect(res.status).toBe(200);
    expect(StatusResponseSchema.parse(await res.json())).toMatchObject({
      cluster: 'local',
      timestamp: null,
    });
  });
});

describe('toProblem', () => {
  it('finds 42P01 under a wrapping error too', () => {
    const wrapped = new Error('read failed', {
      cause: Object.assign(new Error('relation "clusters" does not exist'), { code: '42P01' }),
    });
    expect(toProblem(wrapped).statusCode).toBe(503);
    // Another SQL error stays a generic 500: only the missing schema has a step to run.
    const syntax = Object.assign(new Error('syntax error'), { code: '42601' });
    expect(toProblem(syntax).statusCode).toBe(500);
  });
});
