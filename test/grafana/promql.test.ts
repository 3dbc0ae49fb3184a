import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNAL_CATALOG } from '../../shared/signals/catalog.js';
import type { SignalValue } from '../../shared/signals/value.js';
import { createPrometheusSource } from '../../worker/sources/prometheus.js';
import {
  generateOpenMetrics,
  SCENARIOS,
  scenarioStartSec,
} from '../fixtures/openmetrics/scenarios.js';
import { type LocalPrometheus, startPrometheus } from '../support/prometheus.js';
import { type PromTargetJson, promTargets } from './support/dashboards.js';
import { interpolate } from './support/grafana-vars.js';
import { parseGates } from './support/promql-gates.js';
import { supplementOpenMetrics } from './support/supplement.js';

/*
 * Every PromQL target of the Server Health, DSQL Persistence and Workers dashboards, as Grafana
 * sends it (the dialect variables substituted), against a real Prometheus loaded with the
 * scenario fixtures of both dialects and a supplement for the families no scenario exports.
 * For each dialect and instant: every target is accepted; the target the variables choose
 * answers exactly what the engine's Prometheus source reads for its signal (a value, or nothing
 * when the engine reads absent); the other dialect's target answers nothing. Across the
 * instants, every chosen target returns data.
 */

/** Fixture pairs as the scenario tests use them: tally servers with sdk-core workers, OTel with Go. */
const PAIRS = [
  { server: 'tally', sdk: 'core' },
  { server: 'otel', sdk: 'go' },
] as const;
type Pair = (typeof PAIRS)[number];

/** Scenarios whose families between them cover what the supplement does not. */
const USED = ['persistence-pressure', 'retention-storm', 'worker-starvation'] as const;
const MINUTE = 60_000;

/** Slot layout: each pair's scenarios, then its supplement, 2 h apart. */
const slot = (pairIndex: number, i: number) => scenarioStartSec(pairIndex * (USED.length + 1) + i);

let prom: LocalPrometheus;

beforeAll(async () => {
  const docs: string[] = [];
  PAIRS.forEach((p, pi) => {
    USED.forEach((id, i) => {
      const scenario = SCENARIOS.find((s) => s.id === id);
      if (scenario === undefined) throw new Error(`no scenario ${id}`);
      docs.push(generateOpenMetrics(scenario, { ...p, startSec: slot(pi, i) }));
    });
    docs.push(supplementOpenMetrics({ ...p, startSec: slot(pi, USED.length) }));
  });
  prom = await startPrometheus(docs);
});

afterAll(async () => {
  await prom?.stop();
});

/** The instants read per pair: 20 minutes into each scenario and into the supplement. */
const instants = (pi: number) =>
  [...USED.map((_, i) => i), USED.length].map((i) => slot(pi, i) * 1000 + 20 * MINUTE);

type Answer = { ok: true; values: number[] } | { ok: false; error: string };

async function instantQuery(expr: string, atMs: number): Promise<Answer> {
  const res = await fetch(`${prom.url}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: expr, time: String(atMs / 1000) }),
  });
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: { value: [number, string] }[] };
  };
  if (body.status !== 'success') return { ok: false, error: `${res.status} ${body.error ?? ''}` };
  return { ok: true, values: (body.data?.result ?? []).map((r) => Number(r.value[1])) };
}

const targets = promTargets();

/** Whether the target's gates let it through for this pair of variable values. */
function chosen(t: PromTargetJson, p: Pair): boolean {
  return parseGates(t.expr).conditions.every(
    (c) => c.value === (c.variable === 'dialect' ? p.server : p.sdk),
  );
}

describe('the dashboards’ PromQL against a real Prometheus', () => {
  it('has the catalog on the dashboards (a check over nothing would pass)', () => {
    const signals = new Set(targets.map((t) => t.target.legendFormat));
    expect(signals.size).toBe(SIGNAL_CATALOG.length);
  });

  it.each(PAIRS.map((p, pi) => [`${p.server} server, ${p.sdk} SDK`, p, pi] as const))(
    '%s: accepted, the chosen target equals the engine, the other answers nothing',
    async (_, pair, pi) => {
      const withData = new Set<string>();
      for (const at of instants(pi)) {
        const source = createPrometheusSource({ url: prom.url, dialect: pair });
        let engine: Record<string, SignalValue>;
        try {
          engine = (await source.snapshot(at)).values;
        } finally {
          await source.close();
        }
        const answers = await Promise.all(
          targets.map(async ({ target }) => ({
            target,
            answer: await instantQuery(
              interpolate(target.expr, { dialect: pair.server, sdk_dialect: pair.sdk }, 'raw'),
              at,
            ),
          })),
        );
        for (const { target, answer } of answers) {
          const name = `${target.legendFormat} ${target.refId} at ${new Date(at).toISOString()}`;
          if (!answer.ok) throw new Error(`${name}: Prometheus refused it: ${answer.error}`);
          expect(answer.values.length, `${name}: one number or nothing`).toBeLessThanOrEqual(1);
          if (!chosen(target, pair)) {
            expect(answer.values, `${name}: another dialect's target answered`).toEqual([]);
            continue;
          }
          const e = engine[target.legendFormat];
          expect(e?.status, `${name}: the engine read ${JSON.stringify(e)}`).not.toBe('error');
          if (e?.status === 'ok') {
            expect(answer.values.length, `${name}: the engine read ${e.value}`).toBe(1);
            expect(answer.values[0]).toBeCloseTo(e.value, 9);
            withData.add(`${target.legendFormat} ${target.expr}`);
          } else {
            expect(answer.values, `${name}: the engine read nothing`).toEqual([]);
          }
        }
      }
      const silent = targets
        .filter(({ target }) => chosen(target, pair))
        .filter(({ target }) => !withData.has(`${target.legendFormat} ${target.expr}`))
        .map(({ target }) => target.legendFormat);
      expect(silent, 'targets that never returned data on the fixtures').toEqual([]);
    },
  );
});
