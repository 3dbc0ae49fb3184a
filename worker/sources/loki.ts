import * as z from 'zod';
import { ConfigurationError } from '../../shared/errors.js';
import { seriesKeyOf } from '../../shared/signals/exposition.js';
import {
  type LogLine,
  lineFilter,
  matchNarrative,
  type Narrative,
} from '../../shared/signals/narrative.js';
import {
  NARRATIVE_PATTERNS,
  type NarrativePattern,
} from '../../shared/signals/narrative-patterns.js';
import { deadline } from './deadline.js';
import { describeFetchError } from './fetch-error.js';
import { readBodyCapped } from './read-body.js';
import { basicAuthorization, splitUrlCredentials, type UrlCredentials } from './url.js';

/**
 * Loki narrative source: LogQL `query_range` over the window the caller asks for (the log watcher's
 * cycle), lines filtered server side by the narrative patterns, counted by
 * `shared/signals/narrative.ts`.
 *
 * Stream selectors. A LogQL selector cannot OR across label names, and the two deployments we know
 * label differently: the ECS Alloy sidecars set `job="temporal"` and `service_name` (plus
 * `cluster`, `task_id`, `level`); the docker-compose Alloy sets only `container` and `service`, so
 * the prior art's single `{job=~"temporal.*"}` matched nothing in dev
 * (docs/lessons.md#loki-selectors-match-every-deployment). The default
 * therefore runs one query per selector — `{job=~"temporal.*"}` and `{container=~".*temporal.*"}`
 * — concurrently, and merges the lines (a line both select is counted once). Override with
 * `selectors` (e.g. `['{namespace="temporal", app=~"temporal-.*"}']` on Kubernetes).
 */

export const DEFAULT_LOKI_SELECTORS = ['{job=~"temporal.*"}', '{container=~".*temporal.*"}'];

export const LokiSourceOptionsSchema = z.object({
  /**
   * Loki base URL, e.g. `http://loki:3100` (a trailing `/loki/api/v1/query_range` is accepted);
   * `http://user:password@loki:3100` sends basic auth unless `headers` has an `authorization`.
   */
  url: z.url({ protocol: /^https?$/ }),
  /** LogQL stream selectors, each queried separately. @default DEFAULT_LOKI_SELECTORS */
  selectors: z
    .array(z.string().regex(/^\{.*\}$/s, 'a stream selector is `{label="value", …}`'))
    .min(1)
    .default(DEFAULT_LOKI_SELECTORS),
  /** Line limit per query; reaching it makes counts "at least". @default 1000 */
  limit: z.number().int().positive().max(5000).default(1000),
  /** Per-request timeout. @default 10000 */
  timeoutMs: z.number().int().positive().default(10_000),
  /** Extra headers (auth, `X-Scope-OrgID` for multi-tenant Loki). */
  headers: z.record(z.string(), z.string()).default({}),
  /**
   * Largest response read per query; past it the narrative is an error instead of the body held
   * in memory. 1000 lines of a few KB each with their stream labels and Loki's `stats` block fit
   * many times over. @default 16 MiB
   */
  maxResponseBytes: z
    .number()
    .int()
    .positive()
    .default(16 * 2 ** 20),
});
export type LokiSourceOptions = z.input<typeof LokiSourceOptionsSchema>;

export class LokiSourceConfigError extends ConfigurationError {
  constructor(message: string) {
    super(message);
    this.name = 'LokiSourceConfigError';
  }
}

/** Tri-state, like every signal: counts, or the reason there are none. */
export type NarrativeResult =
  | {
      readonly status: 'ok';
      readonly narrative: Narrative;
      /** The queried range, epoch ms. */
      readonly from: number;
      readonly to: number;
    }
  | { readonly status: 'error'; readonly message: string };

export interface LokiSource {
  readonly kind: 'loki';
  /**
   * The narrative of the lines stamped in `[from, to)` (epoch ms; Loki's `start` is inclusive, its
   * `end` exclusive). Never throws.
   */
  narrative(from: number, to: number): Promise<NarrativeResult>;
  close(): Promise<void>;
}

/** Loki's `query_range` answer for a log query (`resultType: "streams"`). */
const QueryRangeResponseSchema = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.literal('streams'),
    result: z.array(
      z.object({
        stream: z.record(z.string(), z.string()),
        values: z.array(z.tuple([z.string().regex(/^\d+$/), z.string()])),
      }),
    ),
  }),
});

const QUERY_RANGE_PATH = '/loki/api/v1/query_range';

