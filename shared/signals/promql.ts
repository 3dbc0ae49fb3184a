import { type Dialect, quantileScale, rateSeriesPart, seriesName } from './dialect.js';
import type { LabelMatcher, Measure, SeriesSelector, SignalDef, SignalUnit } from './types.js';

/**
 * Renders the catalog's structural measures to PromQL for one metric dialect. Pure: no I/O, so the
 * Grafana dashboards, the Prometheus source and the tests all render the same strings.
 *
 * Every rendered expression aggregates to at most one element without labels, so a source reads
 * it as "one number, or nothing".
 */

/** A measure that cannot be rendered (a catalog bug, never a runtime condition). */
export class PromqlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PromqlError';
  }
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * A PromQL double-quoted string literal. PromQL unquotes like Go, so backslash, the quote and
 * control characters must be escaped; regex matchers need their backslashes doubled the same way.
 */
export function quote(value: string): string {
  let out = '"';
  for (const ch of value) {
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else out += ch;
  }
  return `${out}"`;
}

/** `name{label="value",...}`; `name` alone with no matchers. */
export function renderSelector(name: string, matchers: readonly LabelMatcher[]): string {
  if (!METRIC_NAME.test(name)) throw new PromqlError(`invalid metric name: ${name}`);
  if (matchers.length === 0) return name;
  const parts = matchers.map((m) => {
    if (!LABEL_NAME.test(m.label)) throw new PromqlError(`invalid label name: ${m.label}`);
    if (m.label === 'le') throw new PromqlError('matching on le would break histogram_quantile');
    return `${m.label}${m.op}${quote(m.value)}`;
  });
  return `${name}{${parts.join(',')}}`;
}

function windowOf(sec: number): string {
  if (!Number.isInteger(sec) || sec <= 0) throw new PromqlError(`invalid window: ${sec}s`);
  return `${sec}s`;
}

/** The series a rate reads: a counter's value, a histogram's or timer's `_count`. */
function rateSeries(s: SeriesSelector, dialect: Dialect): string {
  const part = rateSeriesPart(s);
  return renderSelector(seriesName(s.metric, part, dialect), s.matchers);
}

/**
 * Combines per-selector terms that each aggregate to one label-less element with `agg`.
 *
 * Counters are created lazily (a `workflow_timeout` that never happened has no series), and in
 * PromQL `a + b` is empty when either side is. Tagging each term with a distinct label and joining
 * them with `or` keeps every term that exists: the result is absent only when every term is, so a
 * fully missing signal stays absent instead of becoming the `or vector(0)` fake zero.
 */
function combine(agg: 'sum' | 'max' | 'min', terms: readonly string[]): string {
  if (terms.length === 1) return terms[0] as string;
  const tagged = terms.map((t, i) => `label_replace(${t}, "copilot_term", "${i}", "", "")`);
  return `${agg}(${tagged.join(' or ')})`;
}

/**
 * PromQL for a measure. `unit` is the signal's unit; it decides the factor applied to timer
 * quantiles (seconds in tally and the Go SDK, milliseconds in OTel and sdk-core).
 */
export function renderMeasure(measure: Measure, unit: SignalUnit, dialect: Dialect): string {
  switch (measure.kind) {
    case 'rate': {
      if (measure.series.length === 0) throw new PromqlError('rate over no series');
      const w = windowOf(measure.windowSec);
      return combine(
        'sum',
        measure.series.map((s) => `sum(rate(${rateSeries(s, dialect)}[${w}]))`),
      );
    }
    case 'gauge': {
      if (measure.series.length === 0) throw new PromqlError('gauge over no series');
      const agg = measure.aggregate;
      return combine(
        agg,
        measure.series.map(
          (s) => `${agg}(${renderSelector(seriesName(s.metric, 'value', dialect), s.matchers)})`,
        ),
      );
    }
    case 'quantile': {
      const s = measure.series;
      if (!(measure.q >= 0 && measure.q <= 1))
        throw new PromqlError(`invalid quantile ${measure.q}`);
      const bucket = renderSelector(seriesName(s.metric, 'bucket', dialect), s.matchers);
      const expr = `histogram_quantile(${measure.q}, sum by (le) (rate(${bucket}[${windowOf(measure.windowSec)}])))`;
      const factor = quantileScale(s.metric, unit, dialect);
      return factor === 1 ? expr : `${expr} * ${factor}`;
    }
    case 'ratio': {
      // Both sides are rendered in the signal's unit domain only for quantiles; a ratio of rates
      // or gauges is dimensionless, so the inner unit is irrelevant and 'ratio' is passed.
      const num = renderMeasure(measure.numerator, 'ratio', dialect);
      const den = renderMeasure(measure.denominator, 'ratio', dialect);
      const r = `(${num}) / (${den})`;
      return measure.complement === true ? `1 - (${r})` : r;
    }
  }
}

/** PromQL for one catalog signal in a dialect, with the signal's `scale` applied. */
export function renderSignal(def: SignalDef, dialect: Dialect): string {
  const expr = renderMeasure(def.measure, def.unit, dialect);
  return def.scale === undefined || def.scale === 1 ? expr : `(${expr}) * ${def.scale}`;
}
