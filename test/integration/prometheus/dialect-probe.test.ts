import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayRange } from '../../../bin/commands/observe.js';
import { ENGINE_WIDTH, I } from '../../../shared/health/observation.js';
import { createPrometheusSource } from '../../../worker/sources/prometheus.js';
import { BASE_SEC, generateOpenMetrics, SCENARIOS } from '../../fixtures/openmetrics/scenarios.js';
import { type LocalPrometheus, startPrometheus } from '../../support/prometheus.js';

/**
 * The dialect probe must see only the samples inside its window. Prometheus answers
 * `label/__name__/values?start&end` per TSDB block (every block whose time range overlaps), and
 * compaction merges adjacent blocks: the whole-file run of scenarios.test.ts lasted long enough
 * for Prometheus to merge tally's worker-starvation slot with OTel's first scenario into one 6 h
 * block, the probe then read OTel in the tally window, and every tally query came back empty.
 *
 * Here the mixed block exists from the start, without waiting for compaction: tally
 * worker-starvation at T, OTel healthy at T + 60 min, and the OTel block stretched back to T by
 * one sample of an unrelated metric at T (what a merged block looks like to the index: a time
 * range covering the window, names whose samples lie outside it).
 */

const T = BASE_SEC * 1000;
const STEP_MS = 30_000;
const TALLY = { from: T, to: T + 30 * 60_000 };
const OTEL = { from: T + 60 * 60_000, to: T + 90 * 60_000 };

let prom: LocalPrometheus;

beforeAll(async () => {
  const scenario = (id: string) => {
    const s = SCENARIOS.find((x) => x.id === id);
    if (s === undefined) throw new Error(`no scenario ${id}`);
    return s;
  };
  prom = await startPrometheus([
    generateOpenMetrics(scenario('worker-starvation'), {
      server: 'tally',
      sdk: 'core',
      startSec: TALLY.from / 1000,
    }),
    generateOpenMetrics(scenario('healthy'), {
      server: 'otel',
      sdk: 'go',
      startSec: OTEL.from / 1000,
    }).replace(
      /# EOF\n?$/,
      `# TYPE fixture_block_start gauge\nfixture_block_start 1 ${T / 1000}\n# EOF\n`,
    ),
  ]);
});

afterAll(async () => {
  await prom?.stop();
});

describe('the dialect probe is exact in time', () => {
  it('precondition: the label-values listing of the tally window names the OTel series too', async () => {
    // If Prometheus ever answered per sample, this file would no longer reproduce the mixed
    // block; this test says so.
    const url = `${prom.url}/api/v1/label/__name__/values?start=${TALLY.from / 1000}&end=${TALLY.to / 1000}`;
    const names = new Set(((await (await fetch(url)).json()) as { data: string[] }).data);
    expect(names.has('service_requests')).toBe(true);
    expect(names.has('service_requests_total')).toBe(true);
  });

  it('reads each window in the dialect of the samples inside it', async () => {
    const source = createPrometheusSource({ url: prom.url });
    try {
      const tally = await source.probe(TALLY.from, TALLY.to);
      expect([tally.reachable, tally.dialect.server, tally.origin.server]).toEqual([
        true,
        'tally',
        'detected',
      ]);
      expect(tally.serverSeriesSeen).toBeGreaterThan(10);
      expect(tally.warning).toBeUndefined();
      const otel = await source.probe(OTEL.from, OTEL.to);
      expect([otel.dialect.server, otel.origin.server]).toEqual(['otel', 'detected']);
      expect(otel.serverSeriesSeen).toBeGreaterThan(10);
    } finally {
      await source.close();
    }
  });

  it('a window between the two holds no samples: no dialect decided, the warning says so', async () => {
    const source = createPrometheusSource({ url: prom.url });
    try {
      // Lookback reaches 5 min back; start past it so no tally sample is in range.
      const p = await source.probe(TALLY.to + 6 * 60_000, OTEL.from - 60_000);
      expect([p.reachable, p.origin.server, p.serverSeriesSeen]).toEqual([true, 'default', 0]);
      expect(p.warning).toMatch(/has none of the Temporal server's metrics in the window/);
    } finally {
      await source.close();
    }
  });

  it('replays the tally scenario with values, as scenarios.test.ts expects after compaction', async () => {
    const source = createPrometheusSource({ url: prom.url });
    try {
      const cols = await source.rangeColumns(TALLY.from, TALLY.to, STEP_MS);
      expect(cols.n[2 * ENGINE_WIDTH + I.throughput]).toBeGreaterThan(0);
      const steps = await replayRange(source, { ...TALLY, stepMs: STEP_MS });
      for (const x of steps.slice(2)) {
        expect([x.state, x.bottleneck]).toEqual(['stressed', 'worker_limited']);
      }
    } finally {
      await source.close();
    }
  });
});
