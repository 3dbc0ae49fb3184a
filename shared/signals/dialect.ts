import type { Measure, MetricRef, SeriesSelector, SignalUnit } from './types.js';

/**
 * How a source names metrics (telemetry-and-aws-facts §1.1, §2):
 * - server `tally` (Temporal's default, the dev server): counters without `_total`, timers in
 *   seconds as `name_bucket|_sum|_count`, dimensionless histograms `name_bucket`.
 * - server `otel` (`framework: opentelemetry`): counters `name_total`, timers
 *   `name_milliseconds_bucket` in ms, dimensionless histograms `name_ratio_bucket`.
 * The DSQL plugin emits through the server's metrics handler, so it follows the server dialect.
 * - sdk `core` (TypeScript, Python, .NET, Ruby via sdk-core): `temporal_` prefix, histograms in ms
 *   without unit suffix, counters without `_total` (sdk-core never applies it).
 * - sdk `go` (Go SDK, tally reporter): `temporal_` prefix, histograms in seconds, no suffixes.
 */
export const SERVER_DIALECTS = ['tally', 'otel'] as const;
export type ServerDialect = (typeof SERVER_DIALECTS)[number];
export const SDK_DIALECTS = ['core', 'go'] as const;
export type SdkDialect = (typeof SDK_DIALECTS)[number];

export interface Dialect {
  readonly server: ServerDialect;
  readonly sdk: SdkDialect;
  /** SDK metric prefix (`metricPrefix` in the SDK's telemetry options). */
  readonly sdkPrefix: string;
}

export const DEFAULT_DIALECT: Dialect = Object.freeze({
  server: 'tally',
  sdk: 'core',
  sdkPrefix: 'temporal_',
});

/** Which exported series of a metric family to read. */
export type SeriesPart = 'value' | 'bucket' | 'count' | 'sum';

/**
 * The exported series name of one part of a metric family in a dialect. `value` is the counter or
 * gauge itself; `bucket|count|sum` are the histogram (or timer) series. A rate over a histogram
 * reads its `count`.
 */
export function seriesName(metric: MetricRef, part: SeriesPart, dialect: Dialect): string {
  if (metric.emitter === 'sdk') {
    const base = `${dialect.sdkPrefix}${metric.name}`;
    if (metric.type === 'counter' || metric.type === 'gauge') return base;
    return part === 'value' ? base : `${base}_${part}`;
  }
  const otel = dialect.server === 'otel';
  switch (metric.type) {
    case 'counter':
      return otel ? `${metric.name}_total` : metric.name;
    case 'gauge':
      return metric.name;
    case 'timer': {
      const base = otel ? `${metric.name}_milliseconds` : metric.name;
      return part === 'value' ? base : `${base}_${part}`;
    }
    case 'histogram': {
      const base = otel ? `${metric.name}_ratio` : metric.name;
      return part === 'value' ? base : `${base}_${part}`;
    }
  }
}

/** The unit a timer's buckets are exported in, in this dialect (histograms are unitless). */
export function timerUnit(metric: MetricRef, dialect: Dialect): 's' | 'ms' {
  if (metric.emitter === 'sdk') return dialect.sdk === 'go' ? 's' : 'ms';
  return dialect.server === 'otel' ? 'ms' : 's';
}

/**
 * Factor turning a quantile of `metric` (in its exported unit) into the signal's unit. Timers are
 * seconds in tally and Go, milliseconds in OTel and sdk-core; the catalog speaks ms or seconds.
 */
export function quantileScale(metric: MetricRef, unit: SignalUnit, dialect: Dialect): number {
  if (metric.type !== 'timer') return 1;
  const exported = timerUnit(metric, dialect);
  if (unit === 'ms') return exported === 's' ? 1000 : 1;
  if (unit === 'sec') return exported === 'ms' ? 0.001 : 1;
  return 1;
}

/**
 * Guesses the server and SDK dialects from the metric names a source actually has. Returns only
 * what the names decide; the caller falls back to configuration or {@link DEFAULT_DIALECT}.
 */
export function detectDialect(names: Iterable<string>): Partial<Dialect> {
  let otel = 0;
  let tally = 0;
  let sdkSeconds = false;
  let sdkMillis = false;
  for (const n of names) {
    if (
      n.endsWith('_milliseconds_bucket') ||
      n.endsWith('_ratio_bucket') ||
      n === 'service_requests_total'
    )
      otel++;
    if (
      n === 'service_latency_bucket' ||
      n === 'state_transition_count_bucket' ||
      n === 'service_requests'
    )
      tally++;
    if (n.startsWith('temporal_') && n.endsWith('_latency_seconds_bucket')) sdkSeconds = true;
    if (n.startsWith('temporal_') && n.endsWith('_latency_bucket')) sdkMillis = true;
  }
  const out: { server?: ServerDialect; sdk?: SdkDialect } = {};
  if (otel > tally) out.server = 'otel';
  else if (tally > otel) out.server = 'tally';
  // Go's tally reporter and sdk-core both omit the unit suffix; only an explicit `_seconds`
  // suffix is conclusive, so the rest stays with configuration.
  if (sdkSeconds && !sdkMillis) out.sdk = 'go';
  return out;
}

/** A rate over a histogram or timer counts its observations (the `_count` series). */
export function rateSeriesPart(sel: SeriesSelector): SeriesPart {
  return sel.metric.type === 'timer' || sel.metric.type === 'histogram' ? 'count' : 'value';
}

/**
 * Every exported series name a measure reads in a dialect: what a scrape must keep, what a
 * Prometheus probe looks for.
 */
export function seriesNamesOf(measure: Measure, dialect: Dialect): string[] {
  switch (measure.kind) {
    case 'rate':
      return measure.series.map((s) => seriesName(s.metric, rateSeriesPart(s), dialect));
    case 'gauge':
      return measure.series.map((s) => seriesName(s.metric, 'value', dialect));
    case 'quantile':
      return [seriesName(measure.series.metric, 'bucket', dialect)];
    case 'ratio':
      return [
        ...seriesNamesOf(measure.numerator, dialect),
        ...seriesNamesOf(measure.denominator, dialect),
      ];
  }
}
