import { describe, expect, it } from 'vitest';
import { SIGNAL_CATALOG, signalById } from '../../../shared/signals/catalog.js';
import { DEFAULT_DIALECT, type Dialect } from '../../../shared/signals/dialect.js';
import { parseExposition } from '../../../shared/signals/exposition.js';
import {
  compileRegex,
  evaluateMeasure,
  evaluateSignal,
  histogramQuantile,
  indexScrape,
  type Scrape,
  windowOf,
} from '../../../shared/signals/measure-eval.js';
import type { LabelMatcher, Measure, MetricRef, SignalDef } from '../../../shared/signals/types.js';

const T0 = 1_764_288_000_000;
const scrape = (atSec: number, text: string): Scrape =>
  indexScrape(T0 + atSec * 1000, parseExposition(text));

const counter = (name: string): MetricRef => ({ name, type: 'counter', emitter: 'server' });
const timer = (name: string): MetricRef => ({ name, type: 'timer', emitter: 'server' });
const rate = (windowSec: number, name: string): Measure => ({
  kind: 'rate',
  windowSec,
  series: [{ metric: counter(name), matchers: [] }],
});
const OTEL: Dialect = { ...DEFAULT_DIALECT, server: 'otel' };

function numberOf(r: ReturnType<typeof evaluateMeasure>): number {
  if (r.status !== 'value') throw new Error(`expected a value, got absent (${r.reason})`);
  return r.value;
}

