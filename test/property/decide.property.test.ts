import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { resolveEngineConfig } from '../../shared/health/config.js';
import {
  CarriedCells,
  carriedFromCells,
  cellsFromCarried,
  compileEngine,
  Decision,
  type DecisionSummary,
  decide,
  replayColumns,
  summarize,
} from '../../shared/health/decide.js';
import { evaluate } from '../../shared/health/engine.js';
import type { CarriedState, Evaluation } from '../../shared/health/evaluation.js';
import { observe, observeAll } from '../../shared/health/observation.js';
import type { Snapshot } from '../../shared/signals/value.js';
import { carriedArb, engineConfigInputArb, fullSnapshotArb } from '../helpers/arbitraries.js';
import { CYCLE_MS, T0 } from '../helpers/snapshots.js';

// At least 1,000 runs each (the bar); override upwards with FC_NUM_RUNS.
const numRuns = Math.max(1000, Number(process.env.FC_NUM_RUNS ?? 0));

const runArb = fc.record({
  config: engineConfigInputArb,
  carried: fc.option(carriedArb, { nil: null }),
  snaps: fc.array(fullSnapshotArb, { minLength: 1, maxLength: 30 }),
});

const at = (snaps: readonly Snapshot[]) =>
  snaps.map((s, i) => ({ ...s, observedAt: T0 + i * CYCLE_MS }));

function project(e: Evaluation): DecisionSummary {
  const { gates: _g, services: _s, workers: _w, ...rest } = e;
  return rest;
}

const CAPACITY = new Set([
  'NEVER_SCALE_DOWN_AT_ZERO',
  'SCHEDULE_TO_START_HIGH',
  'NO_POLLERS',
  'TASKS_WAITING_FOR_WORKERS',
]);

describe('decision kernel', () => {
  test.prop([runArb], { numRuns })(
    'a columnar replay decides every cycle exactly as evaluate does, carried state included',
    ({ config: input, carried, snaps }) => {
      const config = resolveEngineConfig(input);
      const run = at(snaps);
      const expected: DecisionSummary[] = [];
      let c: CarriedState | null = carried;
      for (const s of run) {
        const e = evaluate(c, s, config);
        expected.push(project(e));
        c = e.carried;
      }
      const got: DecisionSummary[] = [];
      const last = replayColumns(config, observeAll(run, config.maxSampleAgeSec), carried, (d) => {
        got.push(summarize(d));
      });
      expect(got).toEqual(expected);
      expect(last).toEqual(c);
    },
  );

  test.prop([runArb], { numRuns })(
    'reads the previous cycle in full before writing: prev may be the decision it writes',
    ({ config: input, carried, snaps }) => {
      const e = compileEngine(resolveEngineConfig(input));
      const cols = observeAll(at(snaps), e.config.maxSampleAgeSec);
      const aliased = new Decision();
      const separate = new Decision();
      const prev = new CarriedCells();
      cellsFromCarried(carried, aliased.next);
      cellsFromCarried(carried, prev);
      for (let row = 0; row < cols.rows; row++) {
        decide(e, cols, row, aliased.next, aliased);
        decide(e, cols, row, prev, separate);
        expect(summarize(aliased)).toEqual(summarize(separate));
        Object.assign(prev, separate.next);
      }
    },
  );

  test.prop([carriedArb], { numRuns })('carried state survives the numeric cells', (carried) => {
    expect(carriedFromCells(cellsFromCarried(carried, new CarriedCells()))).toEqual(carried);
  });

  test.prop([engineConfigInputArb, fc.option(carriedArb, { nil: null }), fullSnapshotArb], {
    numRuns,
  })(
    "the kernel's worker-capacity evidence agrees with the worker findings evaluate reports",
    (input, carried, snap) => {
      const config = resolveEngineConfig(input);
      const e = evaluate(carried, snap, config);
      const capacity = e.workers.findings.some((f) => CAPACITY.has(f.rule));
      const workerSide = e.bottleneck === 'worker_limited' || e.bottleneck === 'mixed';
      if (e.workers.evaluated) expect(workerSide).toBe(capacity);
      else expect(workerSide).toBe(false);
    },
  );

  test.prop([engineConfigInputArb, fullSnapshotArb], { numRuns })(
    'a single-row observation and a row of many columns decide alike',
    (input, snap) => {
      const config = resolveEngineConfig(input);
      const e = compileEngine(config);
      const single = new Decision();
      decide(e, observe(snap, config.maxSampleAgeSec), 0, new CarriedCells(), single);
      const cols = observeAll([snap, snap, snap], config.maxSampleAgeSec);
      const third = new Decision();
      decide(e, cols, 2, new CarriedCells(), third);
      expect(summarize(third)).toEqual(summarize(single));
      expect([...third.observed]).toEqual([...single.observed]);
      expect([...third.skip]).toEqual([...single.skip]);
    },
  );
});
