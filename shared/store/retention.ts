import type { Sql } from 'postgres';
import { StoreInputError } from './errors.js';
import { toDate } from './input.js';
import { BATCH, DSQL_LIMITS } from './limits.js';
import { type RetryOptions, transaction } from './retry.js';

/** Tables with time-based retention, and the column their age is read from. */
const RETAINED = { evaluations: 'observed_at', log_patterns: 'observed_at' } as const;
export type RetainedTable = keyof typeof RETAINED;

/** What a retention run did. */
export interface RetentionReport {
  readonly table: RetainedTable;
  readonly deleted: number;
  readonly batches: number;
}

/**
 * Deletes rows older than `before`, one bounded batch per transaction, until none is left. Each
 * batch stays under DSQL's 3,000-row / 10 MiB transaction limits (default 500 rows: a full
 * evaluation is a few KiB) and is retried on OCC conflicts; a crash mid-way loses nothing, the
 * next run continues.
 *
 * @param options.batchSize rows per transaction, 1..3,000.
 * @param options.maxBatches stop after this many batches (spread a large backlog over runs).
 */
export async function deleteOlderThan(
  sql: Sql,
  table: RetainedTable,
  options: {
    readonly before: Date | string | number;
    readonly batchSize?: number;
    readonly maxBatches?: number;
  },
  retry: RetryOptions = {},
): Promise<RetentionReport> {
  if (!Object.hasOwn(RETAINED, table))
    throw new StoreInputError(`no retention for table ${String(table)}`);
  const before = toDate(options.before, 'before');
  const batchSize = options.batchSize ?? BATCH.rows;
  if (
    !Number.isInteger(batchSize) ||
    batchSize < 1 ||
    batchSize > DSQL_LIMITS.maxRowsPerTransaction
  )
    throw new StoreInputError(
      `batchSize must be an integer between 1 and ${DSQL_LIMITS.maxRowsPerTransaction}, got ${batchSize}`,
    );
  const maxBatches = options.maxBatches ?? Number.POSITIVE_INFINITY;
  const column = RETAINED[table];
  let deleted = 0;
  let batches = 0;
  while (batches < maxBatches) {
    const count = await transaction(
      sql,
      async (tx) => {
        // The sub-select walks the time index, so each batch costs its own size, not the table's.
        const result = await tx`
          DELETE FROM ${tx(table)} WHERE id IN (
            SELECT id FROM ${tx(table)} WHERE ${tx(column)} < ${before} LIMIT ${batchSize})`;
        return result.count;
      },
      retry,
    );
    batches++;
    deleted += count;
    if (count < batchSize) break;
  }
  return { table, deleted, batches };
}

/** Deletes evaluations observed before `before`; see {@link deleteOlderThan}. */
export function deleteEvaluationsOlderThan(
  sql: Sql,
  options: {
    readonly before: Date | string | number;
    readonly batchSize?: number;
    readonly maxBatches?: number;
  },
  retry: RetryOptions = {},
): Promise<RetentionReport> {
  return deleteOlderThan(sql, 'evaluations', options, retry);
}

/** Deletes log-pattern rows observed before `before`; see {@link deleteOlderThan}. */
export function deleteLogPatternsOlderThan(
  sql: Sql,
  options: {
    readonly before: Date | string | number;
    readonly batchSize?: number;
    readonly maxBatches?: number;
  },
  retry: RetryOptions = {},
): Promise<RetentionReport> {
  return deleteOlderThan(sql, 'log_patterns', options, retry);
}
