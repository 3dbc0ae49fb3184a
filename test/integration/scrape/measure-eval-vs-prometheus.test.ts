import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNAL_CATALOG } from '../../../shared/signals/catalog.js';
import { DEFAULT_DIALECT } from '../../../shared/signals/dialect.js';
import { parseExposition } from '../../../shared/signals/exposition.js';
import {
  evaluateMeasure,
  evaluateSignal,
  indexScrape,
  type MeasureResult,
  type Scrape,
} from '../../../shared/signals/measure-eval.js';
import { renderSignal } from '../../../shared/signals/promql.js';
import type { LabelMatcher, Measure, MetricType } from '../../../shared/signals/types.js';
import {
  type ScrapingPrometheus,
  startScrapingPrometheus,
} from '../../support/prometheus-scraper.js';

/**
 * Differential test: a real Prometheus scrapes the same sequence of expositions the evaluator
 * reads, and both must give the same numbers. The expositions pin their sample timestamps
 * (Prometheus honours them), 15 s apart, so both sides see samples at exactly the same instants;
 * every query window is a multiple of 15 s ending on a sample, so Prometheus's range covers whole
 * samples at both ends and its extrapolation vanishes. What is left to differ is float rounding
 * (Prometheus divides per series before summing), hence a 1e-9 relative tolerance.
 */

const STEP_MS = 15_000;
const STAGES = 6;
// Whole seconds, ten minutes back: old enough to be complete, recent enough for an empty TSDB.
const BASE_MS = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
const at = (k: number) => BASE_MS + k * STEP_MS;

/** A deterministic generator, so a failure reproduces. */
function lcg(seed: number) {
  let s = seed >>> 0;
  return (max: number) => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s % (max + 1);
  };
}

const BOUNDS = ['0.005', '0.01', '0.05', '0.1', '0.5', '1', '5', '+Inf'];

/** The expositions, stage by stage, each sample stamped with the stage's time. */
function stages(): string[] {
  const rnd = lcg(42);
  const out: string[] = [];
  const hist: Record<string, number[]> = {
    frontend: BOUNDS.map(() => 0),
    history: BOUNDS.map(() => 0),
  };
  for (let k = 0; k < STAGES; k++) {
    const ts = at(k);
    const lines: string[] = ['# TYPE req_total counter'];
    // A counter that resets between stage 2 and 3 (130 → 5) and keeps going.
    const resetting = [100, 130, 160, 5, 20, 50][k] ?? 0;
    lines.push(`req_total{op="Start",svc="frontend"} ${resetting} ${ts}`);
    lines.push(`req_total{op="PollWorkflowTaskQueue",svc="frontend"} ${k * 10} ${ts}`);
    lines.push(`req_total{op="Start",svc="history"} ${1 + k * 3 + rnd(5)} ${ts}`);
    // A series born at stage 3: it has no rate until its second sample, on both sides.
    if (k >= 3) lines.push(`req_total{op="Late",svc="frontend"} ${7 + (k - 3) * 4} ${ts}`);
    lines.push(`miss_total ${k * 2 + rnd(3)} ${ts}`);
    lines.push('# TYPE lat histogram');
    for (const svc of ['frontend', 'history'] as const) {
      const counts = hist[svc] as number[];
      // Observations per bucket this stage, then cumulated into `le` buckets.
      let cum = 0;
      BOUNDS.forEach((le, i) => {
        cum += k === 0 ? 0 : rnd(svc === 'frontend' ? 40 : 8);
        counts[i] = (counts[i] ?? 0) + cum;
        lines.push(`lat_bucket{svc="${svc}",le="${le}"} ${counts[i]} ${ts}`);
      });
    }
    lines.push('# TYPE backlog gauge');
    lines.push(`backlog{tq="a"} ${rnd(100)} ${ts}`);
    lines.push(`backlog{tq="b"} ${rnd(100) - 20} ${ts}`);
    out.push(`${lines.join('\n')}\n`);
  }
  return out;
}

/**
 * A second data set in Temporal's real names (tally server, sdk-core SDK), stamped 60 s apart
 * and ending where the first begins: the catalog's windows (60 s and 300 s) then fall on samples.
 */
const CATALOG_STEP_MS = 60_000;
const catalogAt = (k: number) => BASE_MS - (STAGES - 1) * CATALOG_STEP_MS + k * CATALOG_STEP_MS;
const TIMER_S = ['0.001', '0.005', '0.01', '0.05', '0.1', '0.5', '1', '5', '10', '+Inf'];
const TIMER_MS = ['1', '5', '10', '50', '100', '500', '1000', '5000', '+Inf'];
const COUNT_BOUNDS = ['1', '2', '4', '8', '16', '+Inf'];

