import { describe, expect, it } from 'vitest';
import { resolveEngineConfig } from '../../../shared/health/config.js';
import { evaluate } from '../../../shared/health/engine.js';
import type { CarriedState, Evaluation } from '../../../shared/health/evaluation.js';
import { INITIAL_CARRIED_STATE } from '../../../shared/health/evaluation.js';
import {
  HEALTHY,
  IDLE,
  RETENTION_STORM,
  repeat,
  run,
  type Spec,
  snapshot,
  T0,
  withSpec,
} from '../../helpers/snapshots.js';

const states = (es: Evaluation[]) => es.map((e) => e.state);
const last = (es: Evaluation[]): Evaluation => {
  const e = es.at(-1);
  if (e === undefined) throw new Error('no evaluation');
  return e;
};
const gate = (e: Evaluation, id: string) => {
  const g = e.gates.find((x) => x.id === id);
  if (g === undefined) throw new Error(`no gate ${id}`);
  return g;
};

/** A mid-scale cluster whose history backlog is past the critical limit. */
const CRITICAL_BACKLOG = withSpec(HEALTHY, { historyBacklog: 700 });
const carriedAt = (patch: Partial<CarriedState>): CarriedState => ({
  ...INITIAL_CARRIED_STATE,
  band: 'mid-scale',
  lastState: 'stressed',
  lastKnownState: 'stressed',
  ...patch,
});

