import { Bench } from 'tinybench';
import { DEFAULT_ENGINE_CONFIG } from '../shared/health/config.js';
import {
  CarriedCells,
  cellsFromCarried,
  compileEngine,
  Decision,
  decide,
  replayColumns,
} from '../shared/health/decide.js';
import { evaluate, evaluateObservation } from '../shared/health/engine.js';
import type { CarriedState, Evaluation } from '../shared/health/evaluation.js';
import {
  observationColumns,
  observe,
  observeAll,
  observeInto,
} from '../shared/health/observation.js';
import { SIGNAL_CATALOG } from '../shared/signals/catalog.js';
import { SIG } from '../shared/signals/ids.js';
import type { SignalValue, Snapshot } from '../shared/signals/value.js';

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

  // A month at 30 s (86,400 cycles) as columns, built from the day above repeated with shifted
  // timestamps: what a replay of Prometheus history feeds the kernel.
  const dayColumns = observeAll(day, DEFAULT_ENGINE_CONFIG.maxSampleAgeSec);
  const month = observeAll(
    Array.from({ length: 30 * 2880 }, (_, i) => {
      const s = day[i % 2880] as Snapshot;
      return { ...s, observedAt: t0 + i * 30_000 };
    }),
    DEFAULT_ENGINE_CONFIG.maxSampleAgeSec,
  );

  let sink: Evaluation | undefined;
  let observedSink: ReturnType<typeof observe> | undefined;
  let stateSink = 0;
  const observed = observe(snap, DEFAULT_ENGINE_CONFIG.maxSampleAgeSec);
  const compiled = compileEngine(DEFAULT_ENGINE_CONFIG);
  const prev = cellsFromCarried(carried, new CarriedCells());
  const decision = new Decision();
  const row = observationColumns(1);
  const bench = new Bench({ time: 2000, warmupTime: 300 });
  bench
    .add(
      'decide (realistic observation, carried state: the whole verdict into reused cells)',
      () => {
        decide(compiled, observed, 0, prev, decision);
        stateSink += decision.state;
      },
    )
    .add('observe + decide (the same, reading the snapshot object first)', () => {
      observeInto(row, 0, snap, DEFAULT_ENGINE_CONFIG.maxSampleAgeSec);
      decide(compiled, row, 0, prev, decision);
      stateSink += decision.state;
    })
    .add('evaluate (realistic snapshot, carried state, full JSON evaluation)', () => {
      sink = evaluate(carried, snap, DEFAULT_ENGINE_CONFIG);
    })
    .add('evaluateObservation (values already read, full JSON evaluation)', () => {
      sink = evaluateObservation(carried, observed, DEFAULT_ENGINE_CONFIG);
    })
    .add("observe (read the snapshot's tri-state values only)", () => {
      observedSink = observe(snap, DEFAULT_ENGINE_CONFIG.maxSampleAgeSec);
    })
    .add('replay 24 h at 30 s with evaluate (2,880 cycles, carried state)', () => {
      let c: CarriedState | null = null;
      for (const s of day) {
        sink = evaluate(c, s, DEFAULT_ENGINE_CONFIG);
        c = sink.carried;
      }
    })
    .add('replay 24 h at 30 s from columns (2,880 cycles, kernel)', () => {
      replayColumns(DEFAULT_ENGINE_CONFIG, dayColumns, null, (d) => {
        stateSink += d.state;
      });
    })
    .add('replay 30 days at 30 s from columns (86,400 cycles, kernel)', () => {
      replayColumns(DEFAULT_ENGINE_CONFIG, month, null, (d) => {
        stateSink += d.state;
      });
    });
  await bench.run();
  if (sink === undefined || observedSink === undefined || stateSink === 0)
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
      const cycles = task.name.includes('30 days') ? 86_400 : 2880;
      out.push(
        `${task.name}: ${meanMs.toFixed(2)} ms per replay (${Math.round(cycles * perSec).toLocaleString('en-US')} evaluations/s), ` +
          `p99 ${r.latency.p99?.toFixed(2)} ms, ${r.latency.samplesCount} samples`,
      );
    } else {
      const unit = task.name.startsWith('observe (') ? 'snapshots read/s' : 'evaluations/s';
      out.push(
        `${task.name}: ${Math.round(perSec).toLocaleString('en-US')} ${unit} ` +
          `(mean ${(meanMs * 1000).toFixed(2)} µs, p99 ${((r.latency.p99 ?? 0) * 1000).toFixed(2)} µs, ${r.latency.samplesCount} samples)`,
      );
    }
  }
  return out;
}