function catalogStages(): string[] {
  const rnd = lcg(7);
  const hist = new Map<string, number[]>();
  const counters = new Map<string, number>();
  const out: string[] = [];
  for (let k = 0; k < STAGES; k++) {
    const ts = catalogAt(k);
    const lines: string[] = [];
    const counter = (series: string, maxStep: number) => {
      const v = (counters.get(series) ?? rnd(50)) + (k === 0 ? 0 : rnd(maxStep));
      counters.set(series, v);
      lines.push(`${series} ${v} ${ts}`);
    };
    const histogram = (
      name: string,
      labels: string,
      bounds: readonly string[],
      maxStep: number,
    ) => {
      const key = `${name}{${labels}}`;
      const counts = hist.get(key) ?? bounds.map(() => 0);
      let cum = 0;
      bounds.forEach((le, i) => {
        cum += k === 0 ? 0 : rnd(maxStep);
        counts[i] = (counts[i] ?? 0) + cum;
        lines.push(
          `${name}_bucket{${labels}${labels === '' ? '' : ','}le="${le}"} ${counts[i]} ${ts}`,
        );
      });
      hist.set(key, counts);
      lines.push(`${name}_count{${labels}} ${counts[counts.length - 1]} ${ts}`);
    };
    for (const ns of ['default', 'orders']) {
      histogram(
        'state_transition_count',
        `namespace="${ns}",service_name="history"`,
        COUNT_BOUNDS,
        30,
      );
      counter(
        `workflow_success{namespace="${ns}",operation="CompletionStats",service_name="history"}`,
        40,
      );
      // Lazily created: the first failure happens at stage 2.
      if (k >= 2)
        counter(
          `workflow_failed{namespace="${ns}",operation="CompletionStats",service_name="history"}`,
          3,
        );
      counter(
        `task_requests{namespace="${ns}",service_name="history",task_type="TransferActiveTaskActivity"}`,
        90,
      );
      counter(
        `task_requests{namespace="${ns}",service_name="history",task_type="DeleteHistoryEventTask"}`,
        5,
      );
    }
    for (const svc of ['history', 'frontend']) {
      for (const op of [
        'StartWorkflowExecution',
        'PollWorkflowTaskQueue',
        'RecordActivityTaskStarted',
      ]) {
        histogram(
          'service_latency',
          `operation="${op}",service_name="${svc}"`,
          TIMER_S,
          op.startsWith('Poll') ? 2 : 20,
        );
        counter(`service_requests{operation="${op}",service_name="${svc}"}`, 60);
      }
    }
    histogram(
      'task_latency_queue',
      'service_name="history",task_type="TransferActiveTaskActivity"',
      TIMER_S,
      15,
    );
    histogram(
      'persistence_latency',
      'operation="UpdateWorkflowExecution",service_name="history"',
      TIMER_S,
      25,
    );
    histogram(
      'persistence_latency',
      'operation="GetTaskQueue",service_name="matching"',
      TIMER_S,
      25,
    );
    for (const tt of ['Workflow', 'Activity']) {
      const l = `service_name="matching",task_type="${tt}",taskqueue="orders"`;
      counter(`poll_success{${l}}`, 40);
      counter(`poll_success_sync{${l}}`, 30);
      counter(`poll_timeouts{${l}}`, 10);
      histogram('poll_latency', l, TIMER_S, 10);
      lines.push(`approximate_backlog_count{${l},partition="0"} ${rnd(30)} ${ts}`);
      lines.push(`approximate_backlog_age_seconds{${l},partition="0"} ${rnd(90)} ${ts}`);
    }
    counter('cache_requests{cache_type="mutablestate",service_name="history"}', 200);
    counter('cache_miss{cache_type="mutablestate",service_name="history"}', 10);
    lines.push(`num_goroutines{service_name="history"} ${1000 + rnd(100)} ${ts}`);
    counter('membership_changed_count{service_name="history"}', 1);
    counter('dsql_tx_conflict{service_name="history"}', 20);
    lines.push(`dsql_pool_in_use{service_name="history"} ${rnd(50)} ${ts}`);
    lines.push(`dsql_pool_max_open{service_name="history"} 50 ${ts}`);
    for (const pt of [
      'workflow_task',
      'sticky_workflow_task',
      'workflow_sticky_task',
      'activity_task',
    ]) {
      lines.push(
        `temporal_num_pollers{poller_type="${pt}",task_queue="orders"} ${1 + rnd(4)} ${ts}`,
      );
    }
    histogram(
      'temporal_workflow_task_schedule_to_start_latency',
      'task_queue="orders"',
      TIMER_MS,
      12,
    );
    counter('temporal_sticky_cache_hit{task_queue="orders"}', 50);
    counter('temporal_sticky_cache_miss{task_queue="orders"}', 5);
    out.push(lines.join('\n'));
  }
  return out;
}

