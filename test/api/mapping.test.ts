import { describe, expect, it } from 'vitest';
import {
  MAX_RECOMMENDED_ACTIONS,
  recommendedActions,
  toServicesResponse,
  toStatusResponse,
} from '../../shared/api/mapping.js';
import { StatusResponseSchema } from '../../shared/api/schemas.js';
import type { Issue } from '../../shared/models/issue.js';
import type { StoredEvaluation } from '../../shared/models/stored-evaluation.js';
import { SIGNAL_CATALOG } from '../../shared/signals/catalog.js';
import { signalValuesOf } from '../../shared/store/writes.js';
import { HEALTHY, run, type Spec, snapshot, T0, withSpec } from '../helpers/snapshots.js';

const ID = '00000000-0000-4000-8000-000000000000';

function stored(spec = HEALTHY): StoredEvaluation {
  const [evaluation] = run([spec]);
  if (evaluation === undefined) throw new Error('no evaluation');
  return {
    id: ID,
    cluster_id: ID,
    workflow_id: 'w',
    cycle: 0,
    observed_at: new Date(T0).toISOString(),
    evaluation,
    signal_values: signalValuesOf(snapshot(spec, T0)),
  };
}

const issue = (key: string, actions: number): Issue => ({
  id: ID,
  assessment_id: ID,
  cluster_id: ID,
  key,
  severity: 'warning',
  title: key,
  description: '',
  likely_cause: '',
  contributing_factors: [],
  related_signals: [],
  created_at: new Date(T0).toISOString(),
  resolved_at: null,
  suggested_actions: Array.from({ length: actions }, (_, i) => ({
    action_type: 'investigate' as const,
    target_service: `${key}-${i}`,
    description: '',
    confidence: 0.5,
    risk: 'low' as const,
    parameters: {},
  })),
});

describe('mapping stored rows to API responses', () => {
  it('lists at most five actions, in issue order', () => {
    const actions = recommendedActions([issue('a', 3), issue('b', 4)]);
    expect(actions).toHaveLength(MAX_RECOMMENDED_ACTIONS);
    expect(actions.map((a) => a.target_service)).toEqual(['a-0', 'a-1', 'a-2', 'b-0', 'b-1']);
  });

  it('says unknown with every signal null and absent before the first evaluation', () => {
    const status = StatusResponseSchema.parse(
      toStatusResponse({
        cluster: 'c',
        evaluation: null,
        assessment: null,
        issues: [],
        logPatterns: [],
      }),
    );
    expect(status.health_state).toBe('unknown');
    const ids = SIGNAL_CATALOG.filter(
      (s) => s.category === 'primary' || s.category === 'amplifier',
    );
    expect(Object.keys(status.signal_status).sort()).toEqual(ids.map((s) => s.id).sort());
    const values = [
      ...Object.values(status.primary_signals),
      ...Object.values(status.amplifiers),
    ].flatMap((group) => Object.values(group));
    expect(values.every((v) => v === null)).toBe(true);
  });

  it('keeps a failed query as null with status error, and an unsent signal as absent', () => {
    const status = toStatusResponse({
      cluster: 'c',
      evaluation: stored(
        withSpec(HEALTHY, { persistenceLatencyP99: 'error', frontendErrors: 'absent' }),
      ),
      assessment: null,
      issues: [],
      logPatterns: [],
    });
    expect(status.primary_signals.persistence?.latency_p99_ms).toBeNull();
    expect(status.signal_status['persistence.latency_p99_ms']).toBe('error');
    expect(status.signal_status['frontend.error_rate_per_sec']).toBe('absent');
    expect(status.signal_status['state_transitions.throughput_per_sec']).toBeUndefined();
    expect(status.primary_signals.state_transitions?.throughput_per_sec).toBe(120);
  });

  it('copies the engine verdict per service and maps its words', () => {
    // The API's words for the engine's forward progress, written out here (not read from the
    // code); the three runs between them cover every word.
    const cases: ReadonlyArray<readonly [Spec, readonly string[]]> = [
      [
        withSpec(HEALTHY, { persistenceLatencyP99: 900 }),
        ['happy', 'happy', 'happy', 'stressed', 'happy'],
      ],
      [
        withSpec(HEALTHY, { persistenceErrors: 120 }),
        ['happy', 'happy', 'happy', 'critical', 'happy'],
      ],
      [{}, ['unknown', 'unknown', 'unknown', 'unknown', 'unknown']],
    ];
    for (const [spec, statuses] of cases) {
      const s = stored(spec);
      const response = toServicesResponse('c', s);
      expect(response.services.map((x) => [x.name, x.status])).toEqual(
        ['history', 'matching', 'frontend', 'persistence', 'workers'].map((name, i) => [
          name,
          statuses[i],
        ]),
      );
      expect(s.evaluation.services).toHaveLength(5);
      for (const [i, service] of response.services.entries()) {
        const engine = s.evaluation.services[i];
        expect(service.name).toBe(engine?.service);
        expect(service.forward_progress).toBe(engine?.forwardProgress);
        expect(service.dominant_signal).toBe(engine?.dominantSignal);
      }
    }
    expect(toServicesResponse('c', null).services).toEqual([]);
  });
});
