/**
 * What every layer needs to say about a failure, in one place: the one-line message of anything
 * thrown, and the base class of configuration mistakes. Pure: no I/O.
 */

/** The message of anything thrown: an Error's message, else its string form. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A configuration the caller can fix (a bad variable, flag, URL or threshold), raised before any
 * work starts. Every such error in the copilot extends this class, so the CLI maps them all to
 * exit code 2 in one place (`bin/copilot.ts`) and the worker refuses to start with the message.
 */
export class ConfigurationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigurationError';
  }
}
