/**
 * Reading an HTTP response body with a ceiling, shared by every source. `Response.text()` reads
 * whatever arrives: a 200 MB scrape took the worker's RSS to 632 MiB, and a misconfigured URL (a
 * log file server, a Prometheus federation endpoint) can send more. The body is streamed instead,
 * and the read aborted (the connection closed) as soon as it passes the limit, so memory stays
 * near the limit whatever the server sends.
 */

/** A body past its limit: the source turns it into an `error` value naming the limit. */
export class BodyTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`response body larger than the ${formatBytes(limitBytes)} limit`);
    this.name = 'BodyTooLargeError';
  }
}

/** `67108864` → `64 MiB`, `1536` → `1.5 KiB`: limits are read by operators. */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}

/**
 * The body as UTF-8 text, or a {@link BodyTooLargeError} once more than `maxBytes` (decoded)
 * bytes arrived. A declared `Content-Length` past the limit is refused before reading anything.
 * Errors of the stream itself (a timeout, the source closing) propagate as they are.
 */
export async function readBodyCapped(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  // A compressed body's length says little about its decoded size; only a plain one is trusted.
  if (res.headers.get('content-encoding') === null && declared > maxBytes) {
    await res.body?.cancel().catch(() => {});
    throw new BodyTooLargeError(maxBytes);
  }
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      // Cancelling closes the connection: the rest is never downloaded.
      await reader.cancel().catch(() => {});
      throw new BodyTooLargeError(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}
