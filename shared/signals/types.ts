/**
 * Structural description of a signal: which metric family it reads, with which label matchers and
 * which aggregation. Deliberately not PromQL: the acquisition layer renders these for each metric
 * dialect (tally, OpenTelemetry, SDK exporters) and the direct-scrape source evaluates them itself,
 * so one definition serves every source.
 */

/** The Temporal services (and the two non-server actors) a signal can speak for. */
export const SERVICES = ['history', 'matching', 'frontend', 'persistence', 'workers'] as const;
export type Service = (typeof SERVICES)[number];

export const SIGNAL_CATEGORIES = ['primary', 'amplifier', 'worker', 'system'] as const;
/**
 * primary: decides the state; amplifier: explains it; worker: SDK-side health, decides the
 * bottleneck; system: housekeeping work (retention) that must not be read as failure.
 */
export type SignalCategory = (typeof SIGNAL_CATEGORIES)[number];

export const SIGNAL_UNITS = [
  'per_sec',
  'per_min',
  'ms',
  'sec',
  'ratio',
  'pct',
  'count',
  'bytes',
] as const;
export type SignalUnit = (typeof SIGNAL_UNITS)[number];

/**
 * Roles a signal plays in the engine.
 * - progress: evidence of forward progress; without it the engine answers `unknown`.
 * - demand: evidence that work is waiting; tells idle from stuck.
 * - bad_event: counts failures; the counter is created lazily, so "absent" means "never happened".
 * - liveness: always emitted by a running server; tells "nothing happened" from "cannot see".
 */
export type SignalRole = 'progress' | 'demand' | 'bad_event' | 'liveness';

/**
 * How the metric is declared where it is emitted. The dialect decides the exported name and unit:
 * tally counters have no `_total`, tally timers are seconds; OpenTelemetry counters end in
 * `_total`, timers in `_milliseconds`, dimensionless histograms in `_ratio`.
 */
export type MetricType = 'counter' | 'timer' | 'histogram' | 'gauge';

/** Who emits the metric: the Temporal server, an SDK worker, or the DSQL persistence plugin. */
export type Emitter = 'server' | 'sdk' | 'dsql';

export interface MetricRef {
  /** Base name as declared at the emitter, without dialect suffixes or SDK prefix. */
  readonly name: string;
  readonly type: MetricType;
  readonly emitter: Emitter;
}

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  readonly label: string;
  readonly op: MatchOp;
  readonly value: string;
}

export interface SeriesSelector {
  readonly metric: MetricRef;
  readonly matchers: readonly LabelMatcher[];
}

/**
 * The aggregation that turns raw series into one number.
 * - rate: sum over all selectors of the per-second increase over `windowSec`.
 * - ratio: numerator / denominator, or 1 - that with `complement` (e.g. hit rate from misses).
 * - quantile: histogram quantile `q` of the summed buckets over `windowSec`.
 * - gauge: the gauges' sum, max or min across series.
 */
export type Measure =
  | {
      readonly kind: 'rate';
      readonly series: readonly SeriesSelector[];
      readonly windowSec: number;
    }
  | {
      readonly kind: 'ratio';
      readonly numerator: Measure;
      readonly denominator: Measure;
      readonly complement?: boolean;
    }
  | {
      readonly kind: 'quantile';
      readonly q: number;
      readonly series: SeriesSelector;
      readonly windowSec: number;
    }
  | {
      readonly kind: 'gauge';
      readonly series: readonly SeriesSelector[];
      readonly aggregate: 'sum' | 'max' | 'min';
    };

export interface SignalDef {
  /** Stable id, `group.field`; snapshots, gates and the API key values by it. */
  readonly id: string;
  readonly category: SignalCategory;
  /** The prior art's family number (1–12 primary, 1–14 amplifier, W1–W6 worker, S system). */
  readonly family: string;
  readonly unit: SignalUnit;
  /** What the value means to an operator, in one sentence. */
  readonly meaning: string;
  /** The services this signal speaks for (used for per-service health and explanations). */
  readonly services: readonly Service[];
  readonly measure: Measure;
  /** Multiplier applied after the measure, in the signal's unit (e.g. 60 for per-minute). */
  readonly scale?: number;
  readonly roles?: readonly SignalRole[];
  /** Why this definition differs from the prior art, when it does. */
  readonly note?: string;
}
