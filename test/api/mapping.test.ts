import { describe, expect, it } from 'vitest';
import {
  MAX_RECOMMENDED_ACTIONS,
  recommendedActions,
  toServicesResponse,
  toStatusResponse,
} from '../../shared/api/mapping.js';
import { StatusResponseSchema } from '../../shared/api/schemas.js';
import { DEFAULT_ENGINE_CONFIG } from '../../shared/health/config.js';
import { DEFAULT_STALENESS } from '../../shared/models/freshness.js';
import type { Issue } from '../../shared/models/issue.js';
import type { StoredEvaluation } from '../../shared/models/stored-evaluation.js';
import { storedSignalsOf } from '../../shared/models/stored-evaluation.js';
import { SIGNAL_CATALOG } from '../../shared/signals/catalog.js';
import { CYCLE_MS, HEALTHY, run, type Spec, snapshot, T0, withSpec } from '../helpers/snapshots.js';

/** A request a moment after the evaluation: fresh. */
const NOW = { now: T0 + 5_000, staleness: DEFAULT_STALENESS };

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
    interval_ms: CYCLE_MS,
    evaluation,
    ...(({ values, status }) => ({ signal_values: values, signal_status: status }))(
      storedSignalsOf(snapshot(spec, T0), DEFAULT_ENGINE_CONFIG.maxSampleAgeSec),
    ),
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
        ...NOW,
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
      ...NOW,
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
      const response = toServicesResponse('c', s, NOW.now, NOW.staleness);
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
    expect(toServicesResponse('c', null, NOW.now, NOW.staleness).services).toEqual([]);
  });

  it('serves the status as stored, not re-inferred: a failed query no gate reads is error', () => {
    // occ conflicts feed no gate: the old mapping re-inferred its status from the gates (absent).
    const s = stored(withSpec(HEALTHY, { occConflicts: 'error' }));
    const status = toStatusResponse({
      cluster: 'c',
      ...NOW,
      evaluation: s,
      assessment: null,
      issues: [],
      logPatterns: [],
    });
    expect(status.signal_status['persistence.occ_conflicts_per_sec']).toBe('error');
  });

  it('answers unknown / stale past three intervals, with the last known state and its age', () => {
    const s = stored(withSpec(HEALTHY, { persistenceLatencyP99: 900 }));
    const at = (ms: number) =>
      toStatusResponse({
        cluster: 'c',
        now: T0 + ms,
        staleness: { intervals: 3, minMs: 0 },
        evaluation: s,
        assessment: null,
        issues: [],
        logPatterns: [],
      });
    const fresh = at(3 * CYCLE_MS);
    expect(fresh).toMatchObject({
      health_state: 'stressed',
      reason: 'stressed_gates',
      stale: false,
      age_seconds: 90,
      stale_after_seconds: 90,
      last_known_state: 'stressed',
      bottleneck: s.evaluation.bottleneck,
    });
    const stale = at(3 * CYCLE_MS + 1_000);
    expect(stale).toMatchObject({
      health_state: 'unknown',
      reason: 'stale',
      stale: true,
      age_seconds: 91,
      last_observed_at: s.observed_at,
      last_known_state: 'stressed',
      bottleneck: 'unknown',
    });
    expect(StatusResponseSchema.parse(stale)).toEqual(stale);
    // The default floor keeps a 1 s cadence from flapping: 60 s at least.
    const quick = { ...s, interval_ms: 1_000 };
    const floor = toServicesResponse('c', quick, T0 + 59_000, DEFAULT_STALENESS);
    expect(floor.stale).toBe(false);
    const past = toServicesResponse('c', quick, T0 + 61_000, DEFAULT_STALENESS);
    expect(past.stale).toBe(true);
    expect(past.services.every((x) => x.status === 'unknown')).toBe(true);
    // A row written before the cadence was stored is judged at the default 30 s.
    const legacy = { ...s, interval_ms: null };
    expect(toServicesResponse('c', legacy, T0 + 91_000, { intervals: 3, minMs: 0 }).stale).toBe(
      true,
    );
  });
});