describe('evaluate: the debounced state machine (docs/lessons.md#critical-needs-three-cycles, #recovery-hysteresis)', () => {
  it('reports a healthy mid-scale cluster as happy with no gate fired', () => {
    const e = evaluate(null, snapshot(HEALTHY));
    expect(e.state).toBe('happy');
    expect(e.reason).toBe('healthy');
    expect(e.scaleBand).toBe('mid-scale');
    expect(e.firedGates).toEqual([]);
    expect(e.bottleneck).toBe('healthy');
  });

  it('reports one critical reading as stressed, three in a row as critical', () => {
    const es = run(
      repeat(CRITICAL_BACKLOG, 4),
      undefined,
      carriedAt({ lastKnownState: 'happy', lastState: 'happy' }),
    );
    expect(states(es)).toEqual(['stressed', 'stressed', 'critical', 'critical']);
    expect(es.map((e) => e.reason)).toEqual([
      'critical_debouncing',
      'critical_debouncing',
      'critical_sustained',
      'critical_sustained',
    ]);
    expect(es[0]?.firedGates).toContain('critical.history_backlog');
  });

  it('resets the critical streak on one clean cycle (a spike never accumulates)', () => {
    const es = run([
      CRITICAL_BACKLOG,
      CRITICAL_BACKLOG,
      HEALTHY,
      CRITICAL_BACKLOG,
      CRITICAL_BACKLOG,
    ]);
    expect(states(es)).toEqual(['stressed', 'stressed', 'happy', 'stressed', 'stressed']);
    expect(last(es).carried.criticalStreak).toBe(2);
  });

  it('never goes from happy to critical in one step, whatever streak is carried', () => {
    const e = evaluate(
      carriedAt({ lastState: 'happy', lastKnownState: 'happy', criticalStreak: 1000 }),
      snapshot(CRITICAL_BACKLOG),
    );
    expect(e.state).toBe('stressed');
    expect(e.reason).toBe('critical_guard_from_happy');
  });

  it('lets a stressed cluster reach critical and a critical one recover straight to happy', () => {
    const es = run(
      [...repeat(CRITICAL_BACKLOG, 3), HEALTHY],
      undefined,
      carriedAt({ lastState: 'stressed', lastKnownState: 'stressed' }),
    );
    expect(states(es)).toEqual(['stressed', 'stressed', 'critical', 'happy']);
  });

  it('holds a recovering cluster at stressed while it is still near the critical limits', () => {
    // 250 s is under the 300 s critical maximum but over 0.75 × 300 = 225 s.
    const nearCritical = withSpec(HEALTHY, { historyBacklog: 250 });
    const e = evaluate(
      carriedAt({ lastState: 'critical', lastKnownState: 'critical', criticalStreak: 5 }),
      snapshot(nearCritical),
    );
    expect(e.state).toBe('stressed');
    expect(e.reason).toBe('recovery_hysteresis');
    expect(gate(e, 'recovery.history_backlog')).toMatchObject({ fired: true, threshold: 225 });
    expect(e.carried.criticalStreak).toBe(0);
  });

  it.each([
    ['persistence errors above 50/s', { persistenceErrors: 80 }, 'critical.persistence_errors'],
    ['history backlog above 300 s', { historyBacklog: 301 }, 'critical.history_backlog'],
    [
      'throughput below the mid-scale floor',
      { throughput: 2, backlogCount: 400, matchingWorkflowBacklog: 90 },
      'critical.throughput',
    ],
    ['processing below the floor', { processing: 1 }, 'critical.processing'],
    [
      'completion rate below 0.3 with demand',
      { success: 2, failed: 8 },
      'critical.completion_rate',
    ],
  ] as const)('fires the critical gate for %s', (_name, patch, id) => {
    const e = evaluate(carriedAt({}), snapshot(withSpec(HEALTHY, patch as Spec)));
    expect(e.firedGates).toContain(id);
    expect(e.state).toBe('stressed');
  });

  it.each([
    ['history RPC p99 above 1 s', { historyLatencyP99: 1500 }, 'stressed.history_latency'],
    ['history backlog above 60 s', { historyBacklog: 70 }, 'stressed.history_backlog'],
    ['shard churn above 5/s', { shardChurn: 9 }, 'stressed.shard_churn'],
    ['frontend p99 above 2 s', { frontendLatencyP99: 3000 }, 'stressed.frontend_latency'],
    [
      'tasks waiting 90 s for a worker',
      { matchingActivityBacklog: 90 },
      'stressed.matching_backlog',
    ],
    ['poll timeouts above 30 %', { pollTimeoutRate: 0.6 }, 'stressed.poll_timeouts'],
    [
      'persistence p99 above 200 ms',
      { persistenceLatencyP99: 450 },
      'stressed.persistence_latency',
    ],
  ] as const)('reads %s as stressed', (_name, patch, id) => {
    const e = evaluate(null, snapshot(withSpec(HEALTHY, patch as Spec)));
    expect(e.state).toBe('stressed');
    expect(e.reason).toBe('stressed_gates');
    // Exactly this gate among the decisive ones (a healthy requirement may fail alongside).
    expect(e.firedGates.filter((g) => !g.startsWith('healthy.'))).toEqual([id]);
  });

  it('reads a cluster between thresholds (below the healthy floor, no gate) as stressed', () => {
    const e = evaluate(
      carriedAt({}),
      snapshot(withSpec(HEALTHY, { throughput: 4, processing: 20 })),
    );
    expect(e.state).toBe('stressed');
    expect(e.firedGates).toContain('healthy.throughput');
  });

  it('does not read a ramp-up (completions lag starts) as a completion collapse', () => {
    const rampUp = withSpec(HEALTHY, { success: 0.2, failed: 0.6 });
    const e = evaluate(null, snapshot(rampUp));
    expect(gate(e, 'critical.completion_rate')).toMatchObject({
      fired: false,
      skipReason: 'low_demand',
    });
    expect(gate(e, 'healthy.completion_rate')).toMatchObject({
      fired: false,
      skipReason: 'low_demand',
    });
    expect(e.state).toBe('happy');
  });

  it('counts absent failure counters as no failures, never as an unknown completion rate', () => {
    const e = evaluate(null, snapshot(withSpec(HEALTHY, { failed: 'absent' })));
    expect(gate(e, 'healthy.completion_rate')).toMatchObject({ observed: 1, fired: false });
    expect(e.state).toBe('happy');
  });
});

