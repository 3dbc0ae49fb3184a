import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_CONFIG } from '../../shared/health/config.js';
import { evaluate } from '../../shared/health/engine.js';
import type { Evaluation } from '../../shared/health/evaluation.js';
import type { AssessmentInput } from '../../shared/models/assessment.js';
import type { IssueInput } from '../../shared/models/issue.js';
import { storedSignalsOf } from '../../shared/models/stored-evaluation.js';
import { listTables } from '../../shared/store/admin.js';
import { backfillSignalStatus } from '../../shared/store/backfill.js';
import { openStore, type Store } from '../../shared/store/connection.js';
import { MigrationError, StoreInputError } from '../../shared/store/errors.js';
import { clusterIdFor, evaluationIdFor } from '../../shared/store/ids.js';
import {
  MIGRATIONS,
  type MigrationReport,
  runMigrations,
  STORE_TABLES,
} from '../../shared/store/migrations.js';
import {
  evaluationTimeline,
  findCluster,
  issuesOfAssessment,
  latestAssessment,
  latestEvaluation,
  latestStatus,
  listClusters,
  openIssues,
  recentLogPatterns,
  signalSeries,
} from '../../shared/store/reads.js';
import { deleteOlderThan } from '../../shared/store/retention.js';
import {
  ensureCluster,
  recordAssessment,
  recordEvaluation,
  recordEvaluations,
  recordLogPatterns,
} from '../../shared/store/writes.js';
import { CYCLE_MS, HEALTHY, snapshot, T0, withSpec } from '../helpers/snapshots.js';
import { BACKENDS, engineRun, startBackend } from './backends.js';

const iso = (ms: number) => new Date(ms).toISOString();

function assessmentFor(
  clusterId: string,
  createdAt: number,
  summary = 'persistence is slow',
): AssessmentInput {
  return {
    cluster_id: clusterId,
    trigger: 'state_change',
    health_state: 'stressed',
    summary,
    confidence: 0.8,
    explainer: 'rules',
    created_at: iso(createdAt),
  };
}

const ISSUE_A: IssueInput = {
  key: 'stressed.persistence_latency',
  severity: 'warning',
  title: 'Persistence latency above its limit',
  description: 'p99 persistence latency is 900 ms against 200 ms.',
  likely_cause: 'DSQL OCC retries',
  contributing_factors: [
    { signal: 'persistence.latency_p99_ms', description: '900 ms', weight: 0.9 },
  ],
  suggested_actions: [
    {
      action_type: 'investigate',
      target_service: 'persistence',
      description: 'check DSQL OCC conflicts',
      confidence: 0.6,
      risk: 'low',
      parameters: { window: '15m', shards: [1, 2] },
    },
  ],
  related_signals: ['persistence.latency_p99_ms'],
};
const ISSUE_B: IssueInput = {
  key: 'worker.schedule_to_start',
  severity: 'critical',
  title: 'Workers fall behind',
  description: 'schedule-to-start is high',
  likely_cause: 'too few pollers',
};
const ISSUE_C: IssueInput = { ...ISSUE_B, key: 'info.note', severity: 'info', title: 'Note' };

