/** Base class of every error the state store raises on purpose. */
import { ConfigurationError, messageOf } from '../errors.js';
export class StoreError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreError';
  }
}

/** The store was given a target it cannot use (bad URL, unknown dialect, missing region…). */
export class StoreConfigError extends ConfigurationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreConfigError';
  }
}

/** A write or read was given input that does not match its schema; nothing was written. */
export class StoreInputError extends StoreError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreInputError';
  }
}

/** No AWS credentials could be found to sign a DSQL IAM token. */
export class DsqlCredentialsError extends StoreError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DsqlCredentialsError';
  }
}

/** A transaction kept failing with retryable errors until the retry budget ran out. */
export class RetryExhaustedError extends StoreError {
  constructor(
    message: string,
    readonly attempts: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'RetryExhaustedError';
  }
}

/** A migration could not be applied, or an applied one no longer matches its recorded checksum. */
export class MigrationError extends StoreError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

/**
 * Codes of a connection that dropped under a transaction, whose outcome is then unknown or which
 * never began: postgres.js's CONNECTION_CLOSED, socket resets, class 08 connection exceptions,
 * DSQL's connection-rate limit (53300) and admin shutdown (57P01) during cluster recovery. Worth a
 * whole-transaction retry, because every write is idempotent (deterministic ids).
 */
export const CONNECTION_DROPPED_CODES: ReadonlySet<string> = new Set([
  'CONNECTION_CLOSED',
  'ECONNRESET',
  'EPIPE',
  '57P01',
  '08000',
  '08003',
  '08006',
  '53300',
]);

/**
 * Codes that mean "no usable connection to the store": a dropped connection
 * ({@link CONNECTION_DROPPED_CODES}), driver and socket codes of one never made, and SQLSTATEs
 * that say the server cannot serve (57P0x shutdown/starting, 3D000 no such database). Every
 * class 08 connection exception counts too: see {@link isUnreachableCode}.
 */
export const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  ...CONNECTION_DROPPED_CODES,
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'CONNECT_TIMEOUT',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  '57P02',
  '57P03',
  '3D000',
]);

/** Whether a SQLSTATE or driver code means the store cannot be reached. */
export function isUnreachableCode(code: string): boolean {
  return UNREACHABLE_CODES.has(code) || code.startsWith('08');
}

/** The SQLSTATE (or driver code) of a database error, when it has one. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** One line describing any thrown value, with its SQLSTATE when there is one. */
export function describeError(error: unknown): string {
  const code = errorCode(error);
  const message = messageOf(error);
  return code === undefined ? message : `${message} (${code})`;
}