describe('evaluate: no data is not healthy (docs/lessons.md#dead-source-is-not-idle)', () => {
  it.each([
    ['absent', 'absent'],
    ['a failed query', 'error'],
  ] as const)('says unknown when throughput is %s', (_name, v) => {
    const e = evaluate(null, snapshot(withSpec(HEALTHY, { throughput: v })));
    expect(e.state).toBe('unknown');
    expect(e.reason).toBe('no_progress_data');
    expect(e.bottleneck).toBe('unknown');
    expect(e.workers.skipReason).toBe('state_unknown');
    expect(gate(e, 'critical.throughput').observedStatus).toBe(v === 'absent' ? 'absent' : 'error');
  });

  it('says unknown for a total metrics outage (the prior art said happy and idle)', () => {
    const outage: Spec = Object.fromEntries(Object.keys(HEALTHY).map((k) => [k, 'error']));
    const e = evaluate(null, snapshot(outage));
    expect(e.state).toBe('unknown');
    expect(e.idle).toBe(false);
  });

  it('says unknown for an empty snapshot', () => {
    expect(evaluate(null, { observedAt: T0, values: {} }).state).toBe('unknown');
  });

  it('treats a stale sample as absent', () => {
    const s = snapshot(HEALTHY);
    s.values['state_transitions.throughput_per_sec'] = {
      status: 'ok',
      value: 120,
      sampledAt: T0 - 10 * 60_000,
    };
    const e = evaluate(null, s);
    expect(e.state).toBe('unknown');
    expect(gate(e, 'critical.throughput').observedStatus).toBe('stale');
  });

  it('never reads NaN or infinity handed in by a careless caller as a measurement', () => {
    const s = snapshot(HEALTHY);
    s.values['state_transitions.throughput_per_sec'] = { status: 'ok', value: Number.NaN };
    s.values['persistence.latency_p99_ms'] = { status: 'ok', value: Number.POSITIVE_INFINITY };
    const e = evaluate(null, s);
    expect(e.state).toBe('unknown');
    expect(gate(e, 'stressed.persistence_latency')).toMatchObject({
      fired: false,
      observedStatus: 'error',
    });
  });

  it('says unknown when a quiet cluster shows no demand signal at all (idle or stuck?)', () => {
    const blind: Spec = { throughput: 0.3, processing: 0.1, goroutines: 800 };
    const e = evaluate(null, snapshot(blind));
    expect(e.state).toBe('unknown');
    expect(e.reason).toBe('cannot_tell_idle_from_stuck');
  });

  it('detects a full stall: zero progress with work piling up is critical, not idle', () => {
    const stall = withSpec(HEALTHY, {
      throughput: 0,
      processing: 0,
      success: 0,
      historyBacklog: 'absent', // queue histograms only record dequeued tasks
      backlogCount: 5000,
      matchingWorkflowBacklog: 400,
    });
    const es = run(
      repeat(stall, 4),
      undefined,
      carriedAt({ lastState: 'happy', lastKnownState: 'happy' }),
    );
    expect(es.every((e) => !e.idle)).toBe(true);
    expect(states(es)).toEqual(['stressed', 'stressed', 'critical', 'critical']);
    expect(last(es).firedGates).toEqual(
      expect.arrayContaining(['critical.throughput', 'critical.processing']),
    );
  });

  it('holds the critical streak through blind cycles but never jumps from happy to critical', () => {
    const es = run(
      [
        CRITICAL_BACKLOG,
        CRITICAL_BACKLOG,
        withSpec(HEALTHY, { throughput: 'error' }),
        CRITICAL_BACKLOG,
      ],
      undefined,
      carriedAt({ lastState: 'happy', lastKnownState: 'happy' }),
    );
    expect(states(es)).toEqual(['stressed', 'stressed', 'unknown', 'critical']);
    expect(es[2]?.carried.lastKnownState).toBe('stressed');
  });

  it('forgets the critical streak after a long outage', () => {
    const cfg = resolveEngineConfig({ debounce: { unknownResetCycles: 3 } });
    const blind = withSpec(HEALTHY, { throughput: 'absent' });
    const es = run(
      [CRITICAL_BACKLOG, CRITICAL_BACKLOG, blind, blind, blind, CRITICAL_BACKLOG],
      cfg,
      carriedAt({}),
    );
    expect(es[4]?.carried.criticalStreak).toBe(0);
    expect(last(es).state).toBe('stressed');
    expect(last(es).carried.criticalStreak).toBe(1);
  });
});

