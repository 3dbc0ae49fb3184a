import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP server that can answer with a body far larger than a source accepts, streamed
 * in chunks with backpressure (no `Content-Length` unless asked), and records how much of each
 * oversized body it managed to write: a reader that stops at its limit closes the connection
 * long before the end.
 */

export interface Received {
  readonly method: string;
  /** Path and query string. */
  readonly url: string;
  readonly body: string;
}

export type Reply =
  | { readonly status?: number; readonly contentType?: string; readonly body: string }
  | 'oversized';

export interface OversizedBody {
  /** Bytes handed to the socket before the client went away (or all of them). */
  bytes: number;
  /** The whole body was written: the client read past any limit it claims to have. */
  complete: boolean;
}

export interface OversizedServer {
  readonly url: string;
  /** One entry per oversized answer, in order. */
  readonly oversized: readonly OversizedBody[];
  close(): Promise<void>;
}

export async function startOversizedServer(
  reply: (req: Received) => Reply,
  options: {
    /** Size of each oversized body. */
    readonly totalBytes: number;
    /** What the oversized body repeats (a valid exposition comment, JSON-ish filler …). */
    readonly filler?: string;
    readonly contentType?: string;
    /** Announce the size in `Content-Length` instead of streaming it chunked. */
    readonly declareLength?: boolean;
  },
): Promise<OversizedServer> {
  const oversized: OversizedBody[] = [];
  const unit = Buffer.from(options.filler ?? 'x');
  const chunk = Buffer.alloc(64 * 1024, unit);
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const answer = reply({
        method: req.method ?? '',
        url: req.url ?? '/',
        body: Buffer.concat(parts).toString(),
      });
      if (answer !== 'oversized') {
        res.writeHead(answer.status ?? 200, {
          'content-type': answer.contentType ?? 'application/json',
        });
        res.end(answer.body);
        return;
      }
      const record: OversizedBody = { bytes: 0, complete: false };
      oversized.push(record);
      res.writeHead(200, {
        'content-type': options.contentType ?? 'application/json',
        ...(options.declareLength === true ? { 'content-length': String(options.totalBytes) } : {}),
      });
      const pump = () => {
        while (record.bytes < options.totalBytes && !res.destroyed) {
          const n = Math.min(chunk.length, options.totalBytes - record.bytes);
          record.bytes += n;
          if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
            res.once('drain', pump);
            return;
          }
        }
        if (!res.destroyed) {
          res.end();
          record.complete = true;
        }
      };
      pump();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    oversized,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/**
 * Oversized answers until `settle()`, then `normal` to every request: "a body past the limit is
 * an error, and the next request reads", the case every source's cap is tested with.
 */
export async function startOversizedThenNormal(
  normal: Exclude<Reply, 'oversized'>,
  options: Parameters<typeof startOversizedServer>[1],
): Promise<OversizedServer & { settle(): void }> {
  let big = true;
  const server = await startOversizedServer(() => (big ? 'oversized' : normal), options);
  return {
    url: server.url,
    oversized: server.oversized,
    close: () => server.close(),
    settle: () => {
      big = false;
    },
  };
}