describe('rate', () => {
  it('sums per-series increases and divides by the window span', () => {
    // Prepare: two series; a: 10 → 40, b: 5 → 11 over 30 s ⇒ (30 + 6) / 30 = 1.2/s.
    const h = [scrape(0, 'x{s="a"} 10\nx{s="b"} 5\n'), scrape(30, 'x{s="b"} 11\nx{s="a"} 40\n')];
    // Act / Assess
    expect(numberOf(evaluateMeasure(rate(60, 'x'), h, DEFAULT_DIALECT))).toBeCloseTo(1.2, 12);
  });

  it('counts a decrease as a reset to the new value, as Prometheus does', () => {
    // 100 → 130 (+30), reset to 7 (+7), 7 → 20 (+13): 50 over 60 s.
    const h = [scrape(0, 'x 100'), scrape(20, 'x 130'), scrape(40, 'x 7'), scrape(60, 'x 20')];
    expect(numberOf(evaluateMeasure(rate(60, 'x'), h, DEFAULT_DIALECT))).toBeCloseTo(50 / 60, 12);
  });

  it('ignores a series seen only in the later scrape (a rate needs two samples)', () => {
    const h = [scrape(0, 'x{s="a"} 10'), scrape(10, 'x{s="a"} 20\nx{s="new"} 1000')];
    expect(numberOf(evaluateMeasure(rate(60, 'x'), h, DEFAULT_DIALECT))).toBe(1);
  });

  it('extrapolates a series that starts inside the range as Prometheus does', () => {
    // L appears at 15 s: 7 → 11 → 15 by 45 s. Range [0, 45]: sampled 30 s, increase 8, 15 s to
    // the start (< 1.1 × 15 s average interval, and the counter's zero point, 30 × 7/8 = 26.25 s
    // back, is further) ⇒ 8 × 45/30 = 12 over 45 s.
    const h = [
      scrape(0, 'y 0'),
      scrape(15, 'x{s="L"} 7'),
      scrape(30, 'x{s="L"} 11'),
      scrape(45, 'x{s="L"} 15'),
    ];
    expect(numberOf(evaluateMeasure(rate(45, 'x'), h, DEFAULT_DIALECT))).toBeCloseTo(12 / 45, 12);
    // Starting at 1 instead, the zero point is 30 × 1/8 = 3.75 s back: 8 × 33.75/30 = 9 ⇒ 0.2/s.
    const h2 = [
      scrape(0, 'y 0'),
      scrape(15, 'x{s="L"} 1'),
      scrape(30, 'x{s="L"} 5'),
      scrape(45, 'x{s="L"} 9'),
    ];
    expect(numberOf(evaluateMeasure(rate(45, 'x'), h2, DEFAULT_DIALECT))).toBeCloseTo(0.2, 12);
  });

  it('is absent, not 0, when the only matching series is new', () => {
    const h = [scrape(0, 'y 1'), scrape(10, 'x 1000')];
    const r = evaluateMeasure(rate(60, 'x'), h, DEFAULT_DIALECT);
    expect(r).toEqual({ status: 'absent', reason: 'no series with two samples yet' });
  });

  it('is absent when nothing matches and when only one scrape is in the window', () => {
    const h = [scrape(0, 'x 1'), scrape(10, 'x 2')];
    expect(evaluateMeasure(rate(60, 'nope'), h, DEFAULT_DIALECT).status).toBe('absent');
    expect(evaluateMeasure(rate(5, 'x'), h, DEFAULT_DIALECT).status).toBe('absent');
  });

  it('reads only the scrapes inside the window, both ends included', () => {
    // Window 60 s at t=90 covers 30, 60, 90: (9 - 3) / 60. The scrape at 0 (value 0) is out.
    const h = [scrape(0, 'x 0'), scrape(30, 'x 3'), scrape(60, 'x 6'), scrape(90, 'x 9')];
    expect(windowOf(h, 60).map((s) => s.at - T0)).toEqual([30_000, 60_000, 90_000]);
    expect(numberOf(evaluateMeasure(rate(60, 'x'), h, DEFAULT_DIALECT))).toBeCloseTo(0.1, 12);
  });

  it('applies label matchers with fully anchored regexes', () => {
    const text = (v: number) =>
      [
        `r{operation="PollWorkflowTaskQueue",service_name="frontend"} ${v * 100}`,
        `r{operation="StartWorkflowExecution",service_name="frontend"} ${v * 3}`,
        `r{operation="StartWorkflowExecution",service_name="history"} ${v * 7}`,
        `r{operation="XPollY",service_name="frontend"} ${v * 11}`,
      ].join('\n');
    const h = [scrape(0, text(0)), scrape(1, text(1))];
    const sel = (...matchers: LabelMatcher[]): Measure => ({
      kind: 'rate',
      windowSec: 60,
      series: [{ metric: counter('r'), matchers }],
    });
    const fe = { label: 'service_name', op: '=' as const, value: 'frontend' };
    expect(numberOf(evaluateMeasure(sel(fe), h, DEFAULT_DIALECT))).toBe(114);
    // `Poll.*` must not match `XPollY`: the regex is anchored at both ends.
    expect(
      numberOf(
        evaluateMeasure(
          sel(fe, { label: 'operation', op: '!~', value: 'Poll.*' }),
          h,
          DEFAULT_DIALECT,
        ),
      ),
    ).toBe(14);
    expect(
      numberOf(
        evaluateMeasure(
          sel({ label: 'operation', op: '=~', value: 'Poll.*|Start.*' }),
          h,
          DEFAULT_DIALECT,
        ),
      ),
    ).toBe(110);
    expect(
      numberOf(
        evaluateMeasure(
          sel({ label: 'service_name', op: '!=', value: 'frontend' }),
          h,
          DEFAULT_DIALECT,
        ),
      ),
    ).toBe(7);
    // A missing label reads as "": `=~""`-style matchers select series without the label.
    expect(
      evaluateMeasure(sel({ label: 'absent_label', op: '=', value: 'x' }), h, DEFAULT_DIALECT)
        .status,
    ).toBe('absent');
    expect(
      numberOf(
        evaluateMeasure(sel({ label: 'absent_label', op: '=~', value: '' }), h, DEFAULT_DIALECT),
      ),
    ).toBe(121);
  });

  it('honours RE2 case-insensitive flag', () => {
    expect(compileRegex('(?i)poll.*').test('PollActivityTaskQueue')).toBe(true);
    expect(compileRegex('poll.*').test('PollActivityTaskQueue')).toBe(false);
  });

  it('reads the dialect-specific series: `_total` in OTel, `_count` for histograms', () => {
    const h = [
      scrape(0, 'workflow_success_total 10\nstate_transition_count_ratio_count 100'),
      scrape(10, 'workflow_success_total 30\nstate_transition_count_ratio_count 400'),
    ];
    const success = signalById('workflow_completion.success_per_sec') as SignalDef;
    const st = signalById('state_transitions.throughput_per_sec') as SignalDef;
    expect(evaluateSignal(success, h, OTEL)).toMatchObject({ status: 'ok', value: 2 });
    expect(evaluateSignal(st, h, OTEL)).toMatchObject({ status: 'ok', value: 30 });
    // The same scrapes in tally read `workflow_success`, which is not there.
    expect(evaluateSignal(success, h, DEFAULT_DIALECT)).toEqual({ status: 'absent' });
  });
});

