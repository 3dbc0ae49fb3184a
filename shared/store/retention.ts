import type { Sql } from 'postgres';
import { StoreInputError } from './errors.js';
import { toDate, toLimit } from './input.js';
import { BATCH, DSQL_LIMITS } from './limits.js';
import { type RetryOptions, transaction } from './retry.js';

/**
 * Tables with time-based retention and the time-indexed column each is aged by. Assessments and
 * their issues age by `created_at` (the instant of the evaluation they explain): an issue still
 * open after the retention period has newer rows with the same key in newer assessments.
 */
const RETAINED = {
  evaluations: 'observed_at',
  log_patterns: 'observed_at',
  assessments: 'created_at',
  issues: 'created_at',
} as const;
export type RetainedTable = keyof typeof RETAINED;
/** Every retained table, in the order a retention run prunes them (issues before assessments). */
export const RETAINED_TABLES: readonly RetainedTable[] = [
  'evaluations',
  'log_patterns',
  'issues',
  'assessments',
];

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
  if (!Object.hasOwn(RETAINED, table))
    throw new StoreInputError(`no retention for table ${String(table)}`);
  const column = RETAINED[table];
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
