import * as z from 'zod';
import { ConfigurationError } from '../../shared/errors.js';
import { SIGNAL_CATALOG } from '../../shared/signals/catalog.js';
import {
  DEFAULT_DIALECT,
  type Dialect,
  detectDialect,
  SDK_DIALECTS,
  SERVER_DIALECTS,
  seriesNamesOf,
} from '../../shared/signals/dialect.js';
import { parseExposition, type Sample, seriesKeyOf } from '../../shared/signals/exposition.js';
import { evaluateSignal, indexScrape, type Scrape } from '../../shared/signals/measure-eval.js';
import type { SignalDef } from '../../shared/signals/types.js';
import { failed, type SignalValue, type Snapshot } from '../../shared/signals/value.js';
import { deadline } from './deadline.js';
import { describeFetchError } from './fetch-error.js';
import { readBodyCapped } from './read-body.js';
import { redactUrl } from './redact.js';
import type { SignalSource } from './types.js';
import { basicAuthorization, splitUrlCredentials } from './url.js';

/**
 * Direct scrape of Temporal `/metrics` endpoints, no Prometheus needed: the embedded default
 * source of `npm start`, which observes the copilot's own dev server.
 *
 * Each `snapshot()` scrapes every endpoint concurrently (per-request timeout), keeps a short
 * history of scrapes, and evaluates each catalog measure over the scrapes inside its window with
 * `shared/signals/measure-eval.ts` (PromQL semantics). A sample's identity includes its
 * endpoint, as Prometheus's `instance` label does, so identical series from two processes stay
 * apart and are summed as two.
 *
 * First call: rates need two samples, so the first call scrapes, waits `minIntervalMs`, and
 * scrapes again — rates are present from the very first snapshot (over a short window) instead of
 * being absent for one cycle. Later calls wait only if the previous scrape is younger than
 * `minIntervalMs`, for the same reason.
 */

export const ScrapeSourceOptionsSchema = z.object({
  /** One or more `/metrics` URLs (history, matching, frontend, worker run as separate processes). */
  urls: z.array(z.url({ protocol: /^https?$/ })).min(1),
  /** Overrides what is detected from the metric names. */
  dialect: z
    .object({
      server: z.enum(SERVER_DIALECTS).optional(),
      sdk: z.enum(SDK_DIALECTS).optional(),
      sdkPrefix: z.string().optional(),
    })
    .optional(),
  /** Per-request timeout. @default 5000 */
  timeoutMs: z.number().int().positive().default(5000),
  /**
   * Minimum age of the previous scrape before a new one; also the gap between the first call's
   * two scrapes. Temporal's tally reporter refreshes every second, so less than ~1 s sees no
   * change. @default 2000
   */
  minIntervalMs: z.number().int().nonnegative().default(2000),
  /**
   * Largest exposition read per endpoint; past it the scrape fails (its signals read `error`)
   * instead of holding the body in memory. A busy history service exposes a few MB to a few tens
   * of MB; Prometheus itself has no default limit (`body_size_limit`). @default 64 MiB
   */
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 2 ** 20),
});
export type ScrapeSourceOptions = z.input<typeof ScrapeSourceOptionsSchema>;

export class ScrapeSourceConfigError extends ConfigurationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ScrapeSourceConfigError';
  }
}

/** Longest catalog window plus slack: history older than this can never be read again. */
const HISTORY_MS = (Math.max(...SIGNAL_CATALOG.map((s) => windowSecOf(s))) + 60) * 1000;
/** A cap on retained scrapes so a fast caller cannot grow memory without bound. */
const HISTORY_MAX = 64;

function windowSecOf(def: SignalDef): number {
  const walk = (m: SignalDef['measure']): number =>
    m.kind === 'ratio'
      ? Math.max(walk(m.numerator), walk(m.denominator))
      : 'windowSec' in m
        ? m.windowSec
        : 0;
  return walk(def.measure);
}

/** The one copy of a series' identity the history keeps, and when it was last scraped. */
interface SeriesIdentity {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly key: string;
  lastAt: number;
}

/**
 * Keeps one copy of each series' name, labels and key for as long as the history can read it,
 * and gives every scrape's samples those copies: what Prometheus's scrape cache does.
 *
 * Why: the parser's strings are slices of the exposition text, and a slice keeps the whole text
 * alive. A history of scrapes therefore held every body it had parsed — measured on a Temporal
 * dev server (~2 MB exposition, 5 s cadence), 64 bodies, 124 MiB, plus a fresh label object
 * and key per sample per scrape, ~230 MiB of a 340 MiB heap (docs/benchmarks.md, "Where the
 * worker's memory went"). A series seen for the first time is copied once (`structuredClone`
 * makes new, flat strings); afterwards a scrape adds only its values.
 */
