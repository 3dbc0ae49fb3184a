import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signalById } from '../../../shared/signals/catalog.js';
import { DEFAULT_DIALECT } from '../../../shared/signals/dialect.js';
import { SIG } from '../../../shared/signals/ids.js';
import { renderSignal } from '../../../shared/signals/promql.js';
import type { SignalDef } from '../../../shared/signals/types.js';
import { createPrometheusSource } from '../../../worker/sources/prometheus.js';
import { type LocalPrometheus, startPrometheus } from '../../support/prometheus.js';

/**
 * "No requests" is absent, "could not ask" is an error. A real Prometheus holds a persistence
 * latency histogram that stops moving after 10 minutes (the cluster went quiet, the series stay
 * exported): the p99 over a window without observations is PromQL's NaN, which the source reads
 * as absent; the same query against a stopped Prometheus is an error.
 */

const T0 = Date.UTC(2026, 0, 5) / 1000;
const P99 = signalById(SIG.persistenceLatencyP99) as SignalDef;

function histogramDoc(): string {
  const lines = ['# TYPE persistence_latency histogram'];
  const at: { t: number; n: number }[] = [];
  // 30 minutes at 30 s; 10 observations per sample during the first 10 minutes, none after.
  for (let i = 0; i <= 60; i++) at.push({ t: T0 + i * 30, n: Math.min(i, 20) * 10 });
  for (const [le, share] of [
    ['0.01', 0],
    ['0.1', 0.5],
    ['1', 1],
    ['+Inf', 1],
  ] as const) {
    for (const { t, n } of at) {
      lines.push(`persistence_latency_bucket{service_name="history",le="${le}"} ${n * share} ${t}`);
    }
  }
  for (const { t, n } of at)
    lines.push(`persistence_latency_count{service_name="history"} ${n} ${t}`);
  for (const { t, n } of at)
    lines.push(`persistence_latency_sum{service_name="history"} ${n * 0.1} ${t}`);
  lines.push('# EOF', '');
  return lines.join('\n');
}

let prom: LocalPrometheus;
beforeAll(async () => {
  prom = await startPrometheus([histogramDoc()]);
});
afterAll(async () => {
  await prom?.stop();
});

describe('a quantile over a window with zero observations', () => {
  const dialect = { server: 'tally', sdk: 'core' } as const;

  it('is a value while observations arrive, and absent (PromQL NaN) once they stop', async () => {
    const source = createPrometheusSource({ url: prom.url, dialect });
    try {
      const busy = await source.snapshot((T0 + 8 * 60) * 1000, [P99]);
      expect(busy.values[P99.id]).toMatchObject({ status: 'ok' });
      // 5-minute window ending at minute 25: the counts have not moved since minute 10.
      const quietAt = T0 + 25 * 60;
      const raw = await fetch(
        `${prom.url}/api/v1/query?${new URLSearchParams({
          query: renderSignal(P99, { ...DEFAULT_DIALECT, ...dialect }),
          time: String(quietAt),
        })}`,
      );
      const body = (await raw.json()) as { data: { result: { value: [number, string] }[] } };
      expect(body.data.result.map((r) => r.value[1])).toEqual(['NaN']);
      const quiet = await source.snapshot(quietAt * 1000, [P99]);
      expect(quiet.values[P99.id]).toEqual({ status: 'absent' });
    } finally {
      await source.close();
    }
  });

  it('is an error when the query itself fails', async () => {
    const source = createPrometheusSource({ url: prom.url, dialect });
    await prom.stop();
    try {
      const snap = await source.snapshot((T0 + 25 * 60) * 1000, [P99]);
      expect(snap.values[P99.id]).toMatchObject({
        status: 'error',
        message: expect.stringMatching(/ECONNREFUSED/),
      });
    } finally {
      await source.close();
    }
  });
});