describe.each(BACKENDS)('state store on %s', (kind) => {
  let store: Store;
  let stop: () => Promise<void>;
  let firstRun: MigrationReport;

  beforeAll(async () => {
    ({ store, stop } = await startBackend(kind));
    firstRun = await runMigrations(store.sql, store.dialect);
  });
  afterAll(async () => {
    await stop?.();
  });

  describe('migrations', () => {
    it('applies every migration once, records it, and does nothing on a second run', async () => {
      expect(firstRun.applied).toEqual(MIGRATIONS.map((m) => m.version));
      const again = await runMigrations(store.sql, store.dialect);
      expect(again.applied).toEqual([]);
      expect(again.alreadyApplied).toEqual(MIGRATIONS.map((m) => m.version));
      const tables = await listTables(store);
      expect(tables.map((t) => t.table)).toEqual(['schema_migrations', ...STORE_TABLES]);
      expect(tables.every((t) => t.exists)).toBe(true);
      expect(tables[0]?.rows).toBe(MIGRATIONS.length);
    });

    it('fails when an applied migration was edited', async () => {
      const [row] = await store.sql<{ checksum: string }[]>`
        SELECT checksum FROM schema_migrations WHERE version = 1`;
      await store.sql`UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1`;
      try {
        await expect(runMigrations(store.sql, store.dialect)).rejects.toThrow(MigrationError);
        await expect(runMigrations(store.sql, store.dialect)).rejects.toThrow(
          /changed after it was applied/,
        );
      } finally {
        await store.sql`UPDATE schema_migrations SET checksum = ${row?.checksum ?? ''} WHERE version = 1`;
      }
    });

    if (kind === 'postgres') {
      it('lets two migrators race on an empty database and both succeed', async () => {
        await store.sql`CREATE DATABASE race`;
        const url = store.target.replace(/\/postgres$/, '/race');
        const a = await openStore({ dialect: 'postgres', url, max: 2 });
        const b = await openStore({ dialect: 'postgres', url, max: 2 });
        try {
          const [ra, rb] = await Promise.all([
            runMigrations(a.sql, 'postgres', { baseDelayMs: 1 }),
            runMigrations(b.sql, 'postgres', { baseDelayMs: 1 }),
          ]);
          // Between them every migration ran; a late one may record what the other created.
          expect(new Set([...ra.applied, ...ra.alreadyApplied])).toEqual(
            new Set(MIGRATIONS.map((m) => m.version)),
          );
          expect(new Set([...rb.applied, ...rb.alreadyApplied]).size).toBe(MIGRATIONS.length);
          const [n] = await a.sql<{ n: string }[]>`SELECT count(*) AS n FROM schema_migrations`;
          expect(Number(n?.n)).toBe(MIGRATIONS.length);
        } finally {
          await a.close();
          await b.close();
        }
      });
    }
  });

  describe('clusters', () => {
    it('registers a cluster once, with an id derived from its name', async () => {
      const first = await ensureCluster(store.sql, 'prod-eu');
      const again = await ensureCluster(store.sql, 'prod-eu');
      expect(first.id).toBe(clusterIdFor('prod-eu'));
      expect(again).toEqual(first);
      const names = (await listClusters(store.sql)).map((c) => c.name);
      expect(names.filter((n) => n === 'prod-eu')).toHaveLength(1);
    });

    it('fails on a bad cluster name', async () => {
      await expect(ensureCluster(store.sql, '')).rejects.toThrow(StoreInputError);
      await expect(ensureCluster(store.sql, 'has spaces')).rejects.toThrow(/cluster name/);
    });

    it('finds a registered cluster by name, and null for one never registered', async () => {
      const registered = await ensureCluster(store.sql, `find-${kind}`);
      expect(await findCluster(store.sql, `find-${kind}`)).toEqual(registered);
      // Trimmed as ensureCluster trims, so both agree on the id.
      expect(await findCluster(store.sql, ` find-${kind} `)).toEqual(registered);
      expect(await findCluster(store.sql, `missing-${kind}`)).toBeNull();
      await expect(findCluster(store.sql, 'has spaces')).rejects.toThrow(StoreInputError);
    });

    it('lists the clusters by name, all of them or the first few', async () => {
      await ensureCluster(store.sql, `list-${kind}-b`);
      await ensureCluster(store.sql, `list-${kind}-a`);
      const all = await listClusters(store.sql);
      expect(all.map((c) => c.name)).toEqual(
        expect.arrayContaining([`list-${kind}-a`, `list-${kind}-b`]),
      );
      expect(await listClusters(store.sql, { limit: 2 })).toEqual(all.slice(0, 2));
      await expect(listClusters(store.sql, { limit: 0 })).rejects.toThrow(StoreInputError);
    });
  });

  describe('evaluations', () => {
    const { evaluations, records } = engineRun();
    let clusterId: string;
    beforeAll(async () => {
      clusterId = (await ensureCluster(store.sql, `evals-${kind}`)).id;
    });

    it('keeps one row when the same cycle is written again and again (a retried activity)', async () => {
      const record = records(clusterId)[0];
      if (record === undefined) throw new Error('no record');
      const results = [];
      for (let i = 0; i < 5; i++) results.push(await recordEvaluation(store.sql, record));
      expect(results.map((r) => r.outcome)).toEqual([
        'inserted',
        'duplicate',
        'duplicate',
        'duplicate',
        'duplicate',
      ]);
      expect(new Set(results.map((r) => r.id))).toEqual(
        new Set([evaluationIdFor(clusterId, record.evaluation.observedAt)]),
      );
      const [n] = await store.sql<{ n: string }[]>`
        SELECT count(*) AS n FROM evaluations WHERE cluster_id = ${clusterId}`;
      expect(Number(n?.n)).toBe(1);
    });

    it('stores every cycle and reads back the newest one exactly', async () => {
      const result = await recordEvaluations(store.sql, records(clusterId));
      expect(result.inserted).toBe(evaluations.length - 1);
      const latest = await latestEvaluation(store.sql, clusterId);
      const last = evaluations.at(-1) as Evaluation;
      expect(latest?.evaluation).toEqual(last);
      expect(latest?.cycle).toBe(evaluations.length - 1);
      expect(latest?.observed_at).toBe(iso(last.observedAt));
      expect(latest?.signal_values['persistence.latency_p99_ms']).toBe(45);
    });

    it('returns the timeline of every cycle, and of the state changes only', async () => {
      const from = T0;
      const to = T0 + evaluations.length * CYCLE_MS;
      const all = await evaluationTimeline(store.sql, { clusterId, from, to });
      expect(all.truncated).toBe(false);
      expect(all.stepMs).toBeNull();
      expect(all.points.map((e) => e.health_state)).toEqual(evaluations.map((e) => e.state));
      const { points: changes } = await evaluationTimeline(store.sql, {
        clusterId,
        from,
        to,
        changesOnly: true,
      });
      const expected = evaluations.filter((e) => e.changed);
      expect(expected.length).toBeGreaterThanOrEqual(2);
      expect(changes.map((c) => c.observed_at)).toEqual(expected.map((e) => iso(e.observedAt)));
      expect(changes.map((c) => c.health_state)).toEqual(expected.map((e) => e.state));
    });

    it('returns sparkline series from the stored values, null where a signal had no value', async () => {
      const { series, truncated } = await signalSeries(store.sql, {
        clusterId,
        signalIds: [
          'persistence.latency_p99_ms',
          'state_transitions.throughput_per_sec',
          'no.such_signal',
        ],
        from: T0,
        to: T0 + 20 * CYCLE_MS,
      });
      const latency = series['persistence.latency_p99_ms'] ?? [];
      expect(latency).toHaveLength(20);
      expect(latency.slice(9, 17).map((p) => p.value)).toEqual([
        45, 900, 900, 900, 900, 900, 900, 45,
      ]);
      expect(series['state_transitions.throughput_per_sec']?.every((p) => p.value === 120)).toBe(
        true,
      );
      expect(series['no.such_signal']?.every((p) => p.value === null)).toBe(true);
      expect(series['no.such_signal']?.every((p) => p.status === 'absent')).toBe(true);
      expect(truncated).toBe(false);
    });

    it('writes a new run of the same observer as new rows: identity is cluster and instant', async () => {
      const other = (await ensureCluster(store.sql, `restart-${kind}`)).id;
      const firstRun = records(other).slice(0, 3);
      for (const r of firstRun)
        expect((await recordEvaluation(store.sql, r)).outcome).toBe('inserted');
      // The restarted observer counts cycles from 0 again, a day later, in a new run.
      const secondRun = firstRun.map((r) => ({
        ...r,
        runId: 'run-2',
        evaluation: { ...r.evaluation, observedAt: r.evaluation.observedAt + 86_400_000 },
      }));
      for (const r of secondRun)
        expect((await recordEvaluation(store.sql, r)).outcome).toBe('inserted');
      const { points } = await evaluationTimeline(store.sql, {
        clusterId: other,
        from: T0,
        to: T0 + 2 * 86_400_000,
      });
      expect(points).toHaveLength(6);
    });

    it('reports a conflicting writer of the same instant and keeps the first row', async () => {
      const other = (await ensureCluster(store.sql, `conflict-${kind}`)).id;
      const [first] = records(other);
      if (first === undefined) throw new Error('no record');
      expect((await recordEvaluation(store.sql, first)).outcome).toBe('inserted');
      const rival = { ...first, workflowId: 'another-observer', runId: 'run-9', cycle: 42 };
      const write = await recordEvaluation(store.sql, rival);
      expect(write).toEqual({
        id: evaluationIdFor(other, first.evaluation.observedAt),
        outcome: 'conflict',
        existing: { workflowId: first.workflowId, runId: 'run-1', cycle: first.cycle },
      });
      const latest = await latestEvaluation(store.sql, other);
      expect(latest?.workflow_id).toBe(first.workflowId);
    });

    it('stores each signal status as observed, and reads it back as stored', async () => {
      const other = (await ensureCluster(store.sql, `status-${kind}`)).id;
      const [first] = records(other);
      if (first === undefined) throw new Error('no record');
      const snap = snapshot(HEALTHY, T0);
      snap.values['persistence.latency_p99_ms'] = { status: 'error', message: 'timeout' };
      snap.values['history.backlog_age_sec'] = { status: 'ok', value: 1, sampledAt: T0 - 900_000 };
      snap.values['frontend.error_rate_per_sec'] = { status: 'absent' };
      const signals = storedSignalsOf(snap, DEFAULT_ENGINE_CONFIG.maxSampleAgeSec);
      await recordEvaluation(store.sql, { ...first, signals });
      const latest = await latestEvaluation(store.sql, other);
      expect(latest?.interval_ms).toBe(CYCLE_MS);
      // Error and stale are kept; absent is what a signal in neither map is.
      expect(latest?.signal_status).toEqual({
        'persistence.latency_p99_ms': 'error',
        'history.backlog_age_sec': 'stale',
      });
      expect(latest?.signal_values['frontend.error_rate_per_sec']).toBeUndefined();
      expect(latest?.signal_values['history.backlog_age_sec']).toBeUndefined();
      expect(latest?.signal_values['state_transitions.throughput_per_sec']).toBe(120);
      const { series } = await signalSeries(store.sql, {
        clusterId: other,
        signalIds: ['persistence.latency_p99_ms', 'history.backlog_age_sec'],
        from: T0,
        to: T0 + CYCLE_MS,
      });
      expect(series['persistence.latency_p99_ms']?.[0]).toMatchObject({
        value: null,
        status: 'error',
      });
      expect(series['history.backlog_age_sec']?.[0]).toMatchObject({
        value: null,
        status: 'stale',
      });
    });

    it('reads the newest points of a range when it holds more than the limit, and says so', async () => {
      const from = T0;
      const to = T0 + evaluations.length * CYCLE_MS;
      const cut = await evaluationTimeline(store.sql, {
        clusterId,
        from,
        to,
        limit: 5,
        stepMs: undefined,
      });
      // More cycles than the limit and no step: downsampled to fit, nothing cut.
      expect(cut.stepMs).toBe(120_000);
      expect(cut.truncated).toBe(false);
      expect(cut.points.reduce((n, p) => n + p.samples, 0)).toBe(evaluations.length);
      // A bucket is its most severe cycle: the stressed stretch survives downsampling.
      expect(cut.points.some((p) => p.health_state === 'stressed')).toBe(true);
      const fine = await evaluationTimeline(store.sql, {
        clusterId,
        from,
        to,
        limit: 5,
        stepMs: 30_000,
      });
      expect(fine.truncated).toBe(true);
      expect(fine.points.map((p) => p.observed_at)).toEqual(
        evaluations.slice(-5).map((e) => iso(e.observedAt)),
      );
      const changes = await evaluationTimeline(store.sql, {
        clusterId,
        from,
        to,
        limit: 1,
        changesOnly: true,
      });
      expect(changes.truncated).toBe(true);
      expect(changes.points).toHaveLength(1);
      expect(changes.points[0]?.observed_at).toBe(
        iso(evaluations.filter((e) => e.changed).at(-1)?.observedAt ?? 0),
      );
      const sparkline = await signalSeries(store.sql, {
        clusterId,
        signalIds: ['persistence.latency_p99_ms'],
        from,
        to,
        limit: 4,
        stepMs: 60_000,
      });
      const points = sparkline.series['persistence.latency_p99_ms'] ?? [];
      expect(sparkline.truncated).toBe(true);
      expect(points).toHaveLength(4);
      expect(points.at(-1)?.t).toBe(iso(T0 + 18 * CYCLE_MS));
      expect(points.every((p) => p.samples === 2 && p.status === 'ok')).toBe(true);
      const downsampled = await signalSeries(store.sql, {
        clusterId,
        signalIds: ['persistence.latency_p99_ms'],
        from,
        to,
        stepMs: 60_000,
      });
      const buckets = downsampled.series['persistence.latency_p99_ms'] ?? [];
      expect(buckets).toHaveLength(10);
      // Cycles 9 (45 ms) and 10 (900 ms) share a bucket: mean, min and max all kept.
      const mixed = buckets.find((p) => p.t === iso(T0 + 8 * CYCLE_MS));
      expect(buckets[4]).toMatchObject({ value: 45, min: 45, max: 45 });
      expect(buckets[5]).toMatchObject({ value: 900, min: 900, max: 900 });
      expect(mixed).toBeDefined();
      await expect(
        signalSeries(store.sql, { clusterId, signalIds: ['a'], from, to, stepMs: 999 }),
      ).rejects.toThrow(/step/);
    });

    it('gives rows stored before statuses were kept the statuses their gates kept (migration 19)', async () => {
      const other = (await ensureCluster(store.sql, `legacy-${kind}`)).id;
      const [first] = records(other);
      if (first === undefined) throw new Error('no record');
      const snap = snapshot(withSpec(HEALTHY, { historyBacklog: 'error' }), T0);
      const { id } = await recordEvaluation(store.sql, {
        ...first,
        evaluation: evaluate(null, snap),
        signals: storedSignalsOf(snap, DEFAULT_ENGINE_CONFIG.maxSampleAgeSec),
      });
      await store.sql`UPDATE evaluations SET signal_status = NULL WHERE id = ${id}`;
      expect((await latestEvaluation(store.sql, other))?.signal_status).toEqual({});
      expect(await backfillSignalStatus(store.sql)).toBe(1);
      const status = (await latestEvaluation(store.sql, other))?.signal_status ?? {};
      expect(status['history.backlog_age_sec']).toBe('error');
      expect(status['persistence.occ_conflicts_per_sec']).toBeUndefined();
      expect(status['state_transitions.throughput_per_sec']).toBeUndefined();
      expect(await backfillSignalStatus(store.sql)).toBe(0);
    });

    it('answers the latest status with the newest evaluation and assessment', async () => {
      const status = await latestStatus(store.sql, clusterId);
      expect(status.evaluation?.evaluation.observedAt).toBe(evaluations.at(-1)?.observedAt);
      expect(status.assessment).toBeNull();
    });

    it('fails on an unknown cluster or an invalid evaluation and writes nothing', async () => {
      const record = records(clusterId)[3];
      if (record === undefined) throw new Error('no record');
      await expect(
        recordEvaluation(store.sql, { ...record, clusterId: clusterIdFor('never-registered') }),
      ).rejects.toThrow(/unknown cluster/);
      const broken = { ...record, cycle: 999, evaluation: { ...record.evaluation, state: 'fine' } };
      await expect(recordEvaluation(store.sql, broken as never)).rejects.toThrow(StoreInputError);
      await expect(recordEvaluation(store.sql, { ...record, cycle: -1 })).rejects.toThrow(/cycle/);
      const [n] = await store.sql<{ n: string }[]>`
        SELECT count(*) AS n FROM evaluations WHERE cluster_id = ${clusterId}`;
      expect(Number(n?.n)).toBe(evaluations.length);
    });

    it('refuses to serve a stored row that no longer matches the schema', async () => {
      const other = (await ensureCluster(store.sql, `corrupt-${kind}`)).id;
      const record = records(other)[0];
      if (record === undefined) throw new Error('no record');
      const { id } = await recordEvaluation(store.sql, record);
      await store.sql`UPDATE evaluations SET state = 'fine',
        evaluation = replace(evaluation, '"state":"happy"', '"state":"fine"') WHERE id = ${id}`;
      await expect(latestEvaluation(store.sql, other)).rejects.toThrow(
        `stored evaluation ${id} does not match the current schema at state`,
      );
      await expect(
        evaluationTimeline(store.sql, { clusterId: other, from: T0, to: T0 + CYCLE_MS }),
      ).rejects.toThrow(`stored evaluation ${id} does not match the current schema`);
    });

    it('fails on an empty or reversed range and an out-of-bounds limit', async () => {
      await expect(evaluationTimeline(store.sql, { clusterId, from: T0, to: T0 })).rejects.toThrow(
        /time range is empty/,
      );
      await expect(
        evaluationTimeline(store.sql, { clusterId, from: 'yesterday', to: T0 }),
      ).rejects.toThrow(/not an ISO timestamp/);
      await expect(
        evaluationTimeline(store.sql, { clusterId, from: T0, to: T0 + 1, limit: 0 }),
      ).rejects.toThrow(/limit/);
      await expect(latestEvaluation(store.sql, 'not-a-uuid')).rejects.toThrow(/cluster id/);
    });
  });

  describe('assessments and issues', () => {
    let clusterId: string;
    beforeAll(async () => {
      clusterId = (await ensureCluster(store.sql, `assess-${kind}`)).id;
    });

    it('writes an assessment with its issues once, however often it is replayed', async () => {
      const record = {
        key: 'wf-1:10',
        assessment: assessmentFor(clusterId, T0),
        issues: [ISSUE_A, ISSUE_B, ISSUE_C],
      };
      const results = await Promise.all([1, 2, 3].map(() => recordAssessment(store.sql, record)));
      expect(results.filter((r) => r.inserted)).toHaveLength(1);
      expect(new Set(results.map((r) => r.id)).size).toBe(1);
      const [n] = await store.sql<{ n: string }[]>`
        SELECT count(*) AS n FROM issues WHERE cluster_id = ${clusterId}`;
      expect(Number(n?.n)).toBe(3);
      const latest = await latestAssessment(store.sql, clusterId);
      expect(latest).toMatchObject({
        id: results[0]?.id,
        issue_count: 3,
        confidence: 0.8,
        model_id: null,
      });
    });

    it('lists the issues of an assessment most severe first, filtered and limited', async () => {
      const latest = await latestAssessment(store.sql, clusterId);
      const id = latest?.id ?? '';
      const all = await issuesOfAssessment(store.sql, id);
      expect(all.map((i) => i.severity)).toEqual(['critical', 'warning', 'info']);
      expect(all[1]?.suggested_actions[0]?.parameters).toEqual({ window: '15m', shards: [1, 2] });
      expect(all[1]?.contributing_factors[0]?.weight).toBe(0.9);
      const warnings = await issuesOfAssessment(store.sql, id, { severity: 'warning' });
      expect(warnings.map((i) => i.key)).toEqual([ISSUE_A.key]);
      expect(await issuesOfAssessment(store.sql, id, { limit: 1 })).toHaveLength(1);
      await expect(issuesOfAssessment(store.sql, id, { limit: 101 })).rejects.toThrow(/limit/);
      await expect(
        issuesOfAssessment(store.sql, id, { severity: 'high' as never }),
      ).rejects.toThrow(/severity/);
    });

    it('resolves open issues whose condition cleared, and only those', async () => {
      const later = T0 + 10 * CYCLE_MS;
      const second = await recordAssessment(store.sql, {
        key: 'wf-1:20',
        assessment: assessmentFor(clusterId, later),
        issues: [ISSUE_A],
      });
      expect(second.resolved).toBe(2);
      const open = await openIssues(store.sql, clusterId);
      // A is still a problem: open both in the first assessment and in the second.
      expect(open.map((i) => i.key).sort()).toEqual([ISSUE_A.key, ISSUE_A.key]);
      const first = await latestAssessment(store.sql, clusterId);
      expect(first?.id).toBe(second.id);
      const [b] = await store.sql<{ resolved_at: Date | null }[]>`
        SELECT resolved_at FROM issues WHERE cluster_id = ${clusterId} AND issue_key = ${ISSUE_B.key}`;
      expect(b?.resolved_at?.toISOString()).toBe(iso(later));
      // A late replay of the first assessment must not resolve what the second reported.
      const replay = await recordAssessment(store.sql, {
        key: 'wf-1:10',
        assessment: assessmentFor(clusterId, T0),
        issues: [ISSUE_A, ISSUE_B, ISSUE_C],
      });
      expect(replay).toMatchObject({ inserted: false, resolved: 0 });
      expect(await openIssues(store.sql, clusterId)).toHaveLength(2);
    });

    it('fails on duplicate issue keys, out-of-range confidence or too many issues', async () => {
      const base = { key: 'wf-bad', assessment: assessmentFor(clusterId, T0 + 1) };
      await expect(
        recordAssessment(store.sql, { ...base, issues: [ISSUE_A, ISSUE_A] }),
      ).rejects.toThrow(/duplicate issue key/);
      await expect(
        recordAssessment(store.sql, {
          ...base,
          assessment: { ...base.assessment, confidence: 1.5 },
          issues: [],
        }),
      ).rejects.toThrow(/confidence/);
      await expect(
        recordAssessment(store.sql, {
          ...base,
          issues: [
            {
              ...ISSUE_A,
              suggested_actions: [{ ...ISSUE_A.suggested_actions?.[0], risk: 'extreme' }],
            },
          ] as never,
        }),
      ).rejects.toThrow(/issue 0 at suggested_actions\.0\.risk/);
      const many = Array.from({ length: 201 }, (_, i) => ({ ...ISSUE_C, key: `k${i}` }));
      await expect(recordAssessment(store.sql, { ...base, issues: many })).rejects.toThrow(
        /too many issues/,
      );
      const [n] = await store.sql<{ n: string }[]>`
        SELECT count(*) AS n FROM assessments WHERE cluster_id = ${clusterId}`;
      expect(Number(n?.n)).toBe(2);
    });
  });

  describe('log patterns', () => {
    it('stores pattern counts idempotently and returns the newest window', async () => {
      const clusterId = (await ensureCluster(store.sql, `logs-${kind}`)).id;
      const patterns = [
        { pattern_id: 'occ_conflict', service: 'history', count: 128, sample: 'OC000 conflict' },
        {
          pattern_id: 'shard_movement',
          service: 'history',
          count: 5000,
          count_is_lower_bound: true,
        },
      ];
      const first = await recordLogPatterns(store.sql, { clusterId, observedAt: T0, patterns });
      const again = await recordLogPatterns(store.sql, { clusterId, observedAt: T0, patterns });
      await recordLogPatterns(store.sql, {
        clusterId,
        observedAt: T0 + CYCLE_MS,
        patterns: patterns.slice(0, 1),
      });
      expect([first.inserted, again.inserted]).toEqual([2, 0]);
      const newest = await recentLogPatterns(store.sql, { clusterId });
      expect(newest.map((p) => [p.pattern_id, p.count, p.observed_at])).toEqual([
        ['occ_conflict', 128, iso(T0 + CYCLE_MS)],
      ]);
      const since = await recentLogPatterns(store.sql, { clusterId, since: T0 });
      expect(since).toHaveLength(3);
      expect(since.find((p) => p.pattern_id === 'shard_movement')?.count_is_lower_bound).toBe(true);
      await expect(
        recordLogPatterns(store.sql, {
          clusterId,
          observedAt: T0,
          patterns: [{ ...patterns[0], count: -1 }] as never,
        }),
      ).rejects.toThrow(/log pattern 0 at count/);
    });
  });

  describe('retention', () => {
    it('deletes old evaluations in bounded batches until none is left, and keeps the rest', async () => {
      const clusterId = (await ensureCluster(store.sql, `retention-${kind}`)).id;
      const { records } = engineRun();
      const template = records(clusterId)[0];
      if (template === undefined) throw new Error('no record');
      // 1,100 cycles in 2020 (to be deleted) and 5 in 2021 (to be kept); no other test writes there.
      const old = Date.UTC(2020, 0, 1);
      const kept = Date.UTC(2021, 0, 1);
      const at = (ms: number, cycle: number) => ({
        ...template,
        cycle,
        evaluation: { ...template.evaluation, observedAt: ms },
      });
      const rows = [
        ...Array.from({ length: 1_100 }, (_, i) => at(old + i * CYCLE_MS, 10_000 + i)),
        ...Array.from({ length: 5 }, (_, i) => at(kept + i * CYCLE_MS, 20_000 + i)),
      ];
      const written = await recordEvaluations(store.sql, rows);
      expect(written).toEqual({ inserted: 1_105, batches: 3 });
      const report = await deleteOlderThan(store.sql, 'evaluations', {
        before: kept,
        batchSize: 250,
      });
      expect(report).toEqual({ table: 'evaluations', deleted: 1_100, batches: 5 });
      const left = await store.sql<{ observed_at: Date }[]>`
        SELECT observed_at FROM evaluations WHERE cluster_id = ${clusterId} ORDER BY observed_at`;
      expect(left.map((r) => r.observed_at.getTime())).toEqual(
        Array.from({ length: 5 }, (_, i) => kept + i * CYCLE_MS),
      );
      const capped = await deleteOlderThan(store.sql, 'evaluations', {
        before: Date.UTC(2022, 0, 1),
        batchSize: 2,
        maxBatches: 1,
      });
      expect(capped).toEqual({ table: 'evaluations', deleted: 2, batches: 1 });
    });

    it('prunes assessments and their issues by the instant they explain', async () => {
      const clusterId = (await ensureCluster(store.sql, `retention-assess-${kind}`)).id;
      const old = Date.UTC(2020, 0, 1);
      const kept = Date.UTC(2021, 0, 1);
      await recordAssessment(store.sql, {
        key: 'old',
        assessment: assessmentFor(clusterId, old),
        issues: [ISSUE_A, ISSUE_B],
      });
      const fresh = await recordAssessment(store.sql, {
        key: 'fresh',
        assessment: assessmentFor(clusterId, kept),
        issues: [ISSUE_A],
      });
      const issues = await deleteOlderThan(store.sql, 'issues', { before: kept });
      const assessments = await deleteOlderThan(store.sql, 'assessments', { before: kept });
      expect(issues.deleted).toBeGreaterThanOrEqual(2);
      expect(assessments.deleted).toBeGreaterThanOrEqual(1);
      const left = await store.sql<{ id: string }[]>`
        SELECT id FROM assessments WHERE cluster_id = ${clusterId}`;
      expect(left.map((r) => r.id)).toEqual([fresh.id]);
      const leftIssues = await store.sql<{ assessment_id: string }[]>`
        SELECT assessment_id FROM issues WHERE cluster_id = ${clusterId}`;
      expect(leftIssues.map((r) => r.assessment_id)).toEqual([fresh.id]);
    });

    it('refuses a batch larger than a DSQL transaction may hold', async () => {
      await expect(
        deleteOlderThan(store.sql, 'evaluations', { before: T0, batchSize: 3_001 }),
      ).rejects.toThrow(/batchSize must be an integer between 1 and 3000/);
    });
  });
});