export interface SeriesInterner {
  /** The samples of a scrape taken at `at`, sharing the kept identities. */
  intern(samples: readonly Sample[], at: number): Sample[];
  /** Forgets series not scraped since `cutoff` (no retained scrape can hold them). */
  forgetBefore(cutoff: number): void;
  /** Series kept. */
  readonly size: number;
}

export function createSeriesInterner(): SeriesInterner {
  const series = new Map<string, SeriesIdentity>();
  return {
    intern(samples, at) {
      const out: Sample[] = new Array(samples.length);
      for (let i = 0; i < samples.length; i++) {
        const s = samples[i] as Sample;
        const key = s.key ?? seriesKeyOf(s.name, s.labels);
        let id = series.get(key);
        if (id === undefined) {
          const copy = structuredClone({ name: s.name, labels: s.labels, key });
          id = { ...copy, lastAt: at };
          series.set(id.key, id);
        } else id.lastAt = at;
        out[i] =
          s.timestampMs === undefined
            ? { name: id.name, labels: id.labels, key: id.key, value: s.value }
            : {
                name: id.name,
                labels: id.labels,
                key: id.key,
                value: s.value,
                timestampMs: s.timestampMs,
              };
      }
      return out;
    },
    forgetBefore(cutoff) {
      for (const [key, id] of series) if (id.lastAt < cutoff) series.delete(key);
    },
    get size() {
      return series.size;
    },
  };
}

interface EndpointState {
  /**
   * Identifies the endpoint in messages and series keys, as Prometheus's `instance` label does:
   * the whole URL, so two paths on one host:port are two targets, with its secrets redacted.
   */
  readonly url: string;
  /** What is fetched: the URL without userinfo (fetch refuses it), query tokens kept. */
  readonly fetchUrl: URL;
  readonly headers: Readonly<Record<string, string>>;
  /** Series names the endpoint exposed in its last successful scrape; undefined until one. */
  names: Set<string> | undefined;
}

type EndpointResult =
  | { readonly ok: true; readonly samples: Sample[]; readonly names: Set<string> }
  | { readonly ok: false; readonly message: string };

/** Every series name any dialect could read for these signals: history is filtered by it. */
function namesForAllDialects(signals: readonly SignalDef[], sdkPrefix: string): Set<string> {
  const out = new Set<string>();
  for (const server of SERVER_DIALECTS) {
    for (const sdk of SDK_DIALECTS) {
      const d: Dialect = { server, sdk, sdkPrefix };
      for (const s of signals) for (const n of seriesNamesOf(s.measure, d)) out.add(n);
    }
  }
  return out;
}

/** Waits `ms`, or less if the source is closed; leaves no listener behind on the long-lived signal. */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** A scrape source, plus the dialect it settled on (for logs, `--dialect auto`, tests). */
export interface ScrapeSource extends SignalSource {
  /** The dialect in use: detected from the exposed names, then the configured override. */
  dialect(): Dialect;
}

