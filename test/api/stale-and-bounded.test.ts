import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../../shared/api/schemas.js';
import { clusterIdFor } from '../../shared/store/ids.js';
import { MAX_SERIES_POINTS, MAX_TIMELINE_POINTS } from '../../shared/store/reads.js';
import { ensureCluster } from '../../shared/store/writes.js';
import { CYCLE_MS, T0 } from '../helpers/snapshots.js';
import { getEvent, NOW, type SeededStore, seededHandler, startSeededStore } from './support.js';

const LAST = T0 + 19 * CYCLE_MS;
const DAY = 86_400_000;
/** Lambda's response payload limit: every body must stay well under it. */
const LAMBDA_LIMIT = 6 * 1024 * 1024;

describe('the API says stale when the copilot stops writing', () => {
  let seeded: SeededStore;
  beforeAll(async () => {
    seeded = await startSeededStore();
  });
  afterAll(async () => {
    await seeded?.stop();
  });

  /** What the API answers `afterMs` after the seeded run's last evaluation. */
  const json = async (afterMs: number, path: string, query: Record<string, string> = {}) => {
    const res = await seededHandler(seeded.store, LAST + afterMs)(getEvent(path, query));
    expect(res.statusCode, res.body).toBe(200);
    return JSON.parse(res.body ?? 'null') as unknown;
  };

  it('answers the stored state while the newest evaluation is within the limit', async () => {
    const status = api.StatusResponseSchema.parse(await json(60_000, '/status'));
    expect(status).toMatchObject({
      health_state: seeded.evaluations.at(-1)?.state,
      stale: false,
      age_seconds: 60,
      stale_after_seconds: 90,
      last_observed_at: new Date(LAST).toISOString(),
    });
    expect(status.reason).not.toBe('stale');
  });

  it('answers unknown / stale on every current-state read once it is older (two days here)', async () => {
    const later = 2 * DAY;
    const last = seeded.evaluations.at(-1)?.state;
    const status = api.StatusResponseSchema.parse(await json(later, '/status'));
    expect(status).toMatchObject({
      health_state: 'unknown',
      reason: 'stale',
      stale: true,
      age_seconds: later / 1000,
      last_known_state: last,
      bottleneck: 'unknown',
      timestamp: new Date(LAST).toISOString(),
    });
    const summary = api.SummaryResponseSchema.parse(await json(later, '/status/summary'));
    expect(summary).toMatchObject({ health_state: 'unknown', reason: 'stale', stale: true });
    expect(summary.summary).toMatch(/has not evaluated cluster "local" since/);
    expect(summary.last_summary).toBe('Persistence is slow; workers fall behind.');
    const services = api.ServicesResponseSchema.parse(await json(later, '/status/services'));
    expect(services.stale).toBe(true);
    expect(services.services.length).toBeGreaterThan(0);
    for (const s of services.services)
      expect(s, s.name).toMatchObject({
        status: 'unknown',
        forward_progress: 'unknown',
        pressure: 'unknown',
      });
    const gates = api.GatesResponseSchema.parse(await json(later, '/status/gates'));
    expect(gates).toMatchObject({ health_state: 'unknown', reason: 'stale', stale: true });
    expect(gates.gates.length).toBeGreaterThan(0);
    const clusters = api.ClustersResponseSchema.parse(await json(later, '/clusters'));
    expect(clusters.clusters.find((c) => c.name === 'local')).toMatchObject({
      health_state: 'unknown',
      reason: 'stale',
      stale: true,
      last_known_state: last,
    });
    // A cluster never evaluated is unknown, but not stale: there is nothing to be old.
    expect(clusters.clusters.find((c) => c.name === 'empty')).toMatchObject({
      health_state: 'unknown',
      reason: null,
      stale: false,
      last_observed_at: null,
    });
  });
});

