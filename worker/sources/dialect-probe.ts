import { messageOf } from '../../shared/errors.js';
import { metricsOf, SIGNAL_CATALOG } from '../../shared/signals/catalog.js';
import {
  DEFAULT_DIALECT,
  type Dialect,
  detectDialect,
  type SdkDialect,
  SERVER_DIALECTS,
  type ServerDialect,
  seriesName,
} from '../../shared/signals/dialect.js';
import { epochSec, type PrometheusClient, QueryError } from './prometheus-http.js';

/**
 * Which dialect a Prometheus-compatible source speaks, and whether it has Temporal's metrics at
 * all: one range query per probe over the client, the choice between override, detection and
 * default, and when to probe again.
 */

/** `auto` detects from the source's metric names; anything else overrides. */
export interface DialectChoice {
  readonly server?: 'auto' | ServerDialect;
  readonly sdk?: 'auto' | SdkDialect;
  readonly sdkPrefix?: string;
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
  /** How many of the catalog's Temporal server series names the source has in the window. */
  readonly serverSeriesSeen: number;
  /** A one-line account for logs and the CLI when something is off; undefined when all is well. */
  readonly warning?: string;
}

/**
 * How long, in evaluation time, the observation cycle reuses the last probe while the dialect is
 * undecided. The probe reads every sample of the Temporal series it asks for over an hour, the
 * heaviest request a source gets; sending it on each 30 s cycle of a source that has no Temporal
 * metrics yet would cost more than the cycle's own queries. A source that was empty or down at
 * start-up is still picked up within this long.
 */
const REPROBE_AFTER_MS = 5 * 60_000;

/**
 * The probe asks which Temporal series have samples in the window, with one range query
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
 * series per label set instead of one per bucket; each stands in for its `_bucket` name
 * (the empty string: a series that stands for itself only).
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
  // detectDialect's markers, whether or not the catalog reads them.
  out.set('service_requests', '');
  out.set('service_requests_total', '');
  out.set('service_latency_count', 'service_latency_bucket');
  out.set('state_transition_count_count', 'state_transition_count_bucket');
  return out;
})();
/** The SDK latency histograms `detectDialect` reads the SDK dialect from (`temporal_` prefix). */
const SDK_LATENCY_COUNT = /^temporal_.+_latency(?:_seconds)?_count$/;
/** Metric names are `[a-zA-Z_:][a-zA-Z0-9_:]*`: nothing in them needs escaping in a regex. */
export const PROBE_SELECTOR = `{__name__=~"${[...PROBE_STAND_INS.keys()].sort().join('|')}|temporal_.+_latency(_seconds)?_count"}`;

