import { messageOf } from '../errors.js';
import { type Dialect, quantileScale, rateSeriesPart, seriesName } from './dialect.js';
import { parsePromFloat, type Sample, seriesKeyOf } from './exposition.js';
import type { LabelMatcher, Measure, SeriesSelector, SignalDef } from './types.js';
import { ABSENT, failed, ok, type SignalValue } from './value.js';

/**
 * Evaluates catalog {@link Measure}s over scrapes of Prometheus expositions, with the semantics
 * PromQL gives the same measure, so the direct-scrape source and the Prometheus source agree
 * (a differential test against a real Prometheus holds us to it). Pure: the scrape times are
 * parameters, there is no clock.
 *
 * Semantics, for a measure with window `w` evaluated at the newest scrape `t`:
 * - The window holds the scrapes taken in `[t - w, t]` (both ends included, as Prometheus 2.x
 *   range selectors do). Its *effective range* runs from the oldest of them to `t`: the window
 *   "between the scrapes", up to `w`. Fewer than two scrapes in it: rates and quantiles are absent.
 * - `rate`: Prometheus's `rate()` over the effective range, series by series (promql/functions.go
 *   `extrapolatedRate`, v2.42): the increase between consecutive samples, a decrease being a
 *   counter reset that counts the new value; extrapolated towards the range's edges exactly as
 *   Prometheus does (by the gap to an edge when it is under 1.1 average sample intervals, else
 *   by half an interval; never past the counter's zero point); divided by the range;
 *   summed over every series the selectors match. A series present in every scrape of the range
 *   needs no extrapolation, so its rate is Δ/Δt; with scrapes on the window's edges the result is
 *   Prometheus's `sum(rate(x[w]))` to the last bit of rounding (the differential test holds us to it).
 * - A series seen in only one scrape of the range (it just appeared) has no rate yet and
 *   contributes nothing, as in Prometheus: its first value is not counted as an increase, because
 *   a cumulative counter's first sample says nothing about when it was reached. If no matched
 *   series has two samples the rate is absent, never 0. Several selectors sum what exists
 *   (`sum(rate({__name__=~"a|b"}[w]))`).
 * - `quantile`: `histogram_quantile(q, sum by (le) (rate(x_bucket[w])))` — the bucket rates summed
 *   by `le`, linear interpolation inside the bucket, the lowest bucket starting at 0, the `+Inf`
 *   bucket answering with the highest finite bound. No observations (NaN) → absent.
 * - `gauge`: sum, max or min over the series matched in the newest scrape (a series that
 *   vanished has a staleness marker in Prometheus, so older scrapes do not count).
 * - `ratio`: absent when either side is absent or the denominator is 0 (PromQL's NaN/Inf for
 *   "no traffic"); `complement` returns 1 − n/d.
 * A non-finite result (e.g. a NaN gauge) is an `error` value: the source answered, but with
 * nothing a threshold can compare.
 */

/** One scrape: its samples indexed by exported series name, and when it was taken (epoch ms). */
export interface Scrape {
  readonly at: number;
  readonly byName: ReadonlyMap<string, readonly Sample[]>;
}

/** Indexes samples by name; `keep` can drop names no measure reads, to keep history small. */
export function indexScrape(
  at: number,
  samples: Iterable<Sample>,
  keep?: (name: string) => boolean,
): Scrape {
  const byName = new Map<string, Sample[]>();
  for (const s of samples) {
    if (keep !== undefined && !keep(s.name)) continue;
    const list = byName.get(s.name);
    if (list === undefined) byName.set(s.name, [s]);
    else list.push(s);
  }
  return { at, byName };
}

export type MeasureResult =
  | { readonly status: 'value'; readonly value: number }
  | { readonly status: 'absent'; readonly reason: string };

const absent = (reason: string): MeasureResult => ({ status: 'absent', reason });
const value = (v: number): MeasureResult => ({ status: 'value', value: v });

export class LabelMatcherError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LabelMatcherError';
  }
}

type LabelPredicate = (labels: Readonly<Record<string, string>>) => boolean;
const REGEX_CACHE = new Map<string, RegExp>();

