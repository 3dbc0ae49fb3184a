import pLimit from 'p-limit';
import * as z from 'zod';
import { createSigV4Signer, type SigV4Options } from '../../shared/aws/sigv4.js';
import { ConfigurationError, messageOf } from '../../shared/errors.js';
import { deadline } from './deadline.js';
import { describeFetchError, short } from './fetch-error.js';
import { readBodyCapped } from './read-body.js';
import { redactUrl } from './redact.js';
import { basicAuthorization, splitUrlCredentials, type UrlCredentials } from './url.js';

/**
 * The HTTP side of the Prometheus source: one client per source that knows the base URL, the
 * authentication (none, bearer, basic, SigV4), the concurrency limit and the per-request budget,
 * and turns every failed exchange into a {@link QueryError} whose message is one short line — the
 * text that becomes a signal's `error` value. It knows nothing about signals or dialects.
 */

/** A configuration mistake the caller can fix (bad URL, missing region); thrown at creation. */
export class PrometheusConfigError extends ConfigurationError {
  constructor(message: string) {
    super(message);
    this.name = 'PrometheusConfigError';
  }
}

export type PrometheusAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'bearer'; readonly token: string }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | ({ readonly kind: 'sigv4' } & SigV4Options);

/** A failed request, with the one short line that becomes the signal's error value. */
export class QueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryError';
  }
}

