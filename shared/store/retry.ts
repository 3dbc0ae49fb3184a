import { setTimeout as delay } from 'node:timers/promises';
import type { Sql, TransactionSql } from 'postgres';
import {
  CONNECTION_DROPPED_CODES,
  describeError,
  errorCode,
  RetryExhaustedError,
} from './errors.js';

/** How a retried transaction backs off. */
export interface RetryOptions {
  /**
   * Attempts in all, the first included.
   * @default 6
   */
  readonly maxAttempts?: number;
  /**
   * Backoff base: attempt n (1-based) waits up to `baseDelayMs × 2^(n-1)`.
   * @default 25
   */
  readonly baseDelayMs?: number;
  /**
   * Cap on one wait.
   * @default 2000
   */
  readonly maxDelayMs?: number;
  /** Which errors are worth another attempt. @default isRetryableError */
  readonly isRetryable?: (error: unknown) => boolean;
  /** Called before each wait, e.g. to log or count. */
  readonly onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  /** Source of jitter in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** How to wait. @default timers/promises setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** SQLSTATEs worth retrying: serialization failure (DSQL OCC reports 40001 too) and deadlock. */
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

/**
 * Whether an error is a transient conflict or connection drop that a whole-transaction retry can
 * cure: SQLSTATE 40001/40P01, DSQL's OCC codes (OC000 data conflict, OC001 schema changed) which
 * arrive in the message, or a dropped connection ({@link CONNECTION_DROPPED_CODES}; retrying is
 * safe only because every write is idempotent).
 */
export function isRetryableError(error: unknown): boolean {
  const code = errorCode(error);
  if (code !== undefined && (RETRYABLE_SQLSTATES.has(code) || CONNECTION_DROPPED_CODES.has(code)))
    return true;
  const message = error instanceof Error ? error.message : '';
  return /\bOC00[01]\b/.test(message);
}

/**
 * "Full jitter" backoff (AWS Architecture Blog, Exponential Backoff and Jitter): a uniform wait in
 * [0, min(cap, base × 2^(attempt-1))). Full jitter spreads competing writers apart, which is what
 * ends an OCC conflict; equal waits would collide again.
 */
export function backoffDelay(
  attempt: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number,
): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

function checkOptions(maxAttempts: number, baseDelayMs: number, maxDelayMs: number): void {
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
    throw new RangeError(`maxAttempts must be an integer >= 1, got ${maxAttempts}`);
  if (!(baseDelayMs >= 0) || !(maxDelayMs >= 0))
    throw new RangeError(`delays must be >= 0, got base ${baseDelayMs} cap ${maxDelayMs}`);
}

/**
 * Runs `fn` until it succeeds, retrying retryable errors with bounded exponential backoff and full
 * jitter. A non-retryable error is rethrown as is; when the budget runs out, a
 * {@link RetryExhaustedError} carries the last error as `cause`.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 6;
  const baseDelayMs = options.baseDelayMs ?? 25;
  const maxDelayMs = options.maxDelayMs ?? 2_000;
  checkOptions(maxAttempts, baseDelayMs, maxDelayMs);
  const retryable = options.isRetryable ?? isRetryableError;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (!retryable(error)) throw error;
      if (attempt >= maxAttempts) {
        throw new RetryExhaustedError(
          `gave up after ${attempt} attempts: ${describeError(error)}`,
          attempt,
          { cause: error },
        );
      }
      const delayMs = backoffDelay(attempt, baseDelayMs, maxDelayMs, random);
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs);
    }
  }
}

/**
 * One transaction, retried as a whole on OCC conflicts. `fn` must do all its work on `tx` (never
 * on the pool: on PGlite that deadlocks) and must be safe to run more than once, which our
 * deterministic ids and `ON CONFLICT DO NOTHING` make it.
 *
 * @param begin Optional `BEGIN` options such as `'isolation level serializable'`; DSQL has one
 *   fixed isolation level, so production code leaves it out.
 */
export function transaction<T>(
  sql: Sql,
  fn: (tx: TransactionSql, attempt: number) => Promise<T>,
  options: RetryOptions & { readonly begin?: string } = {},
): Promise<T> {
  return withRetry(async (attempt) => {
    const run = (tx: TransactionSql) => fn(tx, attempt);
    const result =
      options.begin === undefined ? await sql.begin(run) : await sql.begin(options.begin, run);
    return result as T;
  }, options);
}
