/**
 * Aurora DSQL's per-transaction limits (telemetry-and-aws-facts §6). Every write path here stays
 * under them on every dialect, so what passes the PostgreSQL tests also fits DSQL.
 */
export const DSQL_LIMITS = Object.freeze({
  /** Rows inserted, updated or deleted in one transaction. */
  maxRowsPerTransaction: 3_000,
  /** Bytes modified in one transaction. */
  maxBytesPerTransaction: 10 * 1024 * 1024,
  /** Transaction age. */
  maxTransactionSeconds: 300,
  /** Connection age; pools recycle before it. */
  maxConnectionSeconds: 3_600,
});

/**
 * Our own batch ceilings, with headroom under {@link DSQL_LIMITS}: a full evaluation payload is a
 * few KiB, so 500 rows stay near 4 MiB, and 4 MiB leaves room for index entries.
 */
export const BATCH = Object.freeze({ rows: 500, bytes: 4 * 1024 * 1024 });

/** Splits items into batches of at most `maxRows` rows and about `maxBytes` bytes each. */
export function chunkBySize<T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  maxRows: number = BATCH.rows,
  maxBytes: number = BATCH.bytes,
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length > 0 && (current.length >= maxRows || bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