const metric = (name: string, type: MetricType) => ({ name, type, emitter: 'server' as const });
const m = (label: string, op: LabelMatcher['op'], value: string): LabelMatcher => ({
  label,
  op,
  value,
});
const sel = (matchers: readonly LabelMatcher[]) =>
  matchers.length === 0
    ? ''
    : `{${matchers.map((x) => `${x.label}${x.op}"${x.value}"`).join(',')}}`;

interface Case {
  readonly name: string;
  readonly measure: Measure;
  readonly promql: string;
}

function rateCase(name: string, windowSec: number, matchers: LabelMatcher[]): Case {
  return {
    name,
    measure: {
      kind: 'rate',
      windowSec,
      series: [{ metric: metric('req_total', 'counter'), matchers }],
    },
    promql: `sum(rate(req_total${sel(matchers)}[${windowSec}s]))`,
  };
}

function quantileCase(q: number, windowSec: number, matchers: LabelMatcher[]): Case {
  return {
    name: `p${q * 100} over ${windowSec}s ${sel(matchers)}`,
    measure: {
      kind: 'quantile',
      q,
      windowSec,
      series: { metric: metric('lat', 'histogram'), matchers },
    },
    promql: `histogram_quantile(${q}, sum by (le) (rate(lat_bucket${sel(matchers)}[${windowSec}s])))`,
  };
}

const CASES: Case[] = [
  rateCase('rate, 2 samples, all series', 15, []),
  rateCase('rate, 3 samples across the reset', 30, [
    m('op', '=', 'Start'),
    m('svc', '=', 'frontend'),
  ]),
  rateCase('rate, whole range, long polls excluded', 75, [
    m('svc', '=', 'frontend'),
    m('op', '!~', 'Poll.*'),
  ]),
  rateCase('rate, regex and inequality', 45, [
    m('op', '=~', 'St.*|Late'),
    m('svc', '!=', 'history'),
  ]),
  rateCase('rate of the series born late only', 15, [m('op', '=', 'Late')]),
  rateCase('rate of nothing', 30, [m('op', '=', 'Nope')]),
  quantileCase(0.5, 15, [m('svc', '=', 'frontend')]),
  quantileCase(0.95, 60, [m('svc', '=', 'frontend')]),
  quantileCase(0.99, 75, []),
  quantileCase(0.9, 30, [m('svc', '=~', 'hist.*')]),
  quantileCase(0.01, 45, [m('svc', '!~', 'front.*')]),
  {
    name: 'gauge sum',
    measure: {
      kind: 'gauge',
      aggregate: 'sum',
      series: [{ metric: metric('backlog', 'gauge'), matchers: [] }],
    },
    promql: 'sum(backlog)',
  },
  {
    name: 'gauge max',
    measure: {
      kind: 'gauge',
      aggregate: 'max',
      series: [{ metric: metric('backlog', 'gauge'), matchers: [] }],
    },
    promql: 'max(backlog)',
  },
  {
    name: 'gauge min',
    measure: {
      kind: 'gauge',
      aggregate: 'min',
      series: [{ metric: metric('backlog', 'gauge'), matchers: [] }],
    },
    promql: 'min(backlog)',
  },
  {
    name: 'ratio complement (hit rate from misses)',
    measure: {
      kind: 'ratio',
      complement: true,
      numerator: {
        kind: 'rate',
        windowSec: 30,
        series: [{ metric: metric('miss_total', 'counter'), matchers: [] }],
      },
      denominator: {
        kind: 'rate',
        windowSec: 30,
        series: [{ metric: metric('req_total', 'counter'), matchers: [] }],
      },
    },
    promql: '1 - sum(rate(miss_total[30s])) / sum(rate(req_total[30s]))',
  },
];

/** The longest window a measure reads. */
function windowSecOf(measure: Measure): number {
  if (measure.kind === 'ratio')
    return Math.max(windowSecOf(measure.numerator), windowSecOf(measure.denominator));
  return measure.kind === 'gauge' ? 0 : measure.windowSec;
}

