import type { Sql } from 'postgres';
import { EvaluationSchema } from '../health/evaluation.js';
import { reconstructedStatusOf, SignalValuesSchema } from '../models/stored-evaluation.js';
import { BATCH } from './limits.js';
import { type RetryOptions, transaction } from './retry.js';

/**
 * Migration 19: gives every evaluation written before signal statuses were stored (column
 * `signal_status` NULL) the statuses its own gates kept (see `reconstructedStatusOf`). Walks the
 * table once in `(observed_at, id)` order through the time index, 500 rows per transaction (far
 * inside DSQL's 3,000 rows / 10 MiB), and only touches rows still NULL, so it is idempotent and a
 * crash mid-way is finished by the next run. A row whose payload no longer parses gets `{}` (its
 * numbers still stand; nothing is invented for the rest).
 *
 * @returns how many rows it updated.
 */
interface BackfillRow {
  id: string;
  observed_at: Date;
  evaluation: string;
  signal_values: string;
  done: boolean;
}

export async function backfillSignalStatus(sql: Sql, retry: RetryOptions = {}): Promise<number> {
  let after: { at: Date; id: string } | null = null;
  let updated = 0;
  for (;;) {
    const cursor: { at: Date; id: string } | null = after;
    const rows: BackfillRow[] = await sql<BackfillRow[]>`
      SELECT id, observed_at, evaluation, signal_values, signal_status IS NOT NULL AS done
      FROM evaluations
      ${cursor === null ? sql`` : sql`WHERE (observed_at, id) > (${cursor.at}, ${cursor.id}::uuid)`}
      ORDER BY observed_at, id LIMIT ${BATCH.rows}`;
    const last: BackfillRow | undefined = rows.at(-1);
    if (last === undefined) return updated;
    after = { at: last.observed_at, id: last.id };
    const todo = rows
      .filter((r) => !r.done)
      .map((r): [string, string] => [
        r.id,
        JSON.stringify(statusOf(r.evaluation, r.signal_values)),
      ]);
    if (todo.length > 0) {
      updated += await transaction(
        sql,
        async (tx) => {
          const result = await tx`
            UPDATE evaluations SET signal_status = data.status
            FROM (VALUES ${tx(todo)}) AS data (id, status)
            WHERE evaluations.id = data.id::uuid AND evaluations.signal_status IS NULL`;
          return result.count;
        },
        retry,
      );
    }
    if (rows.length < BATCH.rows) return updated;
  }
}

function statusOf(evaluationText: string, valuesText: string): Record<string, string> {
  try {
    const evaluation = EvaluationSchema.pick({ gates: true }).parse(JSON.parse(evaluationText));
    const values = SignalValuesSchema.parse(JSON.parse(valuesText));
    return reconstructedStatusOf(evaluation, values);
  } catch {
    return {};
  }
}