/**
 * Compiles a PromQL regex the way Prometheus does: fully anchored (`^(?:re)$`). RE2 and
 * JavaScript agree on the syntax the catalog uses; RE2's leading `(?i)` flag becomes the `i`
 * flag because JavaScript has no inline flags.
 */
export function compileRegex(source: string): RegExp {
  const cached = REGEX_CACHE.get(source);
  if (cached !== undefined) return cached;
  let body = source;
  let flags = 's';
  if (body.startsWith('(?i)')) {
    body = body.slice(4);
    flags += 'i';
  }
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${body})$`, flags);
  } catch (error) {
    throw new LabelMatcherError(`invalid label regex ${JSON.stringify(source)}`, { cause: error });
  }
  REGEX_CACHE.set(source, re);
  return re;
}

/** A label matcher as a predicate. A missing label reads as the empty string, as in PromQL. */
export function compileMatcher(m: LabelMatcher): LabelPredicate {
  switch (m.op) {
    case '=':
      return (l) => (l[m.label] ?? '') === m.value;
    case '!=':
      return (l) => (l[m.label] ?? '') !== m.value;
    case '=~': {
      const re = compileRegex(m.value);
      return (l) => re.test(l[m.label] ?? '');
    }
    case '!~': {
      const re = compileRegex(m.value);
      return (l) => !re.test(l[m.label] ?? '');
    }
  }
}

function selectorPredicate(sel: SeriesSelector): LabelPredicate {
  const preds = sel.matchers.map(compileMatcher);
  if (preds.length === 0) return () => true;
  return (l) => preds.every((p) => p(l));
}

/** A sample's series identity: the producer's key, else the canonical one (see `seriesKeyOf`). */
export function seriesKey(sample: Sample): string {
  return sample.key ?? seriesKeyOf(sample.name, sample.labels);
}

/** The scrapes within `[newest - windowSec, newest]`, oldest first. */
export function windowOf(history: readonly Scrape[], windowSec: number): readonly Scrape[] {
  const newest = history[history.length - 1];
  if (newest === undefined) return [];
  const from = newest.at - windowSec * 1000;
  let i = history.length - 1;
  while (i > 0 && (history[i - 1]?.at ?? Number.NEGATIVE_INFINITY) >= from) i--;
  return history.slice(i);
}

interface SeriesIncrease {
  readonly sample: Sample;
  readonly firstAt: number;
  readonly firstValue: number;
  lastAt: number;
  last: number;
  increase: number;
  samples: number;
}

/**
 * Per-series increases of the series named `name` that `pred` matches, across the window's
 * scrapes, with Prometheus's counter-reset rule. Keyed by series identity.
 */
function increases(
  window: readonly Scrape[],
  name: string,
  pred: LabelPredicate,
  into: Map<string, SeriesIncrease>,
): void {
  for (const scrape of window) {
    const samples = scrape.byName.get(name);
    if (samples === undefined) continue;
    for (const s of samples) {
      if (!pred(s.labels)) continue;
      const key = seriesKey(s);
      const acc = into.get(key);
      if (acc === undefined) {
        into.set(key, {
          sample: s,
          firstAt: scrape.at,
          firstValue: s.value,
          lastAt: scrape.at,
          last: s.value,
          increase: 0,
          samples: 1,
        });
        continue;
      }
      // A decrease is a counter reset: the counter restarted from 0 and reached the new value.
      acc.increase += s.value >= acc.last ? s.value - acc.last : s.value;
      acc.last = s.value;
      acc.lastAt = scrape.at;
      acc.samples++;
    }
  }
}

/**
 * A series' increase extrapolated over `[rangeStart, rangeEnd]` (epoch ms), as Prometheus 2.42's
 * `extrapolatedRate` does before dividing by the range: towards each edge by the gap to it when
 * that gap is under 1.1 average sample intervals, else by half an interval; towards the start
 * never past the point where the counter would have been 0.
 */
function extrapolatedIncrease(s: SeriesIncrease, rangeStart: number, rangeEnd: number): number {
  const sampled = (s.lastAt - s.firstAt) / 1000;
  if (!(sampled > 0)) return Number.NaN;
  let toStart = (s.firstAt - rangeStart) / 1000;
  const toEnd = (rangeEnd - s.lastAt) / 1000;
  const avg = sampled / (s.samples - 1);
  if (s.increase > 0 && s.firstValue >= 0) {
    const toZero = sampled * (s.firstValue / s.increase);
    if (toZero < toStart) toStart = toZero;
  }
  const threshold = avg * 1.1;
  let interval = sampled;
  interval += toStart < threshold ? toStart : avg / 2;
  interval += toEnd < threshold ? toEnd : avg / 2;
  return s.increase * (interval / sampled);
}

function spanSec(window: readonly Scrape[]): number {
  const first = window[0];
  const last = window[window.length - 1];
  if (first === undefined || last === undefined) return 0;
  return (last.at - first.at) / 1000;
}

export interface Bucket {
  readonly upperBound: number;
  readonly count: number;
}

/**
 * Prometheus's `bucketQuantile` (promql/quantile.go, v2.42): buckets sorted by upper bound,
 * equal bounds coalesced, counts forced monotonic; NaN without a `+Inf` bucket, with fewer than
 * two buckets or with no observations.
 */
export function histogramQuantile(q: number, input: readonly Bucket[]): number {
  if (Number.isNaN(q)) return Number.NaN;
  if (q < 0) return Number.NEGATIVE_INFINITY;
  if (q > 1) return Number.POSITIVE_INFINITY;
  const sorted = [...input].sort((a, b) => a.upperBound - b.upperBound);
  const buckets: { upperBound: number; count: number }[] = [];
  for (const b of sorted) {
    const prev = buckets[buckets.length - 1];
    if (prev !== undefined && prev.upperBound === b.upperBound) prev.count += b.count;
    else buckets.push({ upperBound: b.upperBound, count: b.count });
  }
  const last = buckets[buckets.length - 1];
  if (last === undefined || last.upperBound !== Number.POSITIVE_INFINITY) return Number.NaN;
  if (buckets.length < 2) return Number.NaN;
  // Counts of a cumulative histogram never decrease; rates of separately scraped buckets can
  // (precision, races), so Prometheus takes the running maximum.
  let max = Number.NEGATIVE_INFINITY;
  for (const b of buckets) {
    if (b.count > max) max = b.count;
    else b.count = max;
  }
  const observations = last.count;
  if (!(observations > 0)) return Number.NaN;
  let rank = q * observations;
  let idx = buckets.findIndex((b) => b.count >= rank);
  if (idx < 0) idx = buckets.length - 1;
  if (idx === buckets.length - 1) return buckets[buckets.length - 2]?.upperBound ?? Number.NaN;
  const b = buckets[idx] as { upperBound: number; count: number };
  if (idx === 0 && b.upperBound <= 0) return b.upperBound;
  let start = 0;
  let count = b.count;
  const prev = buckets[idx - 1];
  if (prev !== undefined) {
    start = prev.upperBound;
    count -= prev.count;
    rank -= prev.count;
  }
  return start + (b.upperBound - start) * (rank / count);
}

/** Evaluates one measure over the scrape history (oldest first) in a dialect. */
export function evaluateMeasure(
  measure: Measure,
  history: readonly Scrape[],
  dialect: Dialect,
): MeasureResult {
  switch (measure.kind) {
    case 'rate': {
      const window = windowOf(history, measure.windowSec);
      if (window.length < 2) return absent('fewer than two scrapes in the window');
      const span = spanSec(window);
      if (!(span > 0)) return absent('the window spans no time');
      const acc = new Map<string, SeriesIncrease>();
      for (const sel of measure.series) {
        increases(
          window,
          seriesName(sel.metric, rateSeriesPart(sel), dialect),
          selectorPredicate(sel),
          acc,
        );
      }
      const rangeStart = (window[0] as Scrape).at;
      const rangeEnd = (window[window.length - 1] as Scrape).at;
      let total = 0;
      let contributing = 0;
      for (const s of acc.values()) {
        if (s.samples < 2) continue;
        // Prometheus divides each series by the range and then sums; so do we, to round alike.
        total += extrapolatedIncrease(s, rangeStart, rangeEnd) / span;
        contributing++;
      }
      if (contributing === 0) {
        return absent(acc.size === 0 ? 'no matching series' : 'no series with two samples yet');
      }
      return value(total);
    }
    case 'quantile': {
      const window = windowOf(history, measure.windowSec);
      if (window.length < 2) return absent('fewer than two scrapes in the window');
      const acc = new Map<string, SeriesIncrease>();
      increases(
        window,
        seriesName(measure.series.metric, 'bucket', dialect),
        selectorPredicate(measure.series),
        acc,
      );
      const span = spanSec(window);
      if (!(span > 0)) return absent('the window spans no time');
      const rangeStart = (window[0] as Scrape).at;
      const rangeEnd = (window[window.length - 1] as Scrape).at;
      // `sum by (le) (rate(...))`: the rate per bound.
      const byLe = new Map<number, number>();
      for (const s of acc.values()) {
        if (s.samples < 2) continue;
        const le = s.sample.labels.le;
        if (le === undefined) continue;
        const bound = parsePromFloat(le);
        if (Number.isNaN(bound)) continue;
        const r = extrapolatedIncrease(s, rangeStart, rangeEnd) / span;
        byLe.set(bound, (byLe.get(bound) ?? 0) + r);
      }
      if (byLe.size === 0) {
        return absent(acc.size === 0 ? 'no matching series' : 'no series with two samples yet');
      }
      const buckets = [...byLe].map(([upperBound, count]) => ({ upperBound, count }));
      const v = histogramQuantile(measure.q, buckets);
      if (Number.isNaN(v)) return absent('no observations in the window');
      return value(v);
    }
    case 'gauge': {
      const newest = history[history.length - 1];
      if (newest === undefined) return absent('no scrape');
      let out: number | undefined;
      for (const sel of measure.series) {
        const samples = newest.byName.get(seriesName(sel.metric, 'value', dialect));
        if (samples === undefined) continue;
        const pred = selectorPredicate(sel);
        for (const s of samples) {
          if (!pred(s.labels)) continue;
          if (out === undefined) out = s.value;
          else if (measure.aggregate === 'sum') out += s.value;
          else if (measure.aggregate === 'max')
            out = s.value > out || Number.isNaN(out) ? s.value : out;
          else out = s.value < out || Number.isNaN(out) ? s.value : out;
        }
      }
      return out === undefined ? absent('no matching series') : value(out);
    }
    case 'ratio': {
      const num = evaluateMeasure(measure.numerator, history, dialect);
      if (num.status === 'absent') return num;
      const den = evaluateMeasure(measure.denominator, history, dialect);
      if (den.status === 'absent') return den;
      if (den.value === 0) return absent('the denominator is 0');
      const r = num.value / den.value;
      return value(measure.complement === true ? 1 - r : r);
    }
  }
}

/**
 * One catalog signal's tri-state value over the scrape history: the measure, converted to the
 * signal's unit (timers' exported unit for quantiles, then `scale`), stamped with the newest
 * scrape's time.
 */
export function evaluateSignal(
  def: SignalDef,
  history: readonly Scrape[],
  dialect: Dialect,
): SignalValue {
  let result: MeasureResult;
  try {
    result = evaluateMeasure(def.measure, history, dialect);
  } catch (error) {
    return failed(messageOf(error));
  }
  if (result.status === 'absent') return ABSENT;
  let v = result.value;
  if (def.measure.kind === 'quantile')
    v *= quantileScale(def.measure.series.metric, def.unit, dialect);
  if (def.scale !== undefined) v *= def.scale;
  if (!Number.isFinite(v)) return failed(`non-finite value ${v}`);
  const newest = history[history.length - 1];
  return newest === undefined ? ok(v) : ok(v, Math.max(0, Math.round(newest.at)));
}
