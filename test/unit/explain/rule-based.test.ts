import { describe, expect, it } from 'vitest';
import { explainWithRules } from '../../../shared/explain/rule-based.js';
import { evaluate } from '../../../shared/health/engine.js';
import type { CarriedState } from '../../../shared/health/evaluation.js';
import { INITIAL_CARRIED_STATE } from '../../../shared/health/evaluation.js';
import { IssueInputSchema } from '../../../shared/models/issue.js';
import { HEALTHY, IDLE, repeat, run, snapshot, withSpec } from '../../helpers/snapshots.js';

const fromStressed: CarriedState = {
  ...INITIAL_CARRIED_STATE,
  band: 'mid-scale',
  lastState: 'stressed',
  lastKnownState: 'stressed',
};

describe('explainWithRules', () => {
  it('explains a healthy cluster with no issues and high confidence', () => {
    const x = explainWithRules(evaluate(null, snapshot(HEALTHY)));
    expect(x.summary).toBe('Happy: every gate passes.');
    expect(x.issues).toEqual([]);
    expect(x.confidence).toBeGreaterThanOrEqual(0.8);
  });

  it('calls an idle cluster idle, not broken', () => {
    const x = explainWithRules(evaluate(null, snapshot(IDLE)));
    expect(x.summary).toMatch(/^Happy: the cluster is idle/);
    expect(x.issues).toEqual([]);
  });

  it('names the fired gate, its numbers and the server-side bottleneck', () => {
    const e = evaluate(null, snapshot(withSpec(HEALTHY, { persistenceLatencyP99: 640 })));
    const x = explainWithRules(e);
    expect(x.summary).toBe(
      'Stressed: persistence is slow (stressed.persistence_latency). Bottleneck: server-limited.',
    );
    expect(x.issues).toHaveLength(1);
    const issue = IssueInputSchema.parse(x.issues[0]);
    expect(issue).toMatchObject({ key: 'stressed.persistence_latency', severity: 'warning' });
    expect(issue.description).toContain('640 ms, above the limit of 200 ms');
    expect(issue.suggested_actions[0]?.target_service).toBe('persistence');
  });

  it.each([
    ['stressed.no_pollers', { noPollerTasks: 3 }, /tasks arrive on queues no worker polls/],
    [
      'stressed.schedule_to_start',
      { wftScheduleToStartP95: 4000 },
      /tasks wait too long for a worker/,
    ],
  ] as const)('explains %s, a gate the runtime issue added, as the cause', (id, patch, cause) => {
    const e = evaluate(null, snapshot(withSpec(HEALTHY, patch)));
    expect(e.firedGates).toContain(id);
    const x = explainWithRules(e);
    expect(x.summary).toMatch(cause);
    expect(x.summary).not.toContain('every gate passes');
    expect(x.issues.map((i) => i.key)).toContain(id);
  });

  it('keeps a gate it has no text for (a newer engine) as a cause instead of dropping it', () => {
    const e = evaluate(null, snapshot(withSpec(HEALTHY, { noPollerTasks: 3 })));
    const renamed = {
      ...e,
      gates: e.gates.map((g) =>
        g.id === 'stressed.no_pollers' ? { ...g, id: 'stressed.future' } : g,
      ),
    };
    const x = explainWithRules(renamed);
    expect(x.issues.map((i) => i.key)).toContain('stressed.future');
    expect(x.summary).toContain('gate stressed.future fired');
  });

  it('never reports an issue more severe than the state (summary and issues agree)', () => {
    const stressedByCritical = evaluate(
      fromStressed,
      snapshot(withSpec(HEALTHY, { persistenceErrors: 90 })),
    );
    expect(stressedByCritical.state).toBe('stressed');
    expect(explainWithRules(stressedByCritical).issues.map((i) => i.severity)).toEqual(['warning']);
    const critical = run(
      repeat(withSpec(HEALTHY, { persistenceErrors: 90 }), 3),
      undefined,
      fromStressed,
    )[2];
    expect(critical?.state).toBe('critical');
    expect(explainWithRules(critical as never).issues[0]?.severity).toBe('critical');
  });

  it('says unknown plainly and points at the metrics source', () => {
    const x = explainWithRules(
      evaluate(null, snapshot(withSpec(HEALTHY, { throughput: 'error' }))),
    );
    expect(x.summary).toMatch(/^Unknown: the forward-progress signals/);
    expect(x.issues[0]?.key).toBe('visibility.no_progress_data');
    expect(x.confidence).toBeLessThan(0.5);
  });

  it('turns worker findings into worker issues and a worker-limited summary', () => {
    const e = evaluate(null, snapshot(withSpec(HEALTHY, { matchingActivityBacklog: 200 })));
    const x = explainWithRules(e);
    expect(x.summary).toContain('Bottleneck: worker-limited.');
    expect(x.issues.map((i) => i.key)).toEqual([
      'stressed.matching_backlog',
      'worker.TASKS_WAITING_FOR_WORKERS.matching.backlog_age_max_sec',
    ]);
  });

  it('cites matching log patterns as contributing factors, marking lower bounds', () => {
    const e = evaluate(null, snapshot(withSpec(HEALTHY, { persistenceLatencyP99: 640 })));
    const x = explainWithRules(e, {
      logPatterns: [
        {
          pattern_id: 'sqlstate_40001',
          service: 'history',
          count: 1000,
          count_is_lower_bound: true,
          sample: null,
        },
      ],
    });
    expect(x.issues[0]?.contributing_factors).toContainEqual(
      expect.objectContaining({
        signal: 'log:sqlstate_40001',
        description: 'At least 1000 "sqlstate_40001" log lines from history.',
      }),
    );
  });

  it('explains a retention storm as expected work, at info severity', () => {
    const storm = withSpec(HEALTHY, {
      throughput: 0.5,
      processing: 0.5,
      success: 0,
      deletion: 200,
    });
    const x = explainWithRules(evaluate(fromStressed, snapshot(storm)));
    expect(x.summary).toContain('retention cleanup is running');
    expect(x.issues.find((i) => i.key === 'system.busy')?.severity).toBe('info');
  });

  it('says why a cluster sits between thresholds', () => {
    const e = evaluate(
      fromStressed,
      snapshot(withSpec(HEALTHY, { throughput: 4, processing: 20 })),
    );
    expect(e.reason).toBe('below_healthy');
    expect(explainWithRules(e).summary).toContain('throughput is below the healthy floor');
  });
});