describe('evaluate: idle, startup and long polls (docs/lessons.md#idle-and-startup-are-not-failure, #long-polls-are-not-latency)', () => {
  it.each([
    ['zero', 0],
    ['noise', 0.3],
    ['2 st/s of startup work', 2],
    ['4.9 st/s', 4.9],
  ])('reads %s throughput with nothing waiting as idle and happy', (_name, tp) => {
    const e = evaluate(null, snapshot(withSpec(IDLE, { throughput: tp })));
    expect(e.idle).toBe(true);
    expect(e.state).toBe('happy');
    expect(e.reason).toBe('idle');
  });

  it('reads the long-poll idle fixture (filtered 0, raw 98 s, 48 % timeouts) as happy', () => {
    const e = evaluate(null, snapshot(IDLE));
    expect(e.state).toBe('happy');
    expect(gate(e, 'stressed.frontend_latency').skipReason).toBe('idle');
  });

  it('demand-gates frontend latency and poll timeouts below 5 st/s', () => {
    const quiet = withSpec(IDLE, {
      frontendErrors: 0.5,
      frontendLatencyP99: 9000,
      pollTimeoutRate: 0.9,
    });
    const e = evaluate(null, snapshot(quiet));
    expect(e.idle).toBe(false); // the frontend errors block idle
    expect(gate(e, 'stressed.frontend_latency')).toMatchObject({
      fired: false,
      skipReason: 'low_demand',
      demandGated: true,
    });
    expect(gate(e, 'stressed.poll_timeouts')).toMatchObject({
      fired: false,
      skipReason: 'low_demand',
    });
  });

  it('reads 50 st/s with a 3 s frontend p99 as stressed', () => {
    const e = evaluate(
      null,
      snapshot(withSpec(HEALTHY, { throughput: 50, frontendLatencyP99: 3000 })),
    );
    expect(e.state).toBe('stressed');
    expect(e.firedGates).toContain('stressed.frontend_latency');
  });

  it.each([
    ['persistence errors', { persistenceErrors: 2 }],
    ['failed workflows', { failed: 1 }],
    ['a history backlog', { historyBacklog: 30 }],
    ['tasks waiting for workers', { matchingWorkflowBacklog: 20 }],
    ['a backlog count', { backlogCount: 500 }],
    ['a failed error query', { persistenceErrors: 'error' }],
  ] as const)('does not call a cluster with %s idle', (_name, patch) => {
    const e = evaluate(null, snapshot(withSpec(IDLE, patch as Spec)));
    expect(e.idle).toBe(false);
  });

  it('clears critical at once when the cluster goes idle', () => {
    const e = evaluate(
      carriedAt({ lastState: 'critical', lastKnownState: 'critical', criticalStreak: 7 }),
      snapshot(IDLE),
    );
    expect(e.state).toBe('happy');
    expect(e.carried.criticalStreak).toBe(0);
  });
});

describe('evaluate: retention storms (docs/lessons.md#retention-storms-are-work)', () => {
  const storm = RETENTION_STORM;

  it('is system-busy, never idle, and never critical through throughput', () => {
    const es = run(repeat(storm, 6), undefined, carriedAt({}));
    for (const e of es) {
      expect(e.systemBusy).toBe(true);
      expect(e.idle).toBe(false);
      expect(e.state).toBe('stressed');
      expect(gate(e, 'critical.throughput').skipReason).toBe('system_busy');
    }
  });

  it.each([
    ['100 persistence errors/s', { persistenceErrors: 100 }],
    ['a 700 s history backlog', { historyBacklog: 700 }],
  ] as const)('still reaches critical on %s', (_name, patch) => {
    const es = run(repeat(withSpec(storm, patch as Spec), 3), undefined, carriedAt({}));
    expect(last(es).state).toBe('critical');
    expect(last(es).bottleneck).toBe('server_limited');
  });

  it('switches at 5 deletions per second', () => {
    expect(evaluate(null, snapshot(withSpec(storm, { deletion: 4.99 }))).systemBusy).toBe(false);
    expect(evaluate(null, snapshot(withSpec(storm, { deletion: 5 }))).systemBusy).toBe(true);
  });
});

