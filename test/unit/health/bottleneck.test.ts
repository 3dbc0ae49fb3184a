import { describe, expect, it } from 'vitest';
import { evaluate, GATE_IDS } from '../../../shared/health/engine.js';
import type { CarriedState, Evaluation } from '../../../shared/health/evaluation.js';
import { INITIAL_CARRIED_STATE } from '../../../shared/health/evaluation.js';
import { GATE } from '../../../shared/health/gates.js';
import { HEALTHY, repeat, run, type Spec, snapshot, withSpec } from '../../helpers/snapshots.js';

const stressedBefore: CarriedState = {
  ...INITIAL_CARRIED_STATE,
  band: 'mid-scale',
  lastState: 'stressed',
  lastKnownState: 'stressed',
};
const service = (e: Evaluation, name: string) => e.services.find((s) => s.service === name);

/** Healthy workers, as the TypeScript SDK reports them. */
const WORKERS_OK: Spec = {
  wftScheduleToStartP95: 12,
  activityScheduleToStartP95: 30,
  workflowSlotsAvailable: 180,
  workflowSlotsUsed: 20,
  activitySlotsAvailable: 150,
  activitySlotsUsed: 50,
  workflowPollers: 10,
  activityPollers: 10,
};
const WORKERS_STARVED: Spec = {
  ...WORKERS_OK,
  wftScheduleToStartP95: 4000,
  activitySlotsAvailable: 0,
  activitySlotsUsed: 200,
};

describe('bottleneck classification (docs/lessons.md#missing-sdk-metrics-are-not-starved-workers, #worker-advice-skips-a-critical-server)', () => {
  it('is healthy when neither side is constrained', () => {
    const e = evaluate(null, snapshot({ ...HEALTHY, ...WORKERS_OK }));
    expect(e.bottleneck).toBe('healthy');
    expect(e.workers).toMatchObject({ evaluated: true, sdkMetricsVisible: true, findings: [] });
  });

  it('is server-limited on persistence pressure with idle workers', () => {
    const e = evaluate(null, snapshot({ ...HEALTHY, ...WORKERS_OK, persistenceLatencyP99: 600 }));
    expect(e.bottleneck).toBe('server_limited');
    expect(service(e, 'persistence')).toMatchObject({
      forwardProgress: 'degraded',
      pressure: 'high',
      dominantSignal: 'persistence.latency_p99_ms',
    });
  });

  it('is worker-limited when slots are exhausted and schedule-to-start is high', () => {
    const e = evaluate(null, snapshot({ ...HEALTHY, ...WORKERS_STARVED }));
    expect(e.bottleneck).toBe('worker_limited');
    expect(e.workers.findings.map((f) => f.rule)).toEqual(
      expect.arrayContaining(['NEVER_SCALE_DOWN_AT_ZERO', 'SCHEDULE_TO_START_HIGH']),
    );
    expect(service(e, 'workers')?.pressure).toBe('high');
  });

  it('is mixed when both sides are under pressure', () => {
    const e = evaluate(null, snapshot({ ...HEALTHY, ...WORKERS_STARVED, historyBacklog: 90 }));
    expect(e.bottleneck).toBe('mixed');
  });

  it('never reads missing SDK metrics as worker-limited', () => {
    const e = evaluate(null, snapshot(HEALTHY));
    expect(e.workers.sdkMetricsVisible).toBe(false);
    expect(e.workers.findings).toEqual([]);
    expect(e.bottleneck).toBe('healthy');
    expect(service(e, 'workers')?.forwardProgress).toBe('ok'); // seen through matching
  });

  it('does not read zero available with zero used (no worker reports) as exhaustion', () => {
    const e = evaluate(
      null,
      snapshot({ ...HEALTHY, workflowSlotsAvailable: 0, workflowSlotsUsed: 0 }),
    );
    expect(e.workers.findings).toEqual([]);
  });

  it('sees starved workers from the server side alone (tasks waiting, no SDK metrics)', () => {
    const e = evaluate(
      null,
      snapshot(withSpec(HEALTHY, { matchingActivityBacklog: 200, backlogCount: 900 })),
    );
    expect(e.state).toBe('stressed');
    expect(e.bottleneck).toBe('worker_limited');
    expect(e.workers.findings.map((f) => f.rule)).toEqual(['TASKS_WAITING_FOR_WORKERS']);
  });

  it('reads tasks waiting long for a worker (SDK schedule-to-start) as stressed, not critical', () => {
    const es = run(
      repeat({ ...HEALTHY, ...WORKERS_OK, activityScheduleToStartP95: 9000 }, 5),
      undefined,
      stressedBefore,
    );
    for (const e of es) {
      expect(e.state).toBe('stressed');
      expect(e.firedGates).toEqual(['stressed.schedule_to_start']);
      expect(e.bottleneck).toBe('worker_limited');
    }
  });

  it('reads tasks arriving on queues nobody polls as stressed and worker-limited', () => {
    // The 1.29 dev server leaves the backlog-age gauge at 0 while tasks wait; this counter moves.
    const e = evaluate(null, snapshot(withSpec(HEALTHY, { noPollerTasks: 2 })));
    expect(e.state).toBe('stressed');
    expect(e.firedGates).toEqual(['stressed.no_pollers']);
    expect(e.bottleneck).toBe('worker_limited');
    expect(e.workers.findings.map((f) => f.rule)).toEqual(['NO_POLLERS']);
  });

  it('skips worker advice when the server is critical', () => {
    const serverDown = { ...HEALTHY, ...WORKERS_STARVED, persistenceErrors: 120 };
    const es = run(repeat(serverDown, 3), undefined, stressedBefore);
    const e = es[2] as Evaluation;
    expect(e.state).toBe('critical');
    expect(e.bottleneck).toBe('server_limited');
    expect(e.workers).toMatchObject({
      evaluated: false,
      skipReason: 'server_critical',
      findings: [],
    });
  });

  it('still asks the workers when progress collapsed but the server itself is clean', () => {
    const starvedToCritical = withSpec(
      { ...HEALTHY, ...WORKERS_STARVED },
      {
        throughput: 1,
        processing: 1,
        success: 0,
        backlogCount: 3000,
        matchingWorkflowBacklog: 400,
      },
    );
    const es = run(repeat(starvedToCritical, 3), undefined, stressedBefore);
    const e = es[2] as Evaluation;
    expect(e.state).toBe('critical');
    expect(e.workers.evaluated).toBe(true);
    expect(e.bottleneck).toBe('worker_limited');
  });

  it('flags a poller/executor mismatch and a cold sticky cache as advice, not as capacity', () => {
    const e = evaluate(
      null,
      snapshot({
        ...HEALTHY,
        workflowPollers: 50,
        activityPollers: 50,
        workflowSlotsAvailable: 10,
        workflowSlotsUsed: 0,
        stickyHitRate: 0.2,
      }),
    );
    expect(e.workers.findings.map((f) => f.rule).sort()).toEqual([
      'POLLER_EXECUTOR_MISMATCH',
      'STICKY_CACHE_LOW',
    ]);
    expect(e.bottleneck).toBe('healthy');
  });
});

