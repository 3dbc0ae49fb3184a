import type { z } from 'zod';
import { describeFirstIssue } from '../zod-issues.js';
import { StoreInputError } from './errors.js';

/** Validates store input with a zod schema; the first problem becomes one {@link StoreInputError}. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new StoreInputError(describeFirstIssue(parsed.error, `invalid ${what}`));
  return parsed.data;
}

/** A point in time as a Date, from a Date, an ISO string or epoch milliseconds. */
export function toDate(value: Date | string | number, what: string): Date {
  const date = value instanceof Date ? new Date(value.getTime()) : new Date(value);
  if (typeof value === 'string' && !/^\d{4}-\d{2}-\d{2}/.test(value))
    throw new StoreInputError(`${what} is not an ISO timestamp: "${value}"`);
  if (Number.isNaN(date.getTime()))
    throw new StoreInputError(`${what} is not a valid time: ${String(value)}`);
  return date;
}

/** A time range with `from` strictly before `to`. */
export function toRange(
  from: Date | string | number,
  to: Date | string | number,
): { from: Date; to: Date } {
  const range = { from: toDate(from, 'from'), to: toDate(to, 'to') };
  if (range.from.getTime() >= range.to.getTime())
    throw new StoreInputError(
      `time range is empty: from ${range.from.toISOString()} is not before to ${range.to.toISOString()}`,
    );
  return range;
}

/** An integer limit within bounds, or a clear error. */
export function toLimit(
  value: number | undefined,
  fallback: number,
  max: number,
  what = 'limit',
): number {
  const limit = value ?? fallback;
  if (!Number.isInteger(limit) || limit < 1 || limit > max)
    throw new StoreInputError(`${what} must be an integer between 1 and ${max}, got ${limit}`);
  return limit;
}

/** The UTF-8 size of a string, for DSQL's 10 MiB-per-transaction budget. */
export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