/** Strips the API suffixes people paste (AMP's console shows `.../api/v1/query`). */
export function normalizePrometheusUrl(raw: string): { base: URL; basic?: PrometheusAuth } {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new PrometheusConfigError(`invalid Prometheus URL: ${redactUrl(raw)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new PrometheusConfigError(`Prometheus URL must be http(s): ${redactUrl(raw)}`);
  }
  // fetch refuses URLs with credentials; move them to a header.
  let split: { url: URL; credentials?: UrlCredentials };
  try {
    split = splitUrlCredentials(parsed);
  } catch {
    throw new PrometheusConfigError(
      `invalid Prometheus URL ${redactUrl(raw)}: malformed percent-escape in its credentials`,
    );
  }
  const { url, credentials } = split;
  const basic: PrometheusAuth | undefined =
    credentials === undefined ? undefined : { kind: 'basic', ...credentials };
  url.search = '';
  url.hash = '';
  let path = url.pathname.replace(/\/+$/, '');
  path = path.replace(/\/api\/v1(?:\/(?:query|query_range))?$/, '');
  url.pathname = path === '' ? '/' : path;
  return basic === undefined ? { base: url } : { base: url, basic };
}

// --- wire format (https://prometheus.io/docs/prometheus/latest/querying/api/) ---------------------

const SampleSchema = z.tuple([z.number(), z.string()]);
const QueryResultSchema = z.discriminatedUnion('resultType', [
  z.object({
    resultType: z.literal('vector'),
    result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: SampleSchema })),
  }),
  z.object({ resultType: z.literal('scalar'), result: SampleSchema }),
  z.object({
    resultType: z.literal('matrix'),
    result: z.array(
      z.object({ metric: z.record(z.string(), z.string()), values: z.array(SampleSchema) }),
    ),
  }),
]);
export type QueryResult = z.infer<typeof QueryResultSchema>;
const EnvelopeSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('success'), data: z.unknown() }),
  z.object({
    status: z.literal('error'),
    errorType: z.string().optional(),
    error: z.string().optional(),
  }),
]);

/** Evaluation times on the wire: epoch seconds, fractions allowed. */
export const epochSec = (ms: number): string => String(ms / 1000);

export interface PrometheusClientOptions {
  /** Base URL; a trailing `/api/v1`, `/api/v1/query` or `/api/v1/query_range` is accepted. */
  readonly url: string;
  /** Default: basic auth from the URL's `user:password@`, else none. */
  readonly auth?: PrometheusAuth;
  /** Requests in flight at once (default 8). */
  readonly concurrency?: number;
  /** Environment for SigV4 region/credentials defaults (tests pass their own). */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Largest `/api/v1/query` response read (default 8 MiB). An engine query answers one series,
   * well under 1 KiB; only a runaway selector sends more.
   */
  readonly maxResponseBytes?: number;
  /**
   * Largest `/api/v1/query_range` response read (default 32 MiB): a 10,000-point chunk of one
   * series is about 400 KiB, so this leaves room for dozens of series before refusing.
   */
  readonly maxRangeResponseBytes?: number;
}

/** @see PrometheusClientOptions.maxResponseBytes */
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 2 ** 20;
/** @see PrometheusClientOptions.maxRangeResponseBytes */
export const DEFAULT_MAX_RANGE_RESPONSE_BYTES = 32 * 2 ** 20;

export interface PrometheusClient {
  /** The normalised base URL: no userinfo, query or `/api/v1` suffix. */
  readonly base: URL;
  readonly authKind: PrometheusAuth['kind'];
  /** HTTP requests sent since creation. */
  readonly requestCount: number;
  /**
   * One form-encoded `POST /api/v1/<path>` (POST: long PromQL never hits URL limits), queued
   * behind the concurrency limit, aborted after `budgetMs` → the parsed result, or a QueryError.
   */
  query(
    path: 'query' | 'query_range',
    params: Record<string, string>,
    budgetMs: number,
  ): Promise<QueryResult>;
  /** Aborts what is in flight; later queries fail with "source closed". */
  close(): void;
}

function positiveBytes(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1) {
    throw new PrometheusConfigError(`${what} must be a positive integer, got ${n}`);
  }
  return n;
}

export function createPrometheusClient(options: PrometheusClientOptions): PrometheusClient {
  const { base, basic } = normalizePrometheusUrl(options.url);
  const auth: PrometheusAuth = options.auth ?? basic ?? { kind: 'none' };
  const concurrency = options.concurrency ?? 8;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new PrometheusConfigError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  const sign =
    auth.kind === 'sigv4' ? createSigV4Signer(base, auth, options.env ?? process.env) : undefined;
  const maxBytes = {
    query: positiveBytes(
      options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      'maxResponseBytes',
    ),
    query_range: positiveBytes(
      options.maxRangeResponseBytes ?? DEFAULT_MAX_RANGE_RESPONSE_BYTES,
      'maxRangeResponseBytes',
    ),
  };
  const limit = pLimit(concurrency);
  const closing = new AbortController();
  let requests = 0;

  const endpoint = (path: string): URL => {
    const u = new URL(base.href);
    u.pathname = `${base.pathname.replace(/\/$/, '')}/api/v1/${path}`;
    return u;
  };

  /** One HTTP exchange → the `data` of a success envelope, or a QueryError. */
  async function exchange(
    path: 'query' | 'query_range',
    form: string,
    budgetMs: number,
  ): Promise<unknown> {
    if (closing.signal.aborted) throw new QueryError('source closed');
    const url = endpoint(path);
    let headers: Record<string, string> = {
      accept: 'application/json',
      'content-type': 'application/x-www-form-urlencoded',
    };
    if (auth.kind === 'bearer') headers.authorization = `Bearer ${auth.token}`;
    if (auth.kind === 'basic') headers.authorization = basicAuthorization(auth);
    if (sign !== undefined) {
      try {
        headers = await sign({ method: 'POST', url, headers, body: form });
      } catch (error) {
        throw new QueryError(`SigV4 signing failed: ${short(messageOf(error), 120)}`);
      }
    }
    requests++;
    let res: Response;
    let text: string;
    const { signal, release } = deadline(budgetMs, closing.signal);
    try {
      res = await fetch(url, { method: 'POST', headers, signal, body: form });
      text = await readBodyCapped(res, maxBytes[path]);
    } catch (error) {
      throw new QueryError(describeFetchError(error, budgetMs, url.host));
    } finally {
      release();
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new QueryError(
        res.ok
          ? 'malformed response: not JSON'
          : `HTTP ${res.status}: ${short(text, 120) || res.statusText}`,
      );
    }
    const env = EnvelopeSchema.safeParse(json);
    if (!env.success) {
      throw new QueryError(
        res.ok ? 'malformed response: no Prometheus status envelope' : `HTTP ${res.status}`,
      );
    }
    if (env.data.status === 'error') {
      const what = [env.data.errorType, env.data.error].filter((s) => s !== undefined).join(': ');
      throw new QueryError(`HTTP ${res.status}: ${short(what || 'error', 200)}`);
    }
    if (!res.ok) throw new QueryError(`HTTP ${res.status}`);
    return env.data.data;
  }

  return {
    base,
    authKind: auth.kind,
    get requestCount() {
      return requests;
    },
    query: (path, params, budgetMs) =>
      limit(async () => {
        const data = await exchange(path, new URLSearchParams(params).toString(), budgetMs);
        const parsed = QueryResultSchema.safeParse(data);
        if (!parsed.success) throw new QueryError('malformed response: unexpected result shape');
        return parsed.data;
      }),
    close() {
      closing.abort();
    },
  };
}
