import pLimit from 'p-limit';
import { z } from 'zod';
import { createSigV4Signer, type SigV4Options } from '../../shared/aws/sigv4.js';
import { ConfigurationError, messageOf } from '../../shared/errors.js';
import {
  ENGINE_IDS,
  ENGINE_WIDTH,
  type ObservationColumns,
  observationColumns,
  writeValue,
} from '../../shared/health/observation.js';
import { metricsOf, SIGNAL_CATALOG, signalById } from '../../shared/signals/catalog.js';
import {
  DEFAULT_DIALECT,
  type Dialect,
  detectDialect,
  type SdkDialect,
  SERVER_DIALECTS,
  type ServerDialect,
  seriesName,
} from '../../shared/signals/dialect.js';
import { renderSignal } from '../../shared/signals/promql.js';
import type { SignalDef } from '../../shared/signals/types.js';
import { ABSENT, failed, type SignalValue, type Snapshot } from '../../shared/signals/value.js';
import { describeFetchError, short } from './fetch-error.js';
import type { RangeSignalSource } from './types.js';
import { basicAuthorization, splitUrlCredentials } from './url.js';

/**
 * A signal source over the Prometheus HTTP API (Prometheus, Mimir, Amazon Managed Prometheus).
 * One observation cycle is one batch of form-encoded POST queries, run with bounded concurrency and
 * a timeout each. Every failure becomes a tri-state value, never a throw and never a 0.
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

/** `auto` detects from the source's metric names; anything else overrides. */
export interface DialectChoice {
  readonly server?: 'auto' | ServerDialect;
  readonly sdk?: 'auto' | SdkDialect;
  readonly sdkPrefix?: string;
}

export interface PrometheusSourceOptions {
  /** Base URL; a trailing `/api/v1`, `/api/v1/query` or `/api/v1/query_range` is accepted. */
  readonly url: string;
  readonly auth?: PrometheusAuth;
  readonly dialect?: DialectChoice;
  /** Queries in flight at once (default 8): enough for a cycle, gentle on the server. */
  readonly concurrency?: number;
  /** Per instant query (default 10 s). */
  readonly timeoutMs?: number;
  /** Per range-query chunk (default 120 s): a day of one signal is one heavier query. */
  readonly rangeTimeoutMs?: number;
  /** Points per range request; Prometheus refuses more than 11,000 (default 10,000). */
  readonly maxPointsPerRequest?: number;
  /** Environment for SigV4 region/credentials defaults (tests pass their own). */
  readonly env?: NodeJS.ProcessEnv;
}

export interface ProbeResult {
  /** False when the names could not be listed (the source is down or refused). */
  readonly reachable: boolean;
  /** The dialect queries are rendered in. */
  readonly dialect: Dialect;
  /** Where each part came from. */
  readonly origin: {
    readonly server: 'override' | 'detected' | 'default';
    readonly sdk: 'override' | 'detected' | 'default';
  };
  /** How many of the catalog's Temporal server series names the source has. */
  readonly serverSeriesSeen: number;
  /** A one-line account for logs and the CLI when something is off; undefined when all is well. */
  readonly warning?: string;
}

export interface PrometheusSource extends RangeSignalSource {
  /** The normalised base URL (no `/api/v1` suffix). */
  readonly baseUrl: string;
  /** HTTP requests sent since creation (bench and tests). */
  readonly requestCount: number;
  /**
   * Finds which Temporal series have samples in `[from, to]` (one range query), detects the
   * dialect from their names (unless overridden) and checks that the Temporal server's metrics
   * are there at all.
   */
  probe(from: number, to: number): Promise<ProbeResult>;
  /** The most recent probe, if any. */
  readonly lastProbe: ProbeResult | undefined;
  /**
   * The engine's signals at `from`, `from + stepMs`, … `to` as observation columns, for the
   * decision kernel (`copilot replay`): one range query per engine signal, no snapshot objects.
   */
  rangeColumns(from: number, to: number, stepMs: number): Promise<ObservationColumns>;
}