export function createLokiSource(options: LokiSourceOptions): LokiSource {
  const parsed = LokiSourceOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new LokiSourceConfigError(
      `invalid Loki source options: ${z.prettifyError(parsed.error)}`,
    );
  }
  const opts = parsed.data;
  // fetch refuses a URL with credentials, so they travel as a header; the schema checked the URL.
  let split: { url: URL; credentials?: UrlCredentials };
  try {
    split = splitUrlCredentials(new URL(opts.url));
  } catch {
    throw new LokiSourceConfigError(
      'invalid Loki URL: malformed percent-escape in its credentials',
    );
  }
  const endpoint = split.url;
  let path = endpoint.pathname.replace(/\/+$/, '');
  if (path.endsWith(QUERY_RANGE_PATH)) path = path.slice(0, -QUERY_RANGE_PATH.length);
  endpoint.pathname = `${path}${QUERY_RANGE_PATH}`;
  endpoint.hash = '';
  // Header names are case-insensitive: an explicit one of any case wins over URL credentials.
  const explicitAuth = Object.keys(opts.headers).some((k) => k.toLowerCase() === 'authorization');
  const headers: Record<string, string> = {
    accept: 'application/json',
    ...(split.credentials === undefined || explicitAuth
      ? {}
      : { authorization: basicAuthorization(split.credentials) }),
    ...opts.headers,
  };
  const patterns: readonly NarrativePattern[] = NARRATIVE_PATTERNS;
  const filter = lineFilter(patterns);
  const queries = opts.selectors.map((s) => `${s} ${filter}`);
  const lifetime = new AbortController();

  type Stream = {
    /** The stream's identity ({@link seriesKeyOf} of its labels), computed once per stream. */
    key: string;
    labels: Record<string, string>;
    values: [ts: string, line: string][];
  };
  type QueryOutcome =
    | { ok: true; streams: Stream[]; lines: number }
    | { ok: false; message: string };

  async function run(query: string, startNs: bigint, endNs: bigint): Promise<QueryOutcome> {
    const url = new URL(endpoint.href);
    url.search = new URLSearchParams({
      query,
      start: startNs.toString(),
      end: endNs.toString(),
      limit: String(opts.limit),
      direction: 'backward',
    }).toString();
    const { signal, release } = deadline(opts.timeoutMs, lifetime.signal);
    try {
      const res = await fetch(url, { headers, signal });
      const text = await readBodyCapped(res, opts.maxResponseBytes);
      if (!res.ok) {
        return { ok: false, message: `Loki HTTP ${res.status}: ${text.slice(0, 200).trim()}` };
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return { ok: false, message: `Loki answered malformed JSON: ${text.slice(0, 100)}` };
      }
      const body = QueryRangeResponseSchema.safeParse(json);
      if (!body.success) {
        return {
          ok: false,
          message: `Loki answered an unexpected shape: ${z.prettifyError(body.error).slice(0, 300)}`,
        };
      }
      const streams = body.data.data.result.map((s) => ({
        key: seriesKeyOf('', s.stream),
        labels: s.stream,
        values: s.values,
      }));
      return { ok: true, streams, lines: streams.reduce((n, s) => n + s.values.length, 0) };
    } catch (error) {
      const reason = describeFetchError(error, opts.timeoutMs, url.host);
      return { ok: false, message: `Loki query failed: ${reason}` };
    } finally {
      release();
    }
  }

  return {
    kind: 'loki',
    async narrative(fromMs: number, toMs: number): Promise<NarrativeResult> {
      const from = Math.round(fromMs);
      const to = Math.round(toMs);
      if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) {
        return { status: 'error', message: `invalid log window [${fromMs}, ${toMs})` };
      }
      const outcomes = await Promise.all(
        queries.map((q) => run(q, BigInt(from) * 1_000_000n, BigInt(to) * 1_000_000n)),
      );
      // One failed selector makes the whole narrative unknown: partial counts would understate.
      const failure = outcomes.find((o) => !o.ok);
      if (failure !== undefined && !failure.ok)
        return { status: 'error', message: failure.message };
      // The same stream can be selected by two selectors; count each line once. Seen entries are
      // kept per stream, so a stream's identity is computed once, not once per line.
      const seen = new Map<string, Set<string>>();
      const lines: LogLine[] = [];
      // Each query has its own limit: the merged line count says nothing about whether one hit it.
      let limitHit = false;
      for (const o of outcomes) {
        if (!o.ok) continue;
        if (o.lines >= opts.limit) limitHit = true;
        for (const s of o.streams) {
          let entries = seen.get(s.key);
          if (entries === undefined) {
            entries = new Set();
            seen.set(s.key, entries);
          }
          for (const [ts, line] of s.values) {
            const entry = `${ts}\u0000${line}`;
            if (entries.has(entry)) continue;
            entries.add(entry);
            lines.push({ line, labels: s.labels });
          }
        }
      }
      return { status: 'ok', narrative: matchNarrative(lines, { patterns, limitHit }), from, to };
    },
    async close() {
      lifetime.abort();
    },
  };
}