describe('histogramQuantile', () => {
  it('interpolates linearly inside the bucket holding the rank', () => {
    // 100 observations: 10 ≤ 0.1, 50 ≤ 0.5, 90 ≤ 1, 100 ≤ +Inf.
    const b = [
      { upperBound: 0.1, count: 10 },
      { upperBound: 0.5, count: 50 },
      { upperBound: 1, count: 90 },
      { upperBound: Number.POSITIVE_INFINITY, count: 100 },
    ];
    // q=0.5: rank 50 → bucket (0.1, 0.5], 40 of 40 ⇒ 0.5.
    expect(histogramQuantile(0.5, b)).toBeCloseTo(0.5, 12);
    // q=0.3: rank 30 → (0.1, 0.5], (30-10)/40 = 0.5 ⇒ 0.1 + 0.4 × 0.5 = 0.3.
    expect(histogramQuantile(0.3, b)).toBeCloseTo(0.3, 12);
    // q=0.05: rank 5 → lowest bucket starts at 0 ⇒ 0.1 × 5/10 = 0.05.
    expect(histogramQuantile(0.05, b)).toBeCloseTo(0.05, 12);
    // q=0.95: rank 95 → the +Inf bucket ⇒ the highest finite bound, 1.
    expect(histogramQuantile(0.95, b)).toBe(1);
  });

  it('is NaN with no observations, no +Inf bucket or a single bucket', () => {
    expect(
      histogramQuantile(0.5, [
        { upperBound: 1, count: 0 },
        { upperBound: Infinity, count: 0 },
      ]),
    ).toBeNaN();
    expect(
      histogramQuantile(0.5, [
        { upperBound: 1, count: 3 },
        { upperBound: 2, count: 4 },
      ]),
    ).toBeNaN();
    expect(histogramQuantile(0.5, [{ upperBound: Infinity, count: 4 }])).toBeNaN();
  });

  it('coalesces equal bounds and forces counts monotonic', () => {
    const b = [
      { upperBound: 1, count: 2 },
      { upperBound: 1, count: 2 },
      { upperBound: 2, count: 3 }, // below the 4 before it: treated as 4
      { upperBound: Number.POSITIVE_INFINITY, count: 8 },
    ];
    // rank 4 (q=0.5 of 8) lands in the first bucket (count 4 ≥ 4) ⇒ 0 + 1 × 4/4 = 1.
    expect(histogramQuantile(0.5, b)).toBe(1);
  });
});

describe('quantile measure', () => {
  const lat = (a: number, b: number, c: number, inf: number) =>
    [
      `service_latency_bucket{service_name="history",le="0.01"} ${a}`,
      `service_latency_bucket{service_name="history",le="0.1"} ${b}`,
      `service_latency_bucket{service_name="history",le="1"} ${c}`,
      `service_latency_bucket{service_name="history",le="+Inf"} ${inf}`,
      `service_latency_bucket{service_name="frontend",le="0.01"} 0`,
      `service_latency_bucket{service_name="frontend",le="+Inf"} 1000`,
    ].join('\n');

  it('uses bucket increases over the window and converts seconds to ms in tally', () => {
    // Increases: ≤0.01: 10, ≤0.1: 90, ≤1: 100, +Inf: 100. p95 → rank 95 in (0.1, 1]:
    // (95 - 90) / 10 = 0.5 ⇒ 0.55 s ⇒ 550 ms. The cumulative counts before the window are ignored.
    const h = [scrape(0, lat(1000, 2000, 3000, 3000)), scrape(60, lat(1010, 2090, 3100, 3100))];
    const p95 = signalById('history.request_latency_p95_ms') as SignalDef;
    const v = evaluateSignal(p95, h, DEFAULT_DIALECT);
    expect(v.status).toBe('ok');
    expect(v.status === 'ok' ? v.value : Number.NaN).toBeCloseTo(550, 9);
    expect(v.status === 'ok' ? v.sampledAt : undefined).toBe(T0 + 60_000);
  });

  it('is absent when no observation happened in the window', () => {
    const h = [scrape(0, lat(1, 2, 3, 3)), scrape(60, lat(1, 2, 3, 3))];
    const p95 = signalById('history.request_latency_p95_ms') as SignalDef;
    expect(evaluateSignal(p95, h, DEFAULT_DIALECT)).toEqual({ status: 'absent' });
  });

  it('reads milliseconds buckets unchanged in OTel', () => {
    const q: Measure = {
      kind: 'quantile',
      q: 0.5,
      windowSec: 300,
      series: { metric: timer('persistence_latency'), matchers: [] },
    };
    const h = [
      scrape(
        0,
        'persistence_latency_milliseconds_bucket{le="10"} 0\npersistence_latency_milliseconds_bucket{le="+Inf"} 0',
      ),
      scrape(
        30,
        'persistence_latency_milliseconds_bucket{le="10"} 4\npersistence_latency_milliseconds_bucket{le="+Inf"} 4',
      ),
    ];
    expect(numberOf(evaluateMeasure(q, h, OTEL))).toBe(5);
    const def = signalById('persistence.latency_p99_ms') as SignalDef;
    // The catalog signal filters service_name="history"; these buckets have none.
    expect(evaluateSignal(def, h, OTEL)).toEqual({ status: 'absent' });
  });
});

