import type { Sql } from 'postgres';
import { StoreInputError } from './errors.js';
import { toDate, toLimit } from './input.js';
import { BATCH, DSQL_LIMITS } from './limits.js';
import { type RetryOptions, transaction } from './retry.js';

/** Tables with time-based retention; each is aged by its `observed_at` (time-indexed). */
const RETAINED = ['evaluations', 'log_patterns'] as const;
export type RetainedTable = (typeof RETAINED)[number];

export interface RetentionOptions {
  readonly before: Date | string | number;
  /** Rows per transaction, 1..3,000. @default 500 */
  readonly batchSize?: number;
  /** Stop after this many batches (spread a large backlog over runs). @default no limit */
  readonly maxBatches?: number;
}

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
 */
export async function deleteOlderThan(
  sql: Sql,
  table: RetainedTable,
  options: RetentionOptions,
  retry: RetryOptions = {},
): Promise<RetentionReport> {
  if (!(RETAINED as readonly string[]).includes(table))
    throw new StoreInputError(`no retention for table ${String(table)}`);
  const before = toDate(options.before, 'before');
  const batchSize = toLimit(
    options.batchSize,
    BATCH.rows,
    DSQL_LIMITS.maxRowsPerTransaction,
    'batchSize',
  );
  const maxBatches = options.maxBatches ?? Number.POSITIVE_INFINITY;
  let deleted = 0;
  let batches = 0;
  while (batches < maxBatches) {
    const count = await transaction(
      sql,
      async (tx) => {
        // The sub-select walks the time index, so each batch costs its own size, not the table's.
        const result = await tx`
          DELETE FROM ${tx(table)} WHERE id IN (
            SELECT id FROM ${tx(table)} WHERE observed_at < ${before} LIMIT ${batchSize})`;
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
