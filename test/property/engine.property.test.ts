import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { evaluate } from '../../shared/health/engine.js';
import type { Evaluation, KnownState } from '../../shared/health/evaluation.js';
import {
  CarriedStateSchema,
  EvaluationSchema,
  severityRank,
} from '../../shared/health/evaluation.js';
import { SIG } from '../../shared/signals/ids.js';
import type { SignalValue, Snapshot } from '../../shared/signals/value.js';
import { carriedArb, ENGINE_KEYS, RANGES, snapshotArb } from '../helpers/arbitraries.js';
import { CYCLE_MS, HEALTHY, T0 } from '../helpers/snapshots.js';

// At least 1,000 runs each (the bar); override upwards with FC_NUM_RUNS.
const numRuns = Math.max(1000, Number(process.env.FC_NUM_RUNS ?? 0));

function runSequence(snaps: readonly Snapshot[]): Evaluation[] {
  let carried: Evaluation['carried'] | null = null;
  const out: Evaluation[] = [];
  snaps.forEach((s, i) => {
    const e = evaluate(carried, { ...s, observedAt: T0 + i * CYCLE_MS });
    out.push(e);
    carried = e.carried;
  });
  return out;
}

const sequenceArb = fc.array(snapshotArb, { minLength: 1, maxLength: 40 });

describe('health engine invariants', () => {
  test.prop([carriedArb, snapshotArb], { numRuns })(
    'never steps from happy to critical, whatever the carried streak',
    (carried, snap) => {
      const e = evaluate({ ...carried, lastKnownState: 'happy' }, snap);
      expect(e.state).not.toBe('critical');
    },
  );

  test.prop([sequenceArb], { numRuns })(
    'never shows happy followed by critical over a run, blind cycles included',
    (snaps) => {
      const known = runSequence(snaps)
        .map((e) => e.state)
        .filter((s) => s !== 'unknown');
      for (let i = 1; i < known.length; i++) {
        expect(`${known[i - 1]}→${known[i]}`).not.toBe('happy→critical');
      }
    },
  );

  test.prop([sequenceArb], { numRuns })(
    'reports critical only after 3 consecutive critical cycles',
    (snaps) => {
      const es = runSequence(snaps);
      es.forEach((e, i) => {
        if (e.state !== 'critical') return;
        // The last three seen (not blind) cycles up to this one each fired a critical gate.
        const seen = es.slice(0, i + 1).filter((x) => x.state !== 'unknown');
        const lastThree = seen.slice(-3);
        expect(lastThree).toHaveLength(3);
        for (const x of lastThree) {
          expect(x.gates.some((g) => g.level === 'critical' && g.fired)).toBe(true);
        }
      });
    },
  );

  test.prop([carriedArb, snapshotArb], { numRuns })(
    'is deterministic and carries state that round-trips through JSON',
    (carried, snap) => {
      const a = evaluate(carried, snap);
      const b = evaluate(JSON.parse(JSON.stringify(carried)), JSON.parse(JSON.stringify(snap)));
      expect(b).toEqual(a);
      const restored = CarriedStateSchema.parse(JSON.parse(JSON.stringify(a.carried)));
      expect(restored).toEqual(a.carried);
      expect(evaluate(restored, snap)).toEqual(evaluate(a.carried, snap));
    },
  );

  test.prop(
    [
      carriedArb,
      snapshotArb,
      fc.constantFrom<SignalValue>({ status: 'absent' }, { status: 'error', message: 'down' }),
    ],
    { numRuns },
  )('says unknown whenever forward progress cannot be seen', (carried, snap, missing) => {
    const e = evaluate(carried, { ...snap, values: { ...snap.values, [SIG.throughput]: missing } });
    expect(e.state).toBe('unknown');
    expect(e.bottleneck).toBe('unknown');
    expect(e.carried.lastKnownState).toBe(carried.lastKnownState);
    expect(e.carried.band).toBe(carried.band);
  });

  test.prop([carriedArb, snapshotArb], { numRuns })(
    'returns an evaluation that validates against the published schema',
    (carried, snap) => {
      const e = evaluate(carried, snap);
      expect(() => EvaluationSchema.parse(e)).not.toThrow();
      expect(e.firedGates).toEqual(e.gates.filter((g) => g.fired).map((g) => g.id));
      for (const g of e.gates) if (g.fired) expect(g.evaluated).toBe(true);
    },
  );
});