describe('evaluate: scale bands (docs/lessons.md#small-clusters-get-small-limits, #collapse-keeps-the-band)', () => {
  const noDwell = resolveEngineConfig({ band: { upDwellCycles: 1, downDwellCycles: 1 } });

  it('reads 4 st/s with a 367 ms persistence p99 as happy at starter scale, stressed at high', () => {
    const dev = withSpec(HEALTHY, { throughput: 4, processing: 20, persistenceLatencyP99: 367 });
    expect(evaluate(carriedAt({ band: 'starter' }), snapshot(dev)).state).toBe('happy');
    expect(evaluate(carriedAt({ band: 'high-throughput' }), snapshot(dev)).state).toBe('stressed');
  });

  it('reads the 1–10 st/s dead zone as happy at starter scale', () => {
    for (const tp of [1, 3, 7, 10]) {
      const e = evaluate(
        carriedAt({ band: 'starter' }),
        snapshot(withSpec(HEALTHY, { throughput: tp, processing: 20 })),
      );
      expect(e.state).toBe('happy');
    }
  });

  it('moves between bands with 10 % hysteresis: 56→mid, 48 stays, 44→starter; 551, 480, 449', () => {
    const bands = (tps: number[], from: CarriedState['band']) =>
      run(
        tps.map((tp) => withSpec(HEALTHY, { throughput: tp })),
        noDwell,
        carriedAt({ band: from }),
      ).map((e) => e.carried.band);
    expect(bands([56, 48, 44], 'starter')).toEqual(['mid-scale', 'mid-scale', 'starter']);
    expect(bands([551, 480, 449], 'mid-scale')).toEqual([
      'high-throughput',
      'high-throughput',
      'mid-scale',
    ]);
    expect(bands([54], 'starter')).toEqual(['starter']);
  });

  it('judges each cycle with the band it started in', () => {
    const e = evaluate(
      carriedAt({ band: 'starter' }),
      snapshot(withSpec(HEALTHY, { throughput: 600 })),
      noDwell,
    );
    expect(e.scaleBand).toBe('starter');
    expect(e.carried.band).toBe('high-throughput');
  });

  it('needs a dwell before moving up, so one spike does not tighten the thresholds', () => {
    const es = run(
      [withSpec(HEALTHY, { throughput: 80 }), withSpec(HEALTHY, { throughput: 20 })],
      undefined,
      carriedAt({ band: 'starter' }),
    );
    expect(es.map((e) => e.carried.band)).toEqual(['starter', 'starter']);
  });

  it('keeps the band through a throughput collapse (100 → 2 st/s) and reaches critical', () => {
    const collapsed = withSpec(HEALTHY, {
      throughput: 2,
      processing: 2,
      success: 0.1,
      backlogCount: 900,
      matchingWorkflowBacklog: 200,
    });
    const es = run(repeat(collapsed, 60), undefined, carriedAt({ band: 'mid-scale' }));
    expect(es.every((e) => e.scaleBand === 'mid-scale')).toBe(true);
    expect(last(es).state).toBe('critical');
    expect(last(es).carried.band).toBe('mid-scale');
  });

  it('lets the band follow a calm decline down after the dwell', () => {
    const calm = withSpec(HEALTHY, { throughput: 30, processing: 40 });
    const es = run(repeat(calm, 21), undefined, carriedAt({ band: 'mid-scale' }));
    expect(es.slice(0, 19).every((e) => e.carried.band === 'mid-scale')).toBe(true);
    expect(es[19]?.carried.band).toBe('starter');
    expect(es.every((e) => e.state === 'happy')).toBe(true);
  });

  it('never goes below a configured floor', () => {
    const cfg = resolveEngineConfig({ band: { floor: 'mid-scale', downDwellCycles: 1 } });
    const es = run(repeat(withSpec(IDLE, {}), 5), cfg);
    expect(es.every((e) => e.scaleBand === 'mid-scale' && e.carried.band === 'mid-scale')).toBe(
      true,
    );
  });

  it('starts in the configured initial band (the deployment preset)', () => {
    const cfg = resolveEngineConfig({ band: { initial: 'high-throughput' } });
    expect(evaluate(null, snapshot(withSpec(HEALTHY, { throughput: 20 })), cfg).scaleBand).toBe(
      'high-throughput',
    );
  });

  it('keeps the critical streak across a band change', () => {
    const es = run(
      [
        withSpec(CRITICAL_BACKLOG, { throughput: 600 }),
        withSpec(CRITICAL_BACKLOG, { throughput: 600 }),
        withSpec(CRITICAL_BACKLOG, { throughput: 600 }),
      ],
      noDwell,
      carriedAt({ band: 'mid-scale' }),
    );
    expect(es.map((e) => e.scaleBand)).toEqual(['mid-scale', 'high-throughput', 'high-throughput']);
    expect(states(es)).toEqual(['stressed', 'stressed', 'critical']);
  });

  it('applies operator overrides', () => {
    const cfg = resolveEngineConfig({
      overrides: { all: { stressedPersistenceLatencyP99MaxMs: 40 } },
    });
    const e = evaluate(null, snapshot(HEALTHY), cfg);
    expect(e.state).toBe('stressed');
    expect(gate(e, 'stressed.persistence_latency').threshold).toBe(40);
  });
});

describe('evaluate: the state-transition "latency" is not a latency (docs/lessons.md#state-transitions-are-not-latency)', () => {
  it('ignores a huge transitions-per-update p99 and gates on the history RPC latency', () => {
    const s = snapshot(HEALTHY);
    s.values['state_transitions.per_update_p99'] = { status: 'ok', value: 50_000 };
    expect(evaluate(null, s).state).toBe('happy');
    expect(gate(evaluate(null, s), 'stressed.history_latency').signal).toBe(
      'history.request_latency_p99_ms',
    );
  });
});