export function createScrapeSource(options: ScrapeSourceOptions): ScrapeSource {
  const parsed = ScrapeSourceOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new ScrapeSourceConfigError(
      `invalid scrape source options: ${z.prettifyError(parsed.error)}`,
    );
  }
  const opts = parsed.data;
  const endpoints: EndpointState[] = opts.urls.map((raw) => {
    const url = redactUrl(raw);
    let split: ReturnType<typeof splitUrlCredentials>;
    try {
      split = splitUrlCredentials(new URL(raw));
    } catch {
      throw new ScrapeSourceConfigError(
        `invalid scrape URL ${url}: malformed percent-escape in its credentials`,
      );
    }
    // `user:password@` in the URL becomes basic auth, as for Prometheus and Loki.
    const headers: Record<string, string> = { accept: 'text/plain;version=0.0.4' };
    if (split.credentials !== undefined) {
      headers.authorization = basicAuthorization(split.credentials);
    }
    return { url, fetchUrl: split.url, headers, names: undefined };
  });
  const lifetime = new AbortController();
  let history: Scrape[] = [];
  const interner = createSeriesInterner();
  let keepNames = namesForAllDialects(
    SIGNAL_CATALOG,
    opts.dialect?.sdkPrefix ?? DEFAULT_DIALECT.sdkPrefix,
  );
  let dialect: Dialect = { ...DEFAULT_DIALECT, ...opts.dialect };
  let detectedOnce = false;
  let queue: Promise<unknown> = Promise.resolve();

  async function scrapeOne(ep: EndpointState): Promise<EndpointResult> {
    const { signal, release } = deadline(opts.timeoutMs, lifetime.signal);
    try {
      const res = await fetch(ep.fetchUrl, { headers: ep.headers, signal });
      if (!res.ok) {
        // The body of an error page says nothing the status does not; do not download it.
        await res.body?.cancel().catch(() => {});
        return { ok: false, message: `HTTP ${res.status} from ${ep.url}` };
      }
      const body = await readBodyCapped(res, opts.maxBodyBytes);
      // The endpoint is part of every series' identity (Prometheus's `instance` label), so the
      // same series from two processes stays two series. It lives in the key only: no catalog
      // matcher reads `instance`, and copying every label set each cycle would double the cost.
      const names = new Set<string>();
      const samples = parseExposition(body, {
        keep: keepNames,
        names,
        keyPrefix: `${ep.url}\u0002`,
      });
      return { ok: true, samples, names };
    } catch (error) {
      const reason = describeFetchError(error, opts.timeoutMs, ep.fetchUrl.host);
      return { ok: false, message: `scrape of ${ep.url} failed: ${reason}` };
    } finally {
      release();
    }
  }

  /** One scrape of every endpoint, merged into one history entry. Returns the failures. */
  async function scrapeAll(): Promise<Map<EndpointState, string>> {
    const at = Date.now();
    const results = await Promise.all(endpoints.map(scrapeOne));
    const merged: Sample[] = [];
    const down = new Map<EndpointState, string>();
    results.forEach((r, i) => {
      const ep = endpoints[i] as EndpointState;
      if (!r.ok) {
        down.set(ep, r.message);
        return;
      }
      for (const sample of r.samples) merged.push(sample);
      ep.names = r.names;
    });
    if (!detectedOnce || down.size === 0) {
      const all = new Set<string>();
      for (const ep of endpoints) for (const n of ep.names ?? []) all.add(n);
      if (all.size > 0) {
        dialect = { ...DEFAULT_DIALECT, ...detectDialect(all), ...opts.dialect };
        detectedOnce = true;
      }
    }
    history.push(indexScrape(at, interner.intern(merged, at)));
    const cutoff = at - HISTORY_MS;
    history = history.filter((s) => s.at >= cutoff).slice(-HISTORY_MAX);
    // Only identities some retained scrape holds (the oldest kept scrape's time or later).
    interner.forgetBefore(history[0]?.at ?? at);
    return down;
  }

  /**
   * Whether a down endpoint makes a signal's value unknowable. An absent result with any endpoint
   * down is "cannot see", not "no such series": the missing series may live on the dead one. A
   * value is kept only if no down endpoint is known (or could be) to expose its series: otherwise
   * it would be a partial sum passed off as the whole.
   */
  function taintingFailure(
    def: SignalDef,
    value: SignalValue,
    down: Map<EndpointState, string>,
  ): string | undefined {
    const first = down.values().next();
    if (first.done === true) return undefined;
    if (value.status === 'absent') return first.value;
    const wanted = seriesNamesOf(def.measure, dialect);
    for (const [ep, message] of down) {
      if (ep.names === undefined || wanted.some((n) => ep.names?.has(n))) return message;
    }
    return undefined;
  }

  return {
    kind: 'scrape',
    dialect: () => dialect,
    snapshot(at: number, signals: readonly SignalDef[] = SIGNAL_CATALOG): Promise<Snapshot> {
      // One cycle at a time: history must stay in scrape order for the windows to mean anything.
      const run = queue.then(() => observe(at, signals));
      queue = run.catch(() => undefined);
      return run;
    },
    async close(): Promise<void> {
      lifetime.abort();
      history = [];
      interner.forgetBefore(Number.POSITIVE_INFINITY);
      keepNames = new Set();
    },
  };

  async function observe(at: number, signals: readonly SignalDef[]): Promise<Snapshot> {
    if (signals !== SIGNAL_CATALOG) {
      for (const n of namesForAllDialects(signals, dialect.sdkPrefix)) keepNames.add(n);
    }
    const newest = history[history.length - 1];
    if (newest === undefined) {
      await scrapeAll();
      await sleep(opts.minIntervalMs, lifetime.signal);
    } else {
      await sleep(newest.at + opts.minIntervalMs - Date.now(), lifetime.signal);
    }
    const down = await scrapeAll();
    const values: Record<string, SignalValue> = {};
    for (const def of signals) {
      const value = evaluateSignal(def, history, dialect);
      const taint = value.status === 'error' ? undefined : taintingFailure(def, value, down);
      values[def.id] = taint === undefined ? value : failed(taint);
    }
    return { observedAt: Math.max(0, Math.round(at)), values };
  }
}
