/** Base class of every error the state store raises on purpose. */
export class StoreError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreError';
  }
}

/** The store was given a target it cannot use (bad URL, unknown dialect, missing region…). */
export class StoreConfigError extends StoreError {
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

/** The SQLSTATE (or driver code) of a database error, when it has one. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** One line describing any thrown value, with its SQLSTATE when there is one. */
export function describeError(error: unknown): string {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return code === undefined ? message : `${message} (${code})`;
}
