import { describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_CONFIG } from '../../../shared/health/config.js';
import { evaluate } from '../../../shared/health/engine.js';
import {
  type CarriedState,
  type Evaluation,
  INITIAL_CARRIED_STATE,
} from '../../../shared/health/evaluation.js';
import { SIG } from '../../../shared/signals/ids.js';
import type { Snapshot } from '../../../shared/signals/value.js';
import { HEALTHY, repeat, run, type Spec, snapshot, withSpec } from '../../helpers/snapshots.js';

const carried = (patch: Partial<CarriedState>): CarriedState => ({
  ...INITIAL_CARRIED_STATE,
  lastState: 'happy',
  lastKnownState: 'happy',
  ...patch,
});
const last = (es: readonly Evaluation[]): Evaluation => {
  const e = es.at(-1);
  if (e === undefined) throw new Error('no evaluation');
  return e;
};

/** Every engine signal failed except throughput: the cheap counter query answered, nothing else. */
function onlyThroughput(): Snapshot {
  const spec = Object.fromEntries(Object.keys(SIG).map((k) => [k, 'error'])) as Spec;
  return snapshot({ ...spec, throughput: 120 });
}

describe('partial visibility: a critical gate that cannot look makes happy impossible', () => {
  it('reads a source whose every query but throughput failed as unknown, not happy', () => {
    const e = evaluate(carried({ band: 'mid-scale' }), onlyThroughput());
    expect(e.state).toBe('unknown');
    expect(e.reason).toBe('partial_visibility');
    expect(e.bottleneck).toBe('unknown');
    expect(e.blindGates).toEqual(
      expect.arrayContaining([
        'critical.completion_rate',
        'critical.history_backlog',
        'critical.processing',
        'critical.persistence_errors',
      ]),
    );
    // The blind gates say why they were not evaluated, with the status as read.
    const g = e.gates.find((x) => x.id === 'critical.history_backlog');
    expect(g).toMatchObject({ evaluated: false, skipReason: 'no_data', observedStatus: 'error' });
  });

  it('names exactly the gates whose signal failed; one failed critical signal is enough', () => {
    const e = evaluate(
      carried({ band: 'mid-scale' }),
      snapshot(withSpec(HEALTHY, { historyBacklog: 'error' })),
    );
    expect(e.state).toBe('unknown');
    expect(e.reason).toBe('partial_visibility');
    expect(e.blindGates).toEqual([
      'critical.history_backlog',
      'stressed.history_backlog',
      'healthy.history_backlog',
    ]);
  });

  it('treats a stale critical signal as blind, like a failed one', () => {
    const snap = snapshot(HEALTHY);
    const staleAt = snap.observedAt - (DEFAULT_ENGINE_CONFIG.maxSampleAgeSec + 60) * 1000;
    snap.values[SIG.persistenceErrors] = { status: 'ok', value: 0, sampledAt: staleAt };
    const e = evaluate(carried({ band: 'mid-scale' }), snap);
    expect(e.reason).toBe('partial_visibility');
    expect(e.blindGates).toEqual(['critical.persistence_errors']);
    expect(e.gates.find((g) => g.id === 'critical.persistence_errors')?.observedStatus).toBe(
      'stale',
    );
  });

  it('reads an absent quantile (no requests in the window) as nothing to measure, not blind', () => {
    const e = evaluate(
      carried({ band: 'mid-scale' }),
      snapshot(withSpec(HEALTHY, { historyLatencyP99: 'absent', persistenceLatencyP99: 'absent' })),
    );
    expect(e.state).toBe('happy');
    expect(e.blindGates).toEqual([]);
  });

  it('reports a failed stressed-gate signal as blind without blocking happy', () => {
    const e = evaluate(
      carried({ band: 'mid-scale' }),
      snapshot(withSpec(HEALTHY, { persistenceLatencyP99: 'error' })),
    );
    expect(e.state).toBe('happy');
    expect(e.blindGates).toEqual(['stressed.persistence_latency']);
  });

  it('keeps a stressed verdict from the gates it could evaluate', () => {
    const e = evaluate(
      carried({ band: 'mid-scale' }),
      snapshot(withSpec(HEALTHY, { historyBacklog: 'error', persistenceLatencyP99: 900 })),
    );
    expect(e.state).toBe('stressed');
    expect(e.reason).toBe('stressed_gates');
    expect(e.blindGates).toContain('critical.history_backlog');
  });

  it('sees a failed failure counter as a blind completion rate, not as a rate it measured', () => {
    const e = evaluate(
      carried({ band: 'mid-scale' }),
      snapshot(withSpec(HEALTHY, { failed: 'error' })),
    );
    const g = e.gates.find((x) => x.id === 'critical.completion_rate');
    expect(g).toMatchObject({ observed: null, observedStatus: 'error', evaluated: false });
    expect(e.reason).toBe('partial_visibility');
  });

  it('holds the critical streak across a partially blind cycle (no evidence either way)', () => {
    const critical = withSpec(HEALTHY, { historyBacklog: 700 });
    const blind = withSpec(HEALTHY, { historyBacklog: 'error' });
    const es = run([critical, blind, critical], DEFAULT_ENGINE_CONFIG, {
      ...carried({ band: 'mid-scale' }),
      lastState: 'stressed',
      lastKnownState: 'stressed',
      criticalStreak: 1,
    });
    expect(es.map((e) => `${e.state}/${e.carried.criticalStreak}`)).toEqual([
      'stressed/2',
      'unknown/2',
      'critical/3',
    ]);
  });
});