/** Strips the API suffixes people paste (AMP's console shows `.../api/v1/query`). */
export function normalizePrometheusUrl(raw: string): { base: URL; basic?: PrometheusAuth } {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new PrometheusConfigError(`invalid Prometheus URL: ${raw}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new PrometheusConfigError(`Prometheus URL must be http(s): ${raw}`);
  }
  // fetch refuses URLs with credentials; move them to a header.
  const { url, credentials } = splitUrlCredentials(parsed);
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
const ResultSchema = z.discriminatedUnion('resultType', [
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
type QueryResult = z.infer<typeof ResultSchema>;
const EnvelopeSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('success'), data: z.unknown() }),
  z.object({
    status: z.literal('error'),
    errorType: z.string().optional(),
    error: z.string().optional(),
  }),
]);

/** A failed request, with the one short line that becomes the signal's error value. */
class QueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryError';
  }
}

/** Prometheus writes sample values as strings: `"1.5"`, `"NaN"`, `"+Inf"`, `"-Inf"`. */
export function sampleValue(raw: string, sampledAt?: number): SignalValue {
  // NaN is what PromQL yields for "no data in the window" (0/0, a quantile of no observations).
  if (raw === 'NaN') return ABSENT;
  if (raw === '+Inf' || raw === '-Inf' || raw === 'Inf') {
    return failed(`non-finite value ${raw} (division by zero or an unbounded bucket)`);
  }
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v))
    return failed(`malformed sample value ${short(raw, 40)}`);
  return sampledAt === undefined
    ? { status: 'ok', value: v }
    : { status: 'ok', value: v, sampledAt };
}

const epochSec = (ms: number): string => String(ms / 1000);

/**
 * How long, in evaluation time, `snapshot` reuses the last probe while the dialect is undecided.
 * The probe reads every sample of the Temporal series it asks for over an hour, the heaviest
 * request a source gets; sending it on each 30 s cycle of a source that has no Temporal metrics
 * yet would cost more than the cycle's own queries. A source that was empty or
 * down at start-up is still picked up within this long.
 */
const REPROBE_AFTER_MS = 5 * 60_000;

/**
 * The dialect probe: which Temporal series have samples in the window, read with one range query
 * `count by (__name__) (last_over_time({__name__=~"…"}[step]))`. Listing
 * `label/__name__/values` with start/end is not exact in time: Prometheus answers it per TSDB
 * block, and compaction merges blocks (6 h, then up to 31 d in Prometheus; days in Mimir and AMP),
 * so the list held names from hours or days outside the window. A cluster migrated from tally to
 * OTel last week was then read in whichever dialect had more marker names in the merged block,
 * and every query of the other came back empty.
 *
 * Only the names that decide something are asked for: the catalog's server series in both
 * dialects (counted into `serverSeriesSeen`) and the names `detectDialect` counts. Histograms are
 * asked for by their `_count` series, which exist exactly when their `_bucket`s do and are one
 * series per label set instead of one per bucket; each stands in for its `_bucket` name below.
 */
const PROBE_STAND_INS: ReadonlyMap<string, string> = (() => {
  const out = new Map<string, string>();
  for (const server of SERVER_DIALECTS) {
    const d: Dialect = { ...DEFAULT_DIALECT, server };
    for (const s of SIGNAL_CATALOG) {
      for (const m of metricsOf(s.measure)) {
        if (m.emitter !== 'server') continue;
        if (m.type === 'counter' || m.type === 'gauge') out.set(seriesName(m, 'value', d), '');
        else out.set(seriesName(m, 'count', d), seriesName(m, 'bucket', d));
      }
    }
  }
  // detectDialect's markers that are not catalog series in every dialect.
  out.set('service_requests', '');
  out.set('service_requests_total', '');
  out.set('service_latency_count', 'service_latency_bucket');
  out.set('state_transition_count_count', 'state_transition_count_bucket');
  return out;
})();
/** The SDK latency histograms `detectDialect` reads the SDK dialect from (`temporal_` prefix). */
const SDK_LATENCY_COUNT = /^temporal_.+_latency(?:_seconds)?_count$/;
const PROBE_SELECTOR = `{__name__=~"${[...PROBE_STAND_INS.keys()].sort().join('|')}|temporal_.+_latency(_seconds)?_count"}`;

/** The probed names plus the `_bucket` name each histogram `_count` stands in for. */
function standInNames(names: ReadonlySet<string>): string[] {
  const out = [...names];
  for (const n of names) {
    const bucket = PROBE_STAND_INS.get(n);
    if (bucket !== undefined && bucket !== '') out.push(bucket);
    else if (SDK_LATENCY_COUNT.test(n)) out.push(`${n.slice(0, -'_count'.length)}_bucket`);
  }
  return out;
}

/** The catalog's Temporal server series a probe looks for in `dialect` (one per metric family). */
function serverSeriesIn(dialect: Dialect): Set<string> {
  const out = new Set<string>();
  for (const s of SIGNAL_CATALOG) {
    for (const m of metricsOf(s.measure)) {
      if (m.emitter !== 'server') continue;
      out.add(
        seriesName(m, m.type === 'counter' || m.type === 'gauge' ? 'value' : 'count', dialect),
      );
    }
  }
  return out;
}

/** A window of at most one hour is one evaluation; longer ones are cut into hour-or-longer parts. */
const PROBE_PART_MS = 3_600_000;
/**
 * Evaluations in one probe: bounds the response (one point per name and step) and, with
 * `last_over_time` over each part, what a long replay window makes the server hold at once.
 */
const PROBE_MAX_STEPS = 30;

/**
 * Evaluation times whose `[t − step, t]` ranges tile the window, ending at `to`: every sample in
 * `[from, to]` is seen by exactly the evaluations that cover it, none outside the window.
 */
function probeGrid(
  from: number,
  to: number,
): { start: number; end: number; stepSec: number; steps: number } {
  const window = Math.max(to - from, 1000);
  const steps = Math.min(PROBE_MAX_STEPS, Math.max(1, Math.ceil(window / PROBE_PART_MS)));
  const stepSec = Math.max(1, Math.ceil(window / steps / 1000));
  return { start: to - (steps - 1) * stepSec * 1000, end: to, stepSec, steps };
}

/** The catalog entries of the signals the engine reads, with their position in a row. */
const ENGINE_SIGNALS: ReadonlyArray<readonly [number, SignalDef]> = ENGINE_IDS.map((id, i) => {
  const s = signalById(id);
  if (s === undefined) throw new Error(`engine signal ${id} is not in the catalog`);
  return [i, s] as const;
});

export function createPrometheusSource(options: PrometheusSourceOptions): PrometheusSource {
  const { base, basic } = normalizePrometheusUrl(options.url);
  const auth: PrometheusAuth = options.auth ?? basic ?? { kind: 'none' };
  const concurrency = options.concurrency ?? 8;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new PrometheusConfigError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  const rangeTimeoutMs = options.rangeTimeoutMs ?? 120_000;
  const maxPoints = Math.min(options.maxPointsPerRequest ?? 10_000, 11_000);
  const sign =
    auth.kind === 'sigv4' ? createSigV4Signer(base, auth, options.env ?? process.env) : undefined;
  const limit = pLimit(concurrency);
  const closing = new AbortController();
  const choice = options.dialect ?? {};
  let requests = 0;
  let lastProbe: ProbeResult | undefined;
  /** The end of the window `lastProbe` listed. */
  let lastProbeTo = Number.NaN;
  let settled: ProbeResult | undefined;

  const endpoint = (path: string): URL => {
    const u = new URL(base.href);
    u.pathname = `${base.pathname.replace(/\/$/, '')}/api/v1/${path}`;
    return u;
  };

  /** One HTTP exchange → the `data` of a success envelope, or a QueryError. */
  async function call(
    path: string,
    params: Record<string, string>,
    method: 'GET' | 'POST',
    budgetMs: number,
  ): Promise<unknown> {
    if (closing.signal.aborted) throw new QueryError('source closed');
    const url = endpoint(path);
    const form = new URLSearchParams(params).toString();
    let headers: Record<string, string> = { accept: 'application/json' };
    let body: string | undefined;
    if (method === 'POST') {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = form;
    } else {
      url.search = form;
    }
    if (auth.kind === 'bearer') headers.authorization = `Bearer ${auth.token}`;
    if (auth.kind === 'basic') headers.authorization = basicAuthorization(auth);
    if (sign !== undefined) {
      try {
        headers = await sign({ method, url, headers, ...(body === undefined ? {} : { body }) });
      } catch (error) {
        throw new QueryError(`SigV4 signing failed: ${short(messageOf(error), 120)}`);
      }
    }
    requests++;
    let res: Response;
    let text: string;
    try {
      const signal = AbortSignal.any([AbortSignal.timeout(budgetMs), closing.signal]);
      res = await fetch(url, { method, headers, signal, ...(body === undefined ? {} : { body }) });
      text = await res.text();
    } catch (error) {
      throw new QueryError(describeFetchError(error, budgetMs, url.host));
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

  async function query(
    params: Record<string, string>,
    path: string,
    budget: number,
  ): Promise<QueryResult> {
    const data = await call(path, params, 'POST', budget);
    const parsed = ResultSchema.safeParse(data);
    if (!parsed.success) throw new QueryError('malformed response: unexpected result shape');
    return parsed.data;
  }

  async function instant(expr: string, at: number): Promise<SignalValue> {
    try {
      const r = await query({ query: expr, time: epochSec(at) }, 'query', timeoutMs);
      if (r.resultType === 'scalar') return sampleValue(r.result[1]);
      if (r.resultType === 'matrix') return failed('unexpected range result for an instant query');
      if (r.result.length === 0) return ABSENT;
      if (r.result.length > 1) return failed(`expected one series, got ${r.result.length}`);
      return sampleValue((r.result[0] as { value: [number, string] }).value[1]);
    } catch (error) {
      return failed(error instanceof QueryError ? error.message : `query failed: ${String(error)}`);
    }
  }

  function resolve(detected: Partial<Dialect>): Pick<ProbeResult, 'dialect' | 'origin'> {
    const server =
      choice.server !== undefined && choice.server !== 'auto'
        ? { v: choice.server, o: 'override' as const }
        : detected.server !== undefined
          ? { v: detected.server, o: 'detected' as const }
          : { v: DEFAULT_DIALECT.server, o: 'default' as const };
    const sdk =
      choice.sdk !== undefined && choice.sdk !== 'auto'
        ? { v: choice.sdk, o: 'override' as const }
        : detected.sdk !== undefined
          ? { v: detected.sdk, o: 'detected' as const }
          : { v: DEFAULT_DIALECT.sdk, o: 'default' as const };
    return {
      dialect: {
        server: server.v,
        sdk: sdk.v,
        sdkPrefix: choice.sdkPrefix ?? DEFAULT_DIALECT.sdkPrefix,
      },
      origin: { server: server.o, sdk: sdk.o },
    };
  }

  async function probe(from: number, to: number): Promise<ProbeResult> {
    let names: Set<string>;
    try {
      const grid = probeGrid(from, to);
      const r = await limit(() =>
        query(
          {
            query: `count by (__name__) (last_over_time(${PROBE_SELECTOR}[${grid.stepSec}s]))`,
            start: epochSec(grid.start),
            end: epochSec(grid.end),
            step: String(grid.stepSec),
          },
          'query_range',
          grid.steps === 1 ? timeoutMs : rangeTimeoutMs,
        ),
      );
      if (r.resultType !== 'matrix') {
        throw new QueryError(`malformed response: ${r.resultType} result for the names probe`);
      }
      names = new Set();
      for (const series of r.result) {
        const name = series.metric.__name__;
        if (name !== undefined && series.values.length > 0) names.add(name);
      }
    } catch (error) {
      const message = messageOf(error);
      const r: ProbeResult = {
        ...resolve({}),
        reachable: false,
        serverSeriesSeen: 0,
        warning: `cannot list metric names at ${base.host}: ${message}`,
      };
      lastProbe = r;
      lastProbeTo = to;
      return r;
    }
    const resolved = resolve(detectDialect(standInNames(names)));
    let seen = 0;
    for (const n of serverSeriesIn(resolved.dialect)) if (names.has(n)) seen++;
    const r: ProbeResult = {
      ...resolved,
      reachable: true,
      serverSeriesSeen: seen,
      ...(seen === 0
        ? {
            warning:
              `${base.host} answers but has none of the Temporal server's metrics in the window ` +
              `(dialect ${resolved.dialect.server}; ${names.size} Temporal series names of any ` +
              'dialect); every server signal will read absent and the state unknown',
          }
        : {}),
    };
    lastProbe = r;
    lastProbeTo = to;
    // A decided dialect is kept; an undecided one is probed again (by `snapshot`, once
    // REPROBE_AFTER_MS has passed), since a source that was empty at start-up (an outage, a fresh
    // cluster) may have the names later.
    if (r.origin.server !== 'default' && seen > 0) settled = r;
    return r;
  }

  /**
   * `reuse` (the observation cycle) accepts an undecided probe of a window ending less than
   * REPROBE_AFTER_MS from `to`; replays pass false, since their window may predate the last probe's.
   */
  async function dialectFor(from: number, to: number, reuse = false): Promise<Dialect> {
    if (settled !== undefined) return settled.dialect;
    if (
      choice.server !== undefined &&
      choice.server !== 'auto' &&
      choice.sdk !== undefined &&
      choice.sdk !== 'auto'
    ) {
      // Fully overridden: still probe once for liveness, but never block on it.
      if (lastProbe === undefined) await probe(from, to);
      return resolve({}).dialect;
    }
    // Only a probe that reached the source is reused: after an outage the next cycle probes
    // again, so a source that comes back is read in its real dialect at once.
    if (reuse && lastProbe?.reachable && Math.abs(to - lastProbeTo) < REPROBE_AFTER_MS) {
      return lastProbe.dialect;
    }
    return (await probe(from, to)).dialect;
  }

  function render(s: SignalDef, dialect: Dialect): string | SignalValue {
    try {
      return renderSignal(s, dialect);
    } catch (error) {
      return failed(`cannot render query: ${messageOf(error)}`);
    }
  }

  async function snapshot(
    at: number,
    signals: readonly SignalDef[] = SIGNAL_CATALOG,
  ): Promise<Snapshot> {
    const values: Record<string, SignalValue> = {};
    try {
      const dialect = await dialectFor(at - 3_600_000, at, true);
      await Promise.all(
        signals.map(async (s) => {
          const q = render(s, dialect);
          values[s.id] = typeof q === 'string' ? await limit(() => instant(q, at)) : q;
        }),
      );
    } catch (error) {
      // Defensive: nothing above should throw, but a source must never throw out of a cycle.
      const message = `snapshot failed: ${messageOf(error)}`;
      for (const s of signals) values[s.id] ??= failed(message);
    }
    return { observedAt: at, values };
  }

  /** One signal over the grid, in chunks below the points limit → value per step index. */
  async function rangeOf(
    expr: string,
    grid: readonly number[],
    stepMs: number,
  ): Promise<SignalValue[]> {
    const out: SignalValue[] = new Array<SignalValue>(grid.length).fill(ABSENT);
    const chunks: Array<[number, number]> = [];
    for (let i = 0; i < grid.length; i += maxPoints)
      chunks.push([i, Math.min(i + maxPoints, grid.length) - 1]);
    await Promise.all(
      chunks.map(([a, b]) =>
        limit(async () => {
          const start = grid[a] as number;
          const end = grid[b] as number;
          try {
            const r = await query(
              { query: expr, start: epochSec(start), end: epochSec(end), step: epochSec(stepMs) },
              'query_range',
              rangeTimeoutMs,
            );
            if (r.resultType !== 'matrix')
              throw new QueryError(`unexpected ${r.resultType} result for a range query`);
            if (r.result.length > 1)
              throw new QueryError(`expected one series, got ${r.result.length}`);
            const series = r.result[0];
            if (series === undefined) return; // absent at every step of the chunk
            for (const [ts, raw] of series.values) {
              const ms = Math.round(ts * 1000);
              const k = (ms - start) / stepMs;
              // Only points on our grid count; a step without a point stays absent.
              if (Number.isInteger(k) && k >= 0 && a + k <= b) out[a + k] = sampleValue(raw);
            }
          } catch (error) {
            const v = failed(
              error instanceof QueryError ? error.message : `query failed: ${String(error)}`,
            );
            for (let i = a; i <= b; i++) out[i] = v;
          }
        }),
      ),
    );
    return out;
  }

  function gridOf(from: number, to: number, stepMs: number): number[] {
    if (!Number.isFinite(from) || !Number.isFinite(to) || to < from) {
      throw new RangeError(`invalid range ${from}..${to}`);
    }
    if (!Number.isInteger(stepMs) || stepMs <= 0) throw new RangeError(`invalid step ${stepMs} ms`);
    const grid: number[] = [];
    for (let t = from; t <= to; t += stepMs) grid.push(t);
    return grid;
  }

  async function range(
    from: number,
    to: number,
    stepMs: number,
    signals: readonly SignalDef[] = SIGNAL_CATALOG,
  ): Promise<Snapshot[]> {
    const grid = gridOf(from, to, stepMs);
    const snaps: Snapshot[] = grid.map((t) => ({ observedAt: t, values: {} }));
    const dialect = await dialectFor(from - 600_000, to);
    await Promise.all(
      signals.map(async (s) => {
        const q = render(s, dialect);
        const column = typeof q === 'string' ? await rangeOf(q, grid, stepMs) : grid.map(() => q);
        column.forEach((v, i) => {
          (snaps[i] as Snapshot).values[s.id] = v;
        });
      }),
    );
    return snaps;
  }

  /**
   * The engine's signals over the grid, written straight into observation columns: one query per
   * engine signal, no snapshot objects, so a replay of months costs a few flat buffers (about
   * 350 bytes per step) instead of an object per value. Range points carry no sample time;
   * Prometheus's own lookback decides staleness.
   */
  async function rangeColumns(
    from: number,
    to: number,
    stepMs: number,
  ): Promise<ObservationColumns> {
    const grid = gridOf(from, to, stepMs);
    const cols = observationColumns(grid.length);
    cols.observedAt.set(grid);
    const dialect = await dialectFor(from - 600_000, to);
    await Promise.all(
      ENGINE_SIGNALS.map(async ([i, s]) => {
        const q = render(s, dialect);
        const column = typeof q === 'string' ? await rangeOf(q, grid, stepMs) : undefined;
        for (let row = 0; row < grid.length; row++) {
          const v = column === undefined ? (q as SignalValue) : column[row];
          writeValue(cols.n, cols.s, row * ENGINE_WIDTH + i, v, Number.NEGATIVE_INFINITY);
        }
      }),
    );
    return cols;
  }

  return {
    kind: auth.kind === 'sigv4' ? 'amp' : 'prometheus',
    baseUrl: base.href.replace(/\/$/, ''),
    get requestCount() {
      return requests;
    },
    get lastProbe() {
      return lastProbe;
    },
    probe,
    snapshot,
    range,
    rangeColumns,
    async close() {
      closing.abort();
    },
  };
}