/** The probed names plus the `_bucket` name each histogram `_count` stands in for. */
export function standInNames(names: ReadonlySet<string>): string[] {
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
      const part = m.type === 'counter' || m.type === 'gauge' ? 'value' : 'count';
      out.add(seriesName(m, part, dialect));
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
 * `[from, to]` is seen by the evaluation that covers it, none from outside the window.
 */
export function probeGrid(
  from: number,
  to: number,
): { start: number; end: number; stepSec: number; steps: number } {
  const window = Math.max(to - from, 1000);
  const steps = Math.min(PROBE_MAX_STEPS, Math.max(1, Math.ceil(window / PROBE_PART_MS)));
  const stepSec = Math.max(1, Math.ceil(window / steps / 1000));
  return { start: to - (steps - 1) * stepSec * 1000, end: to, stepSec, steps };
}

/** The dialect to render in: each part the override, else what was detected, else the default. */
export function resolveDialect(
  choice: DialectChoice,
  detected: Partial<Dialect>,
): Pick<ProbeResult, 'dialect' | 'origin'> {
  // Each part: the override, else what was detected, else the default, and which it was.
  const pick = <T>(override: T | 'auto' | undefined, found: T | undefined, fallback: T) =>
    override !== undefined && override !== 'auto'
      ? { v: override, o: 'override' as const }
      : found !== undefined
        ? { v: found, o: 'detected' as const }
        : { v: fallback, o: 'default' as const };
  const server = pick(choice.server, detected.server, DEFAULT_DIALECT.server);
  const sdk = pick(choice.sdk, detected.sdk, DEFAULT_DIALECT.sdk);
  return {
    dialect: {
      server: server.v,
      sdk: sdk.v,
      sdkPrefix: choice.sdkPrefix ?? DEFAULT_DIALECT.sdkPrefix,
    },
    origin: { server: server.o, sdk: sdk.o },
  };
}

export interface DialectProberOptions {
  readonly client: Pick<PrometheusClient, 'base' | 'query'>;
  readonly choice?: DialectChoice;
  /** Budget of a probe that is one evaluation (the observation cycle's hour). */
  readonly timeoutMs: number;
  /** Budget of a probe cut into several parts (a replay window). */
  readonly rangeTimeoutMs: number;
}

export interface DialectProber {
  /** Probes `[from, to]` now; never throws (an unreachable source is `reachable: false`). */
  probe(from: number, to: number): Promise<ProbeResult>;
  /**
   * The dialect to render `[from, to]` in: the settled one, the override, or a fresh probe.
   * `reuse` (the observation cycle) accepts an undecided probe of a window ending less than
   * REPROBE_AFTER_MS from `to`; replays pass false, since their window may predate the last one.
   */
  dialectFor(from: number, to: number, reuse?: boolean): Promise<Dialect>;
  readonly lastProbe: ProbeResult | undefined;
}

export function createDialectProber(options: DialectProberOptions): DialectProber {
  const { client, timeoutMs, rangeTimeoutMs } = options;
  const choice = options.choice ?? {};
  const host = client.base.host;
  let lastProbe: ProbeResult | undefined;
  /** The end of the window `lastProbe` probed. */
  let lastProbeTo = Number.NaN;
  let settled: ProbeResult | undefined;

  /** The Temporal series names with a sample in `[from, to]`. */
  async function namesIn(from: number, to: number): Promise<Set<string>> {
    const grid = probeGrid(from, to);
    const r = await client.query(
      'query_range',
      {
        query: `count by (__name__) (last_over_time(${PROBE_SELECTOR}[${grid.stepSec}s]))`,
        start: epochSec(grid.start),
        end: epochSec(grid.end),
        step: String(grid.stepSec),
      },
      grid.steps === 1 ? timeoutMs : rangeTimeoutMs,
    );
    if (r.resultType !== 'matrix') {
      throw new QueryError(`malformed response: ${r.resultType} result for the names probe`);
    }
    const names = new Set<string>();
    for (const series of r.result) {
      const name = series.metric.__name__;
      if (name !== undefined && series.values.length > 0) names.add(name);
    }
    return names;
  }

  async function probe(from: number, to: number): Promise<ProbeResult> {
    let names: Set<string>;
    try {
      names = await namesIn(from, to);
    } catch (error) {
      const r: ProbeResult = {
        ...resolveDialect(choice, {}),
        reachable: false,
        serverSeriesSeen: 0,
        warning: `cannot list metric names at ${host}: ${messageOf(error)}`,
      };
      lastProbe = r;
      lastProbeTo = to;
      return r;
    }
    const resolved = resolveDialect(choice, detectDialect(standInNames(names)));
    let seen = 0;
    for (const n of serverSeriesIn(resolved.dialect)) if (names.has(n)) seen++;
    const r: ProbeResult = {
      ...resolved,
      reachable: true,
      serverSeriesSeen: seen,
      ...(seen === 0
        ? {
            warning:
              `${host} answers but has none of the Temporal server's metrics in the window ` +
              `(dialect ${resolved.dialect.server}; ${names.size} Temporal series names of any ` +
              'dialect); every server signal will read absent and the state unknown',
          }
        : {}),
    };
    lastProbe = r;
    lastProbeTo = to;
    // A decided dialect is kept; an undecided one is probed again (by the cycle, once
    // REPROBE_AFTER_MS has passed), since a source that was empty at start-up (an outage, a fresh
    // cluster) may have the names later.
    if (r.origin.server !== 'default' && seen > 0) settled = r;
    return r;
  }

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
      return resolveDialect(choice, {}).dialect;
    }
    // Only a probe that reached the source is reused: after an outage the next cycle probes
    // again, so a source that comes back is read in its real dialect at once.
    if (reuse && lastProbe?.reachable && Math.abs(to - lastProbeTo) < REPROBE_AFTER_MS) {
      return lastProbe.dialect;
    }
    return (await probe(from, to)).dialect;
  }

  return {
    probe,
    dialectFor,
    get lastProbe() {
      return lastProbe;
    },
  };
}
