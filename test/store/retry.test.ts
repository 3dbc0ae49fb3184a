import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../shared/store/connection.js';
import { errorCode, RetryExhaustedError } from '../../shared/store/errors.js';
import {
  backoffDelay,
  isRetryableError,
  transaction,
  withRetry,
} from '../../shared/store/retry.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';

const pgError = (code: string, message = 'boom') => Object.assign(new Error(message), { code });

describe('isRetryableError', () => {
  it('retries serialization failures, DSQL OCC codes and dropped connections', () => {
    expect(isRetryableError(pgError('40001'))).toBe(true);
    expect(isRetryableError(pgError('40P01'))).toBe(true);
    expect(
      isRetryableError(
        new Error('change conflicts with another transaction, please retry: (OC000)'),
      ),
    ).toBe(true);
    expect(
      isRetryableError(
        new Error('schema has been updated by another transaction, please retry: (OC001)'),
      ),
    ).toBe(true);
    expect(isRetryableError(pgError('CONNECTION_CLOSED'))).toBe(true);
  });

  it('does not retry what another attempt cannot fix', () => {
    expect(isRetryableError(pgError('23505'))).toBe(false);
    expect(isRetryableError(pgError('42601'))).toBe(false);
    expect(isRetryableError(pgError('54000', 'transaction age limit of 300s exceeded'))).toBe(
      false,
    );
    expect(isRetryableError(new Error('OC0001 is not an OCC code'))).toBe(false);
    expect(isRetryableError('40001')).toBe(false);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, with full jitter below the ceiling', () => {
    const top = () => 0.999_999;
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, 25, 1_000, top))).toEqual([
      24, 49, 99, 199, 399, 799, 999,
    ]);
    expect(backoffDelay(5, 25, 1_000, () => 0)).toBe(0);
    expect(backoffDelay(3, 25, 1_000, () => 0.5)).toBe(50);
  });
});

describe('withRetry', () => {
  it('gives up after the budget with the last error as cause, and waits between attempts', async () => {
    const waits: number[] = [];
    let calls = 0;
    const failing = withRetry(
      async () => {
        calls++;
        throw pgError('40001', 'could not serialize access');
      },
      {
        maxAttempts: 4,
        baseDelayMs: 10,
        random: () => 0.5,
        sleep: async (ms) => void waits.push(ms),
      },
    );
    const error = await failing.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryExhaustedError);
    expect((error as RetryExhaustedError).attempts).toBe(4);
    expect((error as Error).message).toBe(
      'gave up after 4 attempts: could not serialize access (40001)',
    );
    expect(errorCode((error as Error).cause)).toBe('40001');
    expect(calls).toBe(4);
    expect(waits).toEqual([5, 10, 20]);
  });

  it('rethrows a non-retryable error at once', async () => {
    let calls = 0;
    const error = await withRetry(async () => {
      calls++;
      throw pgError('23505');
    }).catch((e: unknown) => e);
    expect(errorCode(error)).toBe('23505');
    expect(calls).toBe(1);
  });

  it('refuses a budget of no attempts', async () => {
    await expect(withRetry(async () => 1, { maxAttempts: 0 })).rejects.toThrow(/maxAttempts/);
  });
});

/**
 * Real OCC conflicts: PostgreSQL raises SQLSTATE 40001 when two SERIALIZABLE (or REPEATABLE READ)
 * transactions update the same row, which is the error DSQL raises at commit.
 */
describe('transaction retries on PostgreSQL serialization failures', () => {
  let pg: TestPostgres;
  let store: Store;
  let other: postgres.Sql;

  beforeAll(async () => {
    pg = await startTestPostgres();
    store = await openStore({ dialect: 'postgres', url: pg.url, max: 4 });
    // A separate client plays the concurrent writer, so it never waits for our pool.
    other = postgres(pg.url, { max: 2, onnotice: () => {} });
    await store.sql`CREATE TABLE counters (id TEXT PRIMARY KEY, n INTEGER NOT NULL)`;
  });
  afterAll(async () => {
    await other?.end();
    await store?.close();
    await pg?.stop();
  });

  const reset = (id: string) =>
    store.sql`INSERT INTO counters (id, n) VALUES (${id}, 0) ON CONFLICT (id) DO UPDATE SET n = 0`;

  it('retries the whole transaction after a real 40001 and then commits once', async () => {
    await reset('a');
    const seen: unknown[] = [];
    const attempts = await transaction(
      store.sql,
      async (tx, attempt) => {
        const [row] = await tx<{ n: number }[]>`SELECT n FROM counters WHERE id = 'a'`;
        // On the first attempt only, another writer commits to the row after our snapshot.
        if (attempt === 1) await other`UPDATE counters SET n = n + 100 WHERE id = 'a'`;
        await tx`UPDATE counters SET n = ${(row?.n ?? 0) + 1} WHERE id = 'a'`;
        return attempt;
      },
      {
        begin: 'isolation level serializable',
        baseDelayMs: 1,
        onRetry: ({ error }) => seen.push(error),
      },
    );
    expect(attempts).toBe(2);
    expect(seen.map(errorCode)).toEqual(['40001']);
    const [row] = await store.sql<{ n: number }[]>`SELECT n FROM counters WHERE id = 'a'`;
    // Our increment was applied on top of the other writer's, not over it.
    expect(row?.n).toBe(101);
  });

  it('turns concurrent read-modify-write transactions into serial increments', async () => {
    await reset('b');
    let retries = 0;
    let arrived = 0;
    let release: () => void = () => {};
    const barrier = new Promise<void>((resolve) => {
      release = resolve;
    });
    const increment = () =>
      transaction(
        store.sql,
        async (tx, attempt) => {
          const [row] = await tx<{ n: number }[]>`SELECT n FROM counters WHERE id = 'b'`;
          if (attempt === 1) {
            // Both first attempts read before either writes: one of them must lose.
            arrived++;
            if (arrived === 2) release();
            await barrier;
          }
          await tx`UPDATE counters SET n = ${(row?.n ?? 0) + 1} WHERE id = 'b'`;
        },
        { begin: 'isolation level serializable', baseDelayMs: 1, onRetry: () => void retries++ },
      );
    await Promise.all([increment(), increment()]);
    const [row] = await store.sql<{ n: number }[]>`SELECT n FROM counters WHERE id = 'b'`;
    expect(row?.n).toBe(2);
    expect(retries).toBe(1);
  });

  it('gives up after the retry budget when every attempt conflicts, leaving the row as the winners left it', async () => {
    await reset('c');
    const error = await transaction(
      store.sql,
      async (tx) => {
        await tx`SELECT n FROM counters WHERE id = 'c'`;
        await other`UPDATE counters SET n = n + 1 WHERE id = 'c'`;
        await tx`UPDATE counters SET n = -1 WHERE id = 'c'`;
      },
      { begin: 'isolation level serializable', maxAttempts: 3, baseDelayMs: 1 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryExhaustedError);
    expect((error as RetryExhaustedError).attempts).toBe(3);
    expect(errorCode((error as Error).cause)).toBe('40001');
    expect((error as Error).message).toMatch(
      /^gave up after 3 attempts: could not serialize access/,
    );
    const [row] = await store.sql<{ n: number }[]>`SELECT n FROM counters WHERE id = 'c'`;
    expect(row?.n).toBe(3);
  });
});