describe('long reads keep the newest data and stay far under the Lambda limit', () => {
  let seeded: SeededStore;
  const MONTH_CYCLES = 30 * 2_880;
  const END = Date.UTC(2026, 8, 1);
  const START = END - 30 * DAY;
  beforeAll(async () => {
    seeded = await startSeededStore();
    // 30 days at 30 s for cluster `month`, written in one statement from a real row: a stressed
    // hour every day, so downsampling has an incident to keep.
    const id = (await ensureCluster(seeded.store.sql, 'month')).id;
    await seeded.store.sql`
      INSERT INTO evaluations (id, cluster_id, workflow_id, run_id, cycle, interval_ms, observed_at,
        state, previous_state, changed, reason, scale_band, bottleneck, evaluation, signal_values,
        signal_status)
      SELECT gen_random_uuid(), ${id}, 'bulk', 'run-1', n, 30000,
        ${new Date(START)}::timestamptz + n * interval '30 seconds',
        CASE WHEN (n % 2880) BETWEEN 1200 AND 1319 THEN 'stressed' ELSE 'happy' END,
        'happy', (n % 2880) IN (1200, 1320), 'healthy', 'mid-scale', 'healthy', e.evaluation,
        '{"state_transitions.throughput_per_sec": ' || (100 + n % 7) || '}',
        '{"persistence.latency_p99_ms": "error"}'
      FROM generate_series(0, ${MONTH_CYCLES - 1}) AS n,
        (SELECT evaluation FROM evaluations WHERE cluster_id = ${clusterIdFor('local')} LIMIT 1) e`;
  });
  afterAll(async () => {
    await seeded?.stop();
  });

  const handler = () => seededHandler(seeded.store, NOW);
  const call = async (path: string, query: Record<string, string>) => {
    const res = await handler()(getEvent(path, { cluster: 'month', ...query }));
    expect(res.statusCode, res.body).toBe(200);
    expect(Buffer.byteLength(res.body ?? '')).toBeLessThan(LAMBDA_LIMIT / 1.5);
    return {
      body: JSON.parse(res.body ?? 'null') as unknown,
      bytes: Buffer.byteLength(res.body ?? ''),
    };
  };
  const range = { start: String(START), end: String(END) };

  it('downsamples a 30-day timeline to fit, keeping every incident and its newest day', async () => {
    const { body } = await call('/status/timeline', range);
    const t = api.TimelineResponseSchema.parse(body);
    expect(t.truncated).toBe(false);
    expect(t.step_seconds).toBe(600);
    expect(t.timeline.length).toBeLessThanOrEqual(5_000);
    expect(t.timeline.reduce((n, r) => n + r.samples, 0)).toBe(MONTH_CYCLES);
    // Every day's stressed hour survives as stressed buckets; the newest bucket is the range's end.
    expect(t.timeline.filter((r) => r.health_state === 'stressed').length).toBe(30 * 6);
    expect(Date.parse(t.timeline.at(-1)?.timestamp ?? '')).toBeGreaterThan(END - 600_000 - 1);
  });

  it('returns the newest cycles, flagged as truncated, when the step asks for more than the limit', async () => {
    const { body, bytes } = await call('/status/timeline', {
      ...range,
      step: '30s',
      limit: String(MAX_TIMELINE_POINTS),
    });
    const t = api.TimelineResponseSchema.parse(body);
    expect(t.truncated).toBe(true);
    expect(t.timeline).toHaveLength(MAX_TIMELINE_POINTS);
    expect(t.timeline.at(-1)?.timestamp).toBe(new Date(END - CYCLE_MS).toISOString());
    expect(t.timeline[0]?.timestamp).toBe(
      new Date(END - MAX_TIMELINE_POINTS * CYCLE_MS).toISOString(),
    );
    expect(bytes).toBeLessThan(3.5 * 1024 * 1024);
  });

  it('refuses a limit past the cap instead of building an oversized body', async () => {
    const res = await handler()(
      getEvent('/status/timeline', { cluster: 'month', ...range, limit: '50000' }),
    );
    expect(res.statusCode).toBe(400);
  });

  it('reads sparklines of the newest points, with the stored status, capped over all signals', async () => {
    const ids = [
      'state_transitions.throughput_per_sec',
      'persistence.latency_p99_ms',
      'history.backlog_age_sec',
      'frontend.latency_p99_ms',
      'matching.backlog_count',
      'pool.utilization_pct',
      'runtime.goroutines',
      'cache.hit_rate',
      'host.gc_pause_p95_ms',
      'persistence.occ_conflicts_per_sec',
      'history.shard_churn_per_sec',
      'poller.poll_timeout_rate',
    ];
    const { body, bytes } = await call('/status/signals', {
      ...range,
      ids: ids.join(','),
      step: '30s',
      limit: '5000',
    });
    const s = api.SignalsResponseSchema.parse(body);
    expect(s.truncated).toBe(true);
    expect(s.points).toHaveLength(12 * Math.floor(MAX_SERIES_POINTS / 12));
    expect(bytes).toBeLessThan(3.5 * 1024 * 1024);
    const latency = s.points.filter((p) => p.signal === 'persistence.latency_p99_ms');
    expect(latency.every((p) => p.value === null && p.status === 'error')).toBe(true);
    expect(latency.at(-1)?.timestamp).toBe(new Date(END - CYCLE_MS).toISOString());
    const down = api.SignalsResponseSchema.parse(
      (await call('/status/signals', { ...range, ids: 'state_transitions.throughput_per_sec' }))
        .body,
    );
    expect(down.truncated).toBe(false);
    expect(down.step_seconds).toBe(900);
    expect(down.points.every((p) => p.status === 'ok' && p.min === 100 && p.max === 106)).toBe(
      true,
    );
  });
});
