import { BodyTooLargeError } from './read-body.js';
import { redactText } from './redact.js';

/** One line of text, cut to `max` characters (error bodies can be pages of HTML). */
export function short(text: string, max = 160): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max)}…` : one;
}

/**
 * Why a `fetch` (or the read of its body) failed, in words an operator can act on: a timeout, a
 * closed source, a body past its limit, or the network error code under undici's generic "fetch
 * failed". Shared by every source. `host` is printed as given: pass `URL.host`, which never
 * carries credentials.
 */
export function describeFetchError(error: unknown, timeoutMs: number, host: string): string {
  if (error instanceof BodyTooLargeError) return error.message;
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
    if (error.name === 'AbortError') return 'aborted (source closed)';
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code !== undefined) return `cannot reach ${host}: ${cause.code}`;
    // Messages can quote the URL they failed on (undici does, credentials and all).
    if (cause?.message !== undefined) {
      return `cannot reach ${host}: ${short(redactText(cause.message), 80)}`;
    }
    return `request failed: ${short(redactText(error.message), 80)}`;
  }
  return `request failed: ${short(redactText(String(error)), 80)}`;
}