function agree(ours: MeasureResult, theirs: { value: [number, string] }[], label: string) {
  if (theirs.length === 0) {
    expect(ours.status, `${label}: Prometheus has no result`).toBe('absent');
    return;
  }
  expect(theirs, label).toHaveLength(1);
  const prom = Number(theirs[0]?.value[1]);
  expect(ours.status, `${label}: Prometheus says ${prom}`).toBe('value');
  if (ours.status !== 'value') return;
  const tolerance = 1e-9 * Math.max(1, Math.abs(prom));
  expect(
    Math.abs(ours.value - prom),
    `${label}: ours ${ours.value}, Prometheus ${prom}`,
  ).toBeLessThanOrEqual(tolerance);
}

describe('measure-eval agrees with a real Prometheus on the same scrapes', () => {
  const texts = stages();
  const catalogTexts = catalogStages();
  let served = 0;
  let http: Server;
  let prom: ScrapingPrometheus;

  beforeAll(async () => {
    http = createServer((_req, res) => {
      const stage = Math.min(served, texts.length - 1);
      const text = `${texts[stage] ?? ''}${catalogTexts[stage] ?? ''}\n`;
      served++;
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(text);
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const { port } = http.address() as AddressInfo;
    prom = await startScrapingPrometheus({ targets: [`127.0.0.1:${port}`], scrapeIntervalSec: 1 });
    // Wait (bounded by attempts) until Prometheus holds every stage of a series present in all.
    const last = at(STAGES - 1) / 1000;
    for (let i = 0; i < 120; i++) {
      const r = await prom.query('count_over_time(req_total{op="Start",svc="history"}[10m])', last);
      if (Number(r[0]?.value[1] ?? 0) === STAGES) return;
      await new Promise((res) => setTimeout(res, 500));
    }
    throw new Error(`Prometheus did not ingest ${STAGES} stages (served ${served} scrapes)`);
  });

  afterAll(async () => {
    await prom?.stop();
    await new Promise((r) => http?.close(r));
  });

  it('answers every case identically at several evaluation instants', async () => {
    // Prepare: the same expositions, indexed at the times they are stamped with.
    const scrapes: Scrape[] = texts.map((t, k) => indexScrape(at(k), parseExposition(t)));
    let compared = 0;
    for (const end of [STAGES - 1, 4, 3]) {
      const history = scrapes.slice(0, end + 1);
      for (const c of CASES) {
        // A window reaching before the first stage is not aligned on samples: Prometheus would
        // extrapolate to its true start, while the evaluator uses the scrapes it has (up to the
        // window). That difference is by design (documented in measure-eval.ts); skip it here.
        if (windowSecOf(c.measure) * 1000 > end * STEP_MS) continue;
        // Act
        const ours = evaluateMeasure(c.measure, history, DEFAULT_DIALECT);
        const theirs = await prom.query(c.promql, at(end) / 1000);
        // Assess
        agree(ours, theirs, `${c.name} at stage ${end}`);
        compared++;
      }
    }
    // Every case is compared at least at the last stage, most at all three instants.
    expect(compared).toBeGreaterThanOrEqual(CASES.length * 2);
  });

  it('agrees on every catalog signal with the PromQL the Prometheus source renders', async () => {
    // Prepare: the catalog data set as the scrape source would hold it.
    const history: Scrape[] = catalogTexts.map((t, k) =>
      indexScrape(catalogAt(k), parseExposition(t)),
    );
    const at = catalogAt(STAGES - 1) / 1000;
    let withValues = 0;
    for (const def of SIGNAL_CATALOG) {
      // Act
      const ours = evaluateSignal(def, history, DEFAULT_DIALECT);
      const expr = renderSignal(def, DEFAULT_DIALECT);
      const theirs = await prom.query(expr, at);
      // Assess
      expect(ours.status, `${def.id}: ${expr}`).not.toBe('error');
      const result: MeasureResult =
        ours.status === 'ok'
          ? { status: 'value', value: ours.value }
          : { status: 'absent', reason: '' };
      agree(result, theirs, `${def.id}: ${expr}`);
      if (ours.status === 'ok') withValues++;
    }
    // The data set exercises most of the catalog, not a handful of signals.
    expect(withValues).toBeGreaterThanOrEqual(30);
  });

  it('covers the cases that matter: a reset, a late series, an empty result', async () => {
    // The evaluation data really contains what the cases claim to test.
    const last = at(STAGES - 1) / 1000;
    const resets = await prom.query('resets(req_total{op="Start",svc="frontend"}[75s])', last);
    expect(Number(resets[0]?.value[1])).toBe(1);
    const late = await prom.query('count_over_time(req_total{op="Late"}[75s])', last);
    expect(Number(late[0]?.value[1])).toBe(3);
    expect(await prom.query('sum(rate(req_total{op="Late"}[15s]))', at(3) / 1000)).toEqual([]);
  });
});