describe('per-service health', () => {
  it('lists the five actors in a fixed order', () => {
    const e = evaluate(null, snapshot(HEALTHY));
    expect(e.services.map((s) => s.service)).toEqual([
      'history',
      'matching',
      'frontend',
      'persistence',
      'workers',
    ]);
    expect(e.services.every((s) => s.forwardProgress === 'ok')).toBe(true);
  });

  it('marks history blocked on a critical backlog and degraded on a stressed one', () => {
    expect(
      service(evaluate(null, snapshot(withSpec(HEALTHY, { historyBacklog: 400 }))), 'history')
        ?.forwardProgress,
    ).toBe('blocked');
    expect(
      service(evaluate(null, snapshot(withSpec(HEALTHY, { historyBacklog: 90 }))), 'history')
        ?.forwardProgress,
    ).toBe('degraded');
  });

  it('says unknown for a service whose signals are all missing', () => {
    const e = evaluate(
      null,
      snapshot(withSpec(HEALTHY, { persistenceErrors: 'absent', persistenceLatencyP99: 'error' })),
    );
    expect(service(e, 'persistence')).toMatchObject({
      forwardProgress: 'unknown',
      pressure: 'unknown',
    });
  });

  it('reports the frontend blocked on a flood of errors', () => {
    const e = evaluate(null, snapshot(withSpec(HEALTHY, { frontendErrors: 40 })));
    expect(service(e, 'frontend')?.forwardProgress).toBe('blocked');
  });
});

describe('gate positions', () => {
  it('match the ids the engine emits', () => {
    const expected: Record<keyof typeof GATE, string> = {
      criticalThroughput: 'critical.throughput',
      criticalCompletionRate: 'critical.completion_rate',
      criticalHistoryBacklog: 'critical.history_backlog',
      criticalProcessing: 'critical.processing',
      criticalPersistenceErrors: 'critical.persistence_errors',
      stressedHistoryLatency: 'stressed.history_latency',
      stressedHistoryBacklog: 'stressed.history_backlog',
      stressedShardChurn: 'stressed.shard_churn',
      stressedFrontendLatency: 'stressed.frontend_latency',
      stressedMatchingBacklog: 'stressed.matching_backlog',
      stressedPollTimeouts: 'stressed.poll_timeouts',
      stressedPersistenceLatency: 'stressed.persistence_latency',
      stressedNoPollers: 'stressed.no_pollers',
      stressedScheduleToStart: 'stressed.schedule_to_start',
      healthyThroughput: 'healthy.throughput',
      healthyHistoryBacklog: 'healthy.history_backlog',
      healthyCompletionRate: 'healthy.completion_rate',
      recoveryThroughput: 'recovery.throughput',
      recoveryHistoryBacklog: 'recovery.history_backlog',
      recoveryProcessing: 'recovery.processing',
    };
    for (const [k, id] of Object.entries(expected))
      expect(GATE_IDS[GATE[k as keyof typeof GATE]]).toBe(id);
    // Derived from GATE_DEFS: one key per gate, positions 0..19 in order.
    expect(Object.keys(GATE)).toHaveLength(20);
    expect(Object.values(GATE)).toEqual(GATE_IDS.map((_, i) => i));
    expect(new Set(GATE_IDS).size).toBe(20);
  });
});