describe('gauge and ratio', () => {
  it('aggregates gauges of the newest scrape only', () => {
    const g = (aggregate: 'sum' | 'max' | 'min'): Measure => ({
      kind: 'gauge',
      aggregate,
      series: [{ metric: { name: 'g', type: 'gauge', emitter: 'server' }, matchers: [] }],
    });
    const h = [
      scrape(0, 'g{a="1"} 100\ng{a="9"} 900'),
      scrape(10, 'g{a="1"} 3\ng{a="2"} -1\ng{a="3"} 5'),
    ];
    expect(numberOf(evaluateMeasure(g('sum'), h, DEFAULT_DIALECT))).toBe(7);
    expect(numberOf(evaluateMeasure(g('max'), h, DEFAULT_DIALECT))).toBe(5);
    expect(numberOf(evaluateMeasure(g('min'), h, DEFAULT_DIALECT))).toBe(-1);
    // Gauges need one scrape only.
    expect(numberOf(evaluateMeasure(g('sum'), [scrape(0, 'g 4')], DEFAULT_DIALECT))).toBe(4);
  });

  it('computes ratios and complements, absent on a zero or absent side', () => {
    const t = (s: number, to: number) => `poll_success ${s}\npoll_timeouts ${to}`;
    const h = [scrape(0, t(0, 0)), scrape(10, t(30, 10))];
    const success = signalById('poller.poll_success_rate') as SignalDef;
    const timeout = signalById('poller.poll_timeout_rate') as SignalDef;
    expect(evaluateSignal(success, h, DEFAULT_DIALECT)).toMatchObject({ value: 0.75 });
    expect(evaluateSignal(timeout, h, DEFAULT_DIALECT)).toMatchObject({ value: 0.25 });
    const idle = [scrape(0, t(5, 5)), scrape(10, t(5, 5))];
    expect(evaluateSignal(success, idle, DEFAULT_DIALECT)).toEqual({ status: 'absent' });
    const hit = signalById('cache.hit_rate') as SignalDef;
    const c = (miss: number, req: number) =>
      `cache_miss{cache_type="mutablestate"} ${miss}\ncache_requests{cache_type="mutablestate"} ${req}\ncache_requests{cache_type="events"} ${req * 50}`;
    // 1 - 5/20 = 0.75: the events cache is filtered out.
    expect(
      evaluateSignal(hit, [scrape(0, c(0, 0)), scrape(30, c(5, 20))], DEFAULT_DIALECT),
    ).toMatchObject({
      value: 0.75,
    });
  });

  it('applies the signal scale (per minute) and reports non-finite results as errors', () => {
    const per = signalById('deploy.membership_changes_per_min') as SignalDef;
    const h = [scrape(0, 'membership_changed_count 1'), scrape(30, 'membership_changed_count 2')];
    // 1 change in 30 s = 1/30 per second = 2 per minute.
    expect(evaluateSignal(per, h, DEFAULT_DIALECT)).toMatchObject({ value: 2 });
    const g = signalById('runtime.goroutines') as SignalDef;
    expect(evaluateSignal(g, [scrape(0, 'num_goroutines NaN')], DEFAULT_DIALECT)).toMatchObject({
      status: 'error',
    });
  });

  it('answers absent for every catalog signal with an empty history', () => {
    for (const def of SIGNAL_CATALOG) {
      expect(evaluateSignal(def, [], DEFAULT_DIALECT)).toEqual({ status: 'absent' });
    }
  });
});
