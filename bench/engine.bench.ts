import { Bench } from 'tinybench';
import { DEFAULT_ENGINE_CONFIG } from '../shared/health/config.js';
import { evaluate, evaluateObservation } from '../shared/health/engine.js';
import type { CarriedState, Evaluation } from '../shared/health/evaluation.js';
import { observe } from '../shared/health/observation.js';
import type { SignalValue, Snapshot } from '../shared/health/snapshot.js';
import { SIGNAL_CATALOG } from '../shared/signals/catalog.js';
import { SIG } from '../shared/signals/ids.js';

/**
 * A realistic snapshot: every catalog signal present (as a real observation cycle asks for all of
 * them), mid-scale load with some persistence pressure, a few absent and failed values.
 */
function realisticSnapshot(observedAt: number): Snapshot {
  const values: Record<string, SignalValue> = {};
  SIGNAL_CATALOG.forEach((s, i) => {
    values[s.id] = i % 17 === 5 ? { status: 'absent' } : { status: 'ok', value: (i * 7.3) % 50 };
  });
  const set = (id: string, value: number) => {
    values[id] = { status: 'ok', value, sampledAt: observedAt - 15_000 };
  };
  set(SIG.throughput, 180);
  set(SIG.processing, 240);
  set(SIG.success, 20);
  set(SIG.failed, 0.4);
  set(SIG.historyBacklog, 3);
  set(SIG.persistenceLatencyP99, 260);
  set(SIG.persistenceErrors, 0.2);
  set(SIG.frontendLatencyP99, 120);
  values[SIG.wftScheduleToStartP95] = { status: 'error', message: 'timeout' };
  return { observedAt, values };
}

export async function engineBench(): Promise<string[]> {
  const t0 = Date.UTC(2026, 10, 28);
  const snap = realisticSnapshot(t0);
  const warm = evaluate(null, snap);
  const carried: CarriedState = warm.carried;

  // A day of history at a 30 s step, with a stressed episode, for the replay figure.
  const day: Snapshot[] = Array.from({ length: 2880 }, (_, i) => {
    const s = realisticSnapshot(t0 + i * 30_000);
    if (i % 400 > 380) s.values[SIG.historyBacklog] = { status: 'ok', value: 400 };
    return s;
  });

  let sink: Evaluation | undefined;
  let observedSink: ReturnType<typeof observe> | undefined;
  const observed = observe(snap, DEFAULT_ENGINE_CONFIG.maxSampleAgeSec);
  const bench = new Bench({ time: 2000, warmupTime: 300 });
  bench
    .add('evaluate (realistic snapshot, carried state)', () => {
      sink = evaluate(carried, snap, DEFAULT_ENGINE_CONFIG);
    })
    .add('evaluateObservation (values already read, as a columnar replay feeds it)', () => {
      sink = evaluateObservation(carried, observed, DEFAULT_ENGINE_CONFIG);
    })
    .add("observe (read the snapshot's tri-state values only)", () => {
      observedSink = observe(snap, DEFAULT_ENGINE_CONFIG.maxSampleAgeSec);
    })
    .add('replay 24 h at 30 s (2,880 cycles, carried state)', () => {
      let c: CarriedState | null = null;
      for (const s of day) {
        sink = evaluate(c, s, DEFAULT_ENGINE_CONFIG);
        c = sink.carried;
      }
    });
  await bench.run();
  if (sink === undefined || observedSink === undefined)
    throw new Error('benchmark produced nothing');

  const out: string[] = [];
  for (const task of bench.tasks) {
    const r = task.result;
    if (r === undefined || r.state !== 'completed') {
      out.push(`${task.name}: did not complete`);
      continue;
    }
    const meanMs = r.latency.mean;
    const perSec = 1000 / meanMs;
    if (task.name.startsWith('replay')) {
      out.push(
        `${task.name}: ${meanMs.toFixed(2)} ms per day replayed (${Math.round(2880 * perSec).toLocaleString('en-US')} evaluations/s), ` +
          `p99 ${r.latency.p99?.toFixed(2)} ms, ${r.latency.samplesCount} samples`,
      );
    } else {
      const unit = task.name.startsWith('observe') ? 'snapshots read/s' : 'evaluations/s';
      out.push(
        `${task.name}: ${Math.round(perSec).toLocaleString('en-US')} ${unit} ` +
          `(mean ${(meanMs * 1000).toFixed(2)} µs, p99 ${((r.latency.p99 ?? 0) * 1000).toFixed(2)} µs, ${r.latency.samplesCount} samples)`,
      );
    }
  }
  return out;
}