/**
 * Monotonicity: a strictly worse picture of the primary signals, at the same prior, never yields a
 * better state. Throughput stays at or above the demand gate so idle and the demand-gated gates
 * (which legitimately switch off at low load) are not in play; system operations are held fixed.
 */
describe('health engine monotonicity', () => {
  const HIGHER_IS_WORSE = [
    'historyLatencyP99',
    'historyBacklog',
    'shardChurn',
    'frontendErrors',
    'frontendLatencyP99',
    'matchingWorkflowBacklog',
    'matchingActivityBacklog',
    'backlogCount',
    'noPollerTasks',
    'pollTimeoutRate',
    'persistenceLatencyP99',
    'persistenceErrors',
  ] as const;
  const LOWER_IS_WORSE = ['throughput', 'processing'] as const;

  const pairArb = fc
    .record({
      // Mostly a healthy cluster, so that the one signal being worsened is often the decisive one.
      base: fc.record(
        Object.fromEntries(
          ENGINE_KEYS.map((k) => [
            k,
            fc.oneof(
              { weight: 2, arbitrary: fc.constant(Number(HEALTHY[k] ?? 0)) },
              { weight: 1, arbitrary: RANGES[k] as fc.Arbitrary<number> },
            ),
          ]),
        ),
      ),
      // Worsen a few signals towards a fresh draw from their range (so thresholds get crossed);
      // the others stay equal.
      worsen: fc
        .subarray([...HIGHER_IS_WORSE, ...LOWER_IS_WORSE], { minLength: 1, maxLength: 3 })
        .chain((keys) =>
          fc.record(Object.fromEntries(keys.map((k) => [k, RANGES[k] as fc.Arbitrary<number>]))),
        ) as fc.Arbitrary<Record<string, number>>,
      shift: fc.double({ min: 0, max: 1, noNaN: true }),
      absent: fc.subarray([...HIGHER_IS_WORSE, 'processing' as const]),
    })
    .map(({ base, worsen, shift, absent }) => {
      const a: Record<string, number> = { ...base };
      a.throughput = Math.max(5, a.throughput ?? 5);
      a.deletion = 0;
      a.cleanup = 0;
      const b: Record<string, number> = { ...a };
      for (const [k, draw] of Object.entries(worsen)) {
        const was = a[k] ?? 0;
        b[k] = (LOWER_IS_WORSE as readonly string[]).includes(k)
          ? Math.min(was, draw)
          : Math.max(was, draw);
      }
      b.throughput = Math.max(5, b.throughput ?? 5);
      // Move terminal workflows from success to failed: same demand, lower completion rate.
      const moved = (a.success ?? 0) * shift;
      b.success = (a.success ?? 0) - moved;
      b.failed = (a.failed ?? 0) + moved;
      const toSnap = (vals: Record<string, number>): Snapshot => ({
        observedAt: T0,
        values: Object.fromEntries(
          ENGINE_KEYS.map((k) => [
            SIG[k],
            (absent as string[]).includes(k)
              ? ({ status: 'absent' } as const)
              : ({ status: 'ok', value: vals[k] ?? 0 } as const),
          ]),
        ),
      });
      return [toSnap(a), toSnap(b)] as const;
    });

  // The prior includes a band: on a first cycle with nothing carried the band is classified from
  // the observed throughput itself, which is the one place lower throughput may loosen limits
  // (set `band.initial` to the deployment preset to close it; see docs/health-engine.md).
  const priorArb = carriedArb.filter((c) => c.band !== null);

  test.prop([priorArb, pairArb], { numRuns })(
    'never gives a better state for worse primary signals at the same prior',
    (carried, [better, worse]) => {
      const a = evaluate(carried, better);
      const b = evaluate(carried, worse);
      expect(a.state).not.toBe('unknown');
      expect(b.state).not.toBe('unknown');
      expect(severityRank(b.state as KnownState)).toBeGreaterThanOrEqual(
        severityRank(a.state as KnownState),
      );
    },
  );
});
