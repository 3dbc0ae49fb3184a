import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { DEFAULT_ENGINE_CONFIG } from '../../shared/health/config.js';
import { evaluate } from '../../shared/health/engine.js';
import type { CarriedState, Evaluation } from '../../shared/health/evaluation.js';
import { SIG } from '../../shared/signals/ids.js';
import type { SignalValue, Snapshot } from '../../shared/signals/value.js';
import { carriedArb, fullSnapshotArb } from '../helpers/arbitraries.js';
import { CYCLE_MS, T0 } from '../helpers/snapshots.js';

// At least 1,000 runs each; override upwards with FC_NUM_RUNS.
const numRuns = Math.max(1000, Number(process.env.FC_NUM_RUNS ?? 0));

describe('partial visibility (blind is not healthy)', () => {
  test.prop([carriedArb, fullSnapshotArb], { numRuns })(
    'never says happy while a critical gate it had to evaluate could not read its signal',
    (carried, snap) => {
      const e = evaluate(carried, snap);
      const blindCritical = e.gates.filter(
        (g) => g.level === 'critical' && e.blindGates.includes(g.id),
      );
      if (blindCritical.length > 0) expect(e.state).not.toBe('happy');
    },
  );

  test.prop([carriedArb, fullSnapshotArb], { numRuns })(
    'names as blind exactly the unevaluated gates whose signal failed or went stale',
    (carried, snap) => {
      const e = evaluate(carried, snap);
      const expected = e.gates
        .filter(
          (g) =>
            g.skipReason === 'no_data' &&
            (g.observedStatus === 'error' || g.observedStatus === 'stale'),
        )
        .map((g) => g.id);
      expect(e.blindGates).toEqual(expected);
    },
  );

  test.prop([carriedArb, fullSnapshotArb], { numRuns })(
    'a partially blind cycle holds what a blind cycle holds: streak, band, last known state',
    (carried, snap) => {
      const e = evaluate(carried, snap);
      if (e.reason !== 'partial_visibility') return;
      expect(e.state).toBe('unknown');
      expect(e.firedGates.filter((id) => !id.startsWith('recovery.'))).toEqual([]);
      expect(e.carried.lastKnownState).toBe(carried.lastKnownState);
      expect(e.carried.band).toBe(carried.band);
      expect(e.carried.criticalStreak).toBe(
        e.carried.unknownStreak >= DEFAULT_ENGINE_CONFIG.debounce.unknownResetCycles
          ? 0
          : carried.criticalStreak,
      );
    },
  );
});

/**
 * Low, clean-demand traffic: a small cluster doing a little work with nothing waiting and nothing
 * failing, everything visible. Throughput stays below the starter boundary's hysteresis (45 st/s)
 * and at or above the starter floors, so starter is where it belongs and happy is its state there.
 */
const ok = (value: number): SignalValue => ({ status: 'ok', value });
const maybeAbsent = (arb: fc.Arbitrary<number>) =>
  fc.oneof(arb.map(ok), fc.constant<SignalValue>({ status: 'absent' }));

const lowCleanSnapshotArb: fc.Arbitrary<Snapshot> = fc
  .record({
    throughput: fc.double({ min: 0.5, max: 44.9, noNaN: true }).map(ok),
    processing: fc.double({ min: 0.5, max: 200, noNaN: true }).map(ok),
    success: fc.double({ min: 0, max: 20, noNaN: true }).map(ok),
    failed: fc.oneof(fc.constant(0).map(ok), fc.constant<SignalValue>({ status: 'absent' })),
    historyBacklog: fc.double({ min: 0, max: 4.9, noNaN: true }).map(ok),
    matchingWorkflowBacklog: maybeAbsent(fc.double({ min: 0, max: 4.9, noNaN: true })),
    matchingActivityBacklog: maybeAbsent(fc.double({ min: 0, max: 4.9, noNaN: true })),
    backlogCount: maybeAbsent(fc.integer({ min: 0, max: 20 })),
    noPollerTasks: maybeAbsent(fc.constant(0)),
    frontendErrors: maybeAbsent(fc.double({ min: 0, max: 0.09, noNaN: true })),
    persistenceErrors: maybeAbsent(fc.constant(0)),
    historyLatencyP99: maybeAbsent(fc.double({ min: 1, max: 450, noNaN: true })),
    frontendLatencyP99: maybeAbsent(fc.double({ min: 1, max: 900, noNaN: true })),
    persistenceLatencyP99: maybeAbsent(fc.double({ min: 1, max: 90, noNaN: true })),
    pollTimeoutRate: maybeAbsent(fc.double({ min: 0, max: 0.09, noNaN: true })),
    shardChurn: maybeAbsent(fc.double({ min: 0, max: 4, noNaN: true })),
    deletion: maybeAbsent(fc.constant(0)),
    cleanup: maybeAbsent(fc.constant(0)),
  })
  .map((rec) => ({
    observedAt: T0,
    values: Object.fromEntries(
      Object.entries(rec).map(([k, v]) => [SIG[k as keyof typeof SIG], v]),
    ),
  }));

const DOWN = DEFAULT_ENGINE_CONFIG.band.downDwellCycles;
/** The bound stated in docs/health-engine.md: the down-dwell, one cycle of recovery, and one. */
const BOUND = DOWN + 2;

const highCarriedArb: fc.Arbitrary<CarriedState> = carriedArb.chain((c) =>
  fc.constantFrom('mid-scale' as const, 'high-throughput' as const).map((band) => ({
    ...c,
    band,
    bandDownDwell: 0,
    unknownStreak: 0,
  })),
);

describe('the band comes down when demand does', () => {
  test.prop(
    [highCarriedArb, fc.array(lowCleanSnapshotArb, { minLength: BOUND, maxLength: BOUND })],
    {
      numRuns,
    },
  )(
    `low clean-demand traffic reaches happy at starter within ${BOUND} cycles`,
    (carried, snaps) => {
      let c: CarriedState | null = carried;
      const es: Evaluation[] = [];
      snaps.forEach((s, i) => {
        const e = evaluate(c, { ...s, observedAt: T0 + i * CYCLE_MS });
        es.push(e);
        c = e.carried;
      });
      const at = es.findIndex((e) => e.state === 'happy' && e.scaleBand === 'starter');
      expect(
        at,
        es.map((e) => `${e.scaleBand}:${e.state}:${e.reason}`).join(' '),
      ).toBeGreaterThanOrEqual(0);
      expect(at).toBeLessThan(BOUND);
      // Once down, it stays down for as long as the traffic stays this low.
      expect(es.slice(at).every((e) => e.scaleBand === 'starter')).toBe(true);
    },
  );
});
