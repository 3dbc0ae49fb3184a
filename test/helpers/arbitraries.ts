import fc from 'fast-check';
import { SCALE_BANDS } from '../../shared/health/config.js';
import type { CarriedState } from '../../shared/health/evaluation.js';
import { SIG } from '../../shared/signals/ids.js';
import type { SignalValue, Snapshot } from '../../shared/signals/value.js';
import { T0 } from './snapshots.js';

type Key = keyof typeof SIG;

/** Values near the thresholds matter most; mix edge constants with free doubles. */
const around = (edges: number[], max: number) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...edges) },
    { weight: 2, arbitrary: fc.double({ min: 0, max, noNaN: true, noDefaultInfinity: true }) },
  );

/** Ranges per signal that straddle every band's thresholds. */
export const RANGES: Partial<Record<Key, fc.Arbitrary<number>>> = {
  throughput: around([0, 0.4, 0.6, 2, 4.9, 5, 8, 30, 55, 120, 560, 2000], 3000),
  processing: around([0, 0.4, 1, 4, 6, 20, 200], 1000),
  success: around([0, 0.2, 1, 5, 50], 200),
  failed: around([0, 0.1, 1, 10, 60], 200),
  historyLatencyP99: around([10, 400, 600, 1200, 2500], 5000),
  historyBacklog: around([0, 2, 6, 25, 35, 70, 130, 230, 310, 650], 1000),
  shardChurn: around([0, 4, 6], 20),
  frontendErrors: around([0, 0.05, 2, 10], 100),
  frontendLatencyP99: around([0, 500, 1500, 3000, 6000], 10_000),
  matchingWorkflowBacklog: around([0, 3, 40, 70, 130, 300], 600),
  matchingActivityBacklog: around([0, 3, 40, 70, 130, 300], 600),
  backlogCount: around([0, 10, 25, 5000], 10_000),
  noPollerTasks: around([0, 0.5], 5),
  pollTimeoutRate: fc.double({ min: 0, max: 1, noNaN: true }),
  persistenceLatencyP99: around([20, 90, 150, 300, 600], 2000),
  persistenceErrors: around([0, 0.05, 2, 45, 55, 120], 200),
  deletion: around([0, 0.5, 4.9, 5, 100], 300),
  cleanup: around([0, 0.4, 1, 5], 20),
};

export const ENGINE_KEYS = Object.keys(RANGES) as Key[];

const valueArb = (range: fc.Arbitrary<number>): fc.Arbitrary<SignalValue> =>
  fc.oneof(
    { weight: 12, arbitrary: range.map((value): SignalValue => ({ status: 'ok', value })) },
    { weight: 1, arbitrary: fc.constant<SignalValue>({ status: 'absent' }) },
    { weight: 1, arbitrary: fc.constant<SignalValue>({ status: 'error', message: 'boom' }) },
  );

/** Any snapshot over the engine's primary and system signals, every value tri-state. */
export const snapshotArb: fc.Arbitrary<Snapshot> = fc
  .record(
    Object.fromEntries(
      ENGINE_KEYS.map((k) => [k, valueArb(RANGES[k] as fc.Arbitrary<number>)]),
    ) as Record<Key, fc.Arbitrary<SignalValue>>,
  )
  .map((rec) => ({
    observedAt: T0,
    values: Object.fromEntries(Object.entries(rec).map(([k, v]) => [SIG[k as Key], v])),
  }));

/** Any carried state the schema admits, including combinations no real run produces. */
export const carriedArb: fc.Arbitrary<CarriedState> = fc.record({
  version: fc.constant(1 as const),
  lastState: fc.constantFrom('happy', 'stressed', 'critical', 'unknown', null),
  lastKnownState: fc.constantFrom('happy', 'stressed', 'critical', null),
  criticalStreak: fc.nat({ max: 10 }),
  unknownStreak: fc.nat({ max: 12 }),
  band: fc.constantFrom(...SCALE_BANDS, null),
  bandUpDwell: fc.nat({ max: 5 }),
  bandDownDwell: fc.nat({ max: 25 }),
  cycles: fc.nat({ max: 1_000_000 }),
});

const ALL_KEYS = Object.keys(SIG) as Key[];

/** Values for signals without a RANGES entry (amplifiers, SDK metrics): edges and free doubles. */
const anyRange = around([0, 0.5, 1, 100, 250, 600, 2000], 5000);

/**
 * Every engine signal, each ok (fresh, old-but-fresh or stale by `sampledAt`), non-finite,
 * absent, missing from the snapshot or failed: what the kernel and the full evaluation must read
 * identically.
 */
export const fullSnapshotArb: fc.Arbitrary<Snapshot> = fc
  .record(
    Object.fromEntries(
      ALL_KEYS.map((k) => {
        const range = RANGES[k] ?? anyRange;
        const v: fc.Arbitrary<SignalValue | undefined> = fc.oneof(
          { weight: 10, arbitrary: range.map((value): SignalValue => ({ status: 'ok', value })) },
          {
            weight: 1,
            arbitrary: range.map(
              (value): SignalValue => ({ status: 'ok', value, sampledAt: T0 - 100_000 }),
            ),
          },
          {
            weight: 1,
            arbitrary: range.map(
              (value): SignalValue => ({ status: 'ok', value, sampledAt: T0 - 400_000 }),
            ),
          },
          {
            weight: 1,
            arbitrary: fc.constantFrom<SignalValue>(
              { status: 'ok', value: Number.NaN },
              { status: 'ok', value: Number.NEGATIVE_INFINITY },
            ),
          },
          { weight: 1, arbitrary: fc.constant<SignalValue>({ status: 'absent' }) },
          { weight: 1, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: fc.constant<SignalValue>({ status: 'error', message: 'boom' }) },
        );
        return [k, v];
      }),
    ) as Record<Key, fc.Arbitrary<SignalValue | undefined>>,
  )
  .map((rec) => {
    const values: Record<string, SignalValue> = {};
    for (const [k, v] of Object.entries(rec)) if (v !== undefined) values[SIG[k as Key]] = v;
    return { observedAt: T0, values };
  });

/** Engine configuration inputs that move the kernel's branches: bands, dwell, debounce, idle. */
export const engineConfigInputArb = fc.record({
  band: fc.record({
    initial: fc.constantFrom(undefined, ...SCALE_BANDS),
    floor: fc.constantFrom(undefined, 'starter', 'mid-scale'),
    upDwellCycles: fc.integer({ min: 1, max: 3 }),
    downDwellCycles: fc.integer({ min: 1, max: 3 }),
  }),
  idle: fc.record({ requireDemandEvidence: fc.boolean() }),
  debounce: fc.record({
    criticalConsecutiveCycles: fc.integer({ min: 1, max: 4 }),
    unknownResetCycles: fc.integer({ min: 1, max: 4 }),
  }),
});