/** Issue item 6: a small cluster after a load test, carried at a higher band. */
const SETTLED_LOW: Spec = { throughput: 4, processing: 8, historyBacklog: 2 };
const DOWN = DEFAULT_ENGINE_CONFIG.band.downDwellCycles;

/** Runs `spec` for `cycles` cycles from a carried band (last state happy unless said). */
function from(
  band: CarriedState['band'],
  spec: Spec,
  cycles: number,
  patch: Partial<CarriedState> = {},
) {
  return run(repeat(spec, cycles), DEFAULT_ENGINE_CONFIG, { ...carried({ band }), ...patch });
}

describe('the band comes down when demand does', () => {
  it.each(['mid-scale', 'high-throughput'] as const)(
    `brings a quiet cluster carried at %s to happy at starter within ${DOWN + 2} cycles`,
    (band) => {
      const es = from(band, SETTLED_LOW, DOWN + 5);
      const at = es.findIndex((e) => e.state === 'happy' && e.scaleBand === 'starter');
      expect(at).toBeGreaterThanOrEqual(0);
      expect(at).toBeLessThanOrEqual(DOWN + 1);
      // And it stays happy at starter once there, the streak built at the old floors ended.
      expect(es.slice(at).every((e) => e.state === 'happy' && e.scaleBand === 'starter')).toBe(
        true,
      );
      expect(last(es).carried.criticalStreak).toBe(0);
      // From mid-scale it is only ever stressed by the band's healthy floor, never critical.
      if (band === 'mid-scale')
        expect(es.slice(0, at).every((e) => e.state === 'stressed')).toBe(true);
    },
  );

  it('keeps the band, and reaches critical, when the collapse has work waiting', () => {
    const collapse = withSpec(HEALTHY, {
      throughput: 2,
      processing: 2,
      matchingWorkflowBacklog: 240,
    });
    const es = from('mid-scale', collapse, DOWN + 10, {
      lastState: 'stressed',
      lastKnownState: 'stressed',
    });
    expect(es.every((e) => e.scaleBand === 'mid-scale')).toBe(true);
    expect(last(es).state).toBe('critical');
  });

  it.each([
    ['failures show, even with nothing waiting', withSpec(SETTLED_LOW, { frontendErrors: 3 })],
    ['no demand signal is visible (it cannot tell demand fell)', { throughput: 4, processing: 8 }],
    [
      'a stressed gate fired (not only the floors)',
      withSpec(SETTLED_LOW, { persistenceLatencyP99: 900 }),
    ],
  ] as const)('keeps the band when %s', (_, spec: Spec) => {
    expect(from('mid-scale', spec, DOWN + 10).every((e) => e.scaleBand === 'mid-scale')).toBe(true);
  });
});
