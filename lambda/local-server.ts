import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@aws-lambda-powertools/logger';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import type { StalenessPolicy } from '../shared/models/freshness.js';
import type { Store } from '../shared/store/connection.js';
import { type ApiHandler, createApiHandler } from './api.js';
import type { AuthMode } from './common/auth.js';
import { checkLocalApiAuth } from './common/env.js';
import { problemResponse } from './common/http-errors.js';
import { fixedStore } from './common/store.js';

/** Options of {@link startLocalApi}. */
export interface LocalApiOptions {
  /** The store the copilot already has open (embedded PGlite, PostgreSQL or DSQL). */
  readonly store: Store;
  /** @default 8080; 0 picks a free port */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /**
   * The key callers must send in `x-api-key`, at least 16 characters.
   * @default - no key: every route is open, so only a loopback host is allowed
   */
  readonly apiKey?: string;
  /** @default the shared Powertools logger */
  readonly logger?: Logger;
  /** When the newest evaluation counts as stale. @default 3 intervals, at least 60 s */
  readonly staleness?: StalenessPolicy;
}

/** A running local API. */
export interface LocalApi {
  /** `http://host:port`, no trailing slash. */
  readonly url: string;
  close(): Promise<void>;
}

/** The largest request body the adapter reads (API Gateway's own limit is 10 MB; we need none). */
const MAX_BODY_BYTES = 1_048_576;

/**
 * Turns a Node request into the API Gateway HTTP API (payload v2) event the Lambda receives:
 * lower-case headers, repeated headers and query keys joined with commas, query values decoded,
 * `rawPath`/`rawQueryString` as sent, stage `$default`.
 */
export function toApiGatewayEvent(
  req: IncomingMessage,
  body: string,
  now: number,
): APIGatewayProxyEventV2 {
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const rawQueryString = q < 0 ? '' : target.slice(q + 1);
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? '').toLowerCase();
    const value = req.rawHeaders[i + 1] ?? '';
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(rawQueryString))
    query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
  const method = (req.method ?? 'GET').toUpperCase();
  const cookies = headers.cookie?.split(';').map((c) => c.trim());
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    ...(cookies === undefined ? {} : { cookies }),
    headers,
    ...(Object.keys(query).length === 0 ? {} : { queryStringParameters: query }),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: (headers.host ?? 'localhost').split('.')[0] ?? 'localhost',
      http: {
        method,
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...(body === '' ? {} : { body }),
    isBase64Encoded: false,
  };
}

/** A Lambda context for a local invocation (what Powertools and middy read from it). */
function localContext(requestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'copilot-api-local',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:copilot-api-local',
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: 'local',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(null);
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString()));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const body =
    result.body === undefined
      ? ''
      : result.isBase64Encoded === true
        ? Buffer.from(result.body, 'base64')
        : result.body;
  res.writeHead(result.statusCode ?? 200, {
    ...Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)])),
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

/** Serves one request through the handler: the adapter's whole job. */
async function serve(handler: ApiHandler, req: IncomingMessage, res: ServerResponse) {
  const body = await readBody(req);
  if (body === null) {
    send(res, problemResponse(413, 'Payload too large', 'the request body is too large'));
    return;
  }
  const event = toApiGatewayEvent(req, body, Date.now());
  send(res, await handler(event, localContext(event.requestContext.requestId)));
}

/**
 * The JSON API on a local HTTP server: each request becomes an API Gateway v2 event and goes
 * through the same handler the Lambda runs (`createApiHandler`), with the store given.
 *
 * @throws ApiConfigError, before listening, for a short key or a non-loopback host without one.
 */
export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const host = options.host ?? '127.0.0.1';
  checkLocalApiAuth(host, options.apiKey);
  const auth: AuthMode =
    options.apiKey === undefined
      ? { mode: 'none' }
      : { mode: 'api-key', key: async () => options.apiKey as string };
  const handler = createApiHandler({
    store: fixedStore(options.store),
    auth,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.staleness === undefined ? {} : { staleness: options.staleness }),
  });
  const server = createServer((req, res) => {
    serve(handler, req, res).catch(() => {
      // The handler maps every error itself; this only catches a broken socket.
      if (!res.headersSent) send(res, problemResponse(500, 'Internal error', 'the request failed'));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}
