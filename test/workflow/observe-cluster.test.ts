import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { MockActivityEnvironment, TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../shared/signals/value.js';
import { openStore, type Store } from '../../shared/store/connection.js';
import { clusterIdFor } from '../../shared/store/ids.js';
import { runMigrations } from '../../shared/store/migrations.js';
import { createActivities } from '../../worker/activities/index.js';
import { lokiPatternSource } from '../../worker/activities/log-patterns.js';
import type { CopilotActivities } from '../../worker/activities/types.js';
import { createLokiSource } from '../../worker/sources/loki.js';
import type { SignalSource } from '../../worker/sources/types.js';
import { startCopilotWorkflows, workflowIds } from '../../worker/starter.js';
import { findTemporalCli } from '../../worker/temporal-cli.js';
import type { logWatcherWorkflow } from '../../worker/workflows/log-watcher.js';
import {
  configureObserverUpdate,
  currentEvaluationQuery,
} from '../../worker/workflows/messages.js';
import type { observeClusterWorkflow } from '../../worker/workflows/observe-cluster.js';
import type { scheduledAssessmentWorkflow } from '../../worker/workflows/scheduled-assessment.js';
import {
  HEALTHY,
  IDLE,
  type Spec,
  snapshot,
  WORKER_STARVATION,
  withSpec,
} from '../helpers/snapshots.js';
import { startFakeLoki } from '../support/loki-server.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * A scripted metrics source: each cluster answers the next spec of its script (the last one
 * repeats), as a real source would answer a cluster moving through states. `'dead'` answers what a
 * dead Prometheus makes of every query: error values.
 */
class ScriptedSource implements SignalSource {
  readonly kind = 'scripted';
  private i = 0;
  constructor(private readonly script: readonly (Spec | 'dead')[]) {}
  async snapshot(at: number): Promise<Snapshot> {
    const step = this.script[Math.min(this.i++, this.script.length - 1)] ?? 'dead';
    if (step === 'dead') {
      const s = snapshot(HEALTHY, at);
      for (const id of Object.keys(s.values))
        s.values[id] = { status: 'error', message: 'ECONNREFUSED' };
      return s;
    }
    return snapshot(step, at);
  }
  async close(): Promise<void> {}
}

const SLOW_PERSISTENCE = withSpec(HEALTHY, { persistenceLatencyP99: 640 });
const PERSISTENCE_DOWN = withSpec(HEALTHY, { persistenceErrors: 120 });

let env: TestWorkflowEnvironment;
let pg: TestPostgres;
let store: Store;
let bundle: WorkflowBundleWithSourceMap;
const scripts = new Map<string, ScriptedSource>();

async function countRows(
  table: 'evaluations' | 'assessments' | 'issues',
  cluster: string,
): Promise<number> {
  const rows =
    await store.sql`SELECT count(*)::int AS n FROM ${store.sql(table)} WHERE cluster_id = ${clusterIdFor(cluster)}`;
  return (rows[0] as { n: number }).n;
}

async function states(cluster: string): Promise<string[]> {
  const rows = await store.sql<{ state: string }[]>`
    SELECT state FROM evaluations WHERE cluster_id = ${clusterIdFor(cluster)} ORDER BY observed_at`;
  return rows.map((r) => r.state);
}

function newWorker(taskQueue: string): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: createActivities({
      store,
      sourceFor: (cluster) => {
        const s = scripts.get(cluster);
        if (s === undefined) throw new Error(`no script for ${cluster}`);
        return s;
      },
    }),
  });
}

/** The activities as a worker runs them: inside an activity context (logger, info). */
function inActivityContext(a: CopilotActivities): CopilotActivities {
  const run =
    <I, O>(fn: (input: I) => Promise<O>) =>
    (input: I) =>
      new MockActivityEnvironment().run<[I], O, (input: I) => Promise<O>>(fn, input);
  return {
    observeCycle: run(a.observeCycle),
    explain: run(a.explain),
    recordAssessment: run(a.recordAssessment),
    latestForSchedule: run(a.latestForSchedule),
    pruneHistory: run(a.pruneHistory),
    collectLogPatterns: run(a.collectLogPatterns),
  };
}

/** Polls until `check` holds (the workflows run on real time; nothing here is a timing assertion). */
async function eventually(
  check: () => Promise<boolean>,
  what: string,
  attempts = 120,
): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`gave up waiting for ${what}`);
}

beforeAll(async () => {
  pg = await startTestPostgres();
  store = await openStore({ dialect: 'postgres', url: pg.url });
  await runMigrations(store.sql, 'postgres');
  env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: findTemporalCli() } },
  });
  bundle = await bundleWorkflowCode({
    workflowsPath: join(here, '../../worker/workflows/index.ts'),
  });
});

afterAll(async () => {
  await env?.teardown();
  await store?.close();
  await pg?.stop();
});

describe('ObserveClusterWorkflow on a real Temporal server', () => {
  it('persists every cycle and starts exactly one assessment per state change', async () => {
    const cluster = 'wf-change';
    scripts.set(
      cluster,
      new ScriptedSource([HEALTHY, HEALTHY, SLOW_PERSISTENCE, SLOW_PERSISTENCE, SLOW_PERSISTENCE]),
    );
    const worker = await newWorker('tq-change');
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start<typeof observeClusterWorkflow>(
        'observeClusterWorkflow',
        {
          taskQueue: 'tq-change',
          workflowId: `observe-${cluster}`,
          args: [{ cluster, intervalMs: 1_000 }],
        },
      );
      await eventually(async () => (await countRows('evaluations', cluster)) >= 5, 'five cycles');
      await eventually(
        async () => (await countRows('assessments', cluster)) >= 2,
        'the assessments',
      );
      const current = await handle.query(currentEvaluationQuery);
      expect(current?.state).toBe('stressed');

      // Save this run's history for the replay test (determinism guard).
      const history = await handle.fetchHistory();
      await handle.terminate('test done');
      const out = join(here, '../fixtures/histories/observe-cluster.json');
      mkdirSync(dirname(out), { recursive: true });
      if (process.env.UPDATE_HISTORIES === '1') writeFileSync(out, historyToJSON(history));
    });
    const s = await states(cluster);
    expect(s.slice(0, 3)).toEqual(['happy', 'happy', 'stressed']);
    // Two changes — none → happy (the first state seen) and happy → stressed — and exactly one
    // assessment each, with the engine's state; the stressed one carries its issue.
    const assessments = await store.sql<
      { health_state: string; trigger: string; explainer: string }[]
    >`
      SELECT health_state, trigger, explainer FROM assessments
      WHERE cluster_id = ${clusterIdFor(cluster)} ORDER BY created_at`;
    expect(assessments).toEqual([
      { health_state: 'happy', trigger: 'state_change', explainer: 'rules' },
      { health_state: 'stressed', trigger: 'state_change', explainer: 'rules' },
    ]);
    const issues = await store.sql<{ issue_key: string }[]>`
      SELECT issue_key FROM issues WHERE cluster_id = ${clusterIdFor(cluster)}`;
    expect(issues.map((i) => i.issue_key)).toEqual(['stressed.persistence_latency']);
  });

  it('re-words a change of reason within a state once it holds (healthy → idle), not a one-cycle flap', async () => {
    const cluster = 'wf-reason';
    // happy/healthy ×2, one idle cycle (a flap), healthy, then idle for good.
    scripts.set(
      cluster,
      new ScriptedSource([HEALTHY, HEALTHY, IDLE, HEALTHY, IDLE, IDLE, IDLE, IDLE]),
    );
    const worker = await newWorker('tq-reason');
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start<typeof observeClusterWorkflow>(
        'observeClusterWorkflow',
        {
          taskQueue: 'tq-reason',
          workflowId: `observe-${cluster}`,
          args: [{ cluster, intervalMs: 1_000 }],
        },
      );
      await eventually(async () => (await countRows('evaluations', cluster)) >= 8, 'eight cycles');
      await eventually(
        async () => (await countRows('assessments', cluster)) >= 2,
        'the re-worded assessment',
      );
      await handle.terminate('test done');
    });
    const reasons = await store.sql<{ reason: string }[]>`
      SELECT reason FROM evaluations
      WHERE cluster_id = ${clusterIdFor(cluster)} ORDER BY observed_at LIMIT 6`;
    expect(reasons.map((r) => r.reason)).toEqual([
      'healthy',
      'healthy',
      'idle',
      'healthy',
      'idle',
      'idle',
    ]);
    const assessments = await store.sql<
      { health_state: string; reason: string; summary: string; observed_at: Date }[]
    >`
      SELECT a.health_state, a.reason, a.summary, e.observed_at FROM assessments a
      JOIN evaluations e ON e.id = a.evaluation_id
      WHERE a.cluster_id = ${clusterIdFor(cluster)} ORDER BY a.created_at`;
    // The first state, then idle once it held for two cycles (the sixth), nothing for the flap.
    expect(assessments.map((a) => [a.health_state, a.reason])).toEqual([
      ['happy', 'healthy'],
      ['happy', 'idle'],
    ]);
    expect(assessments[1]?.summary).toMatch(/^Happy: the cluster is idle/);
    const sixth = await store.sql<{ observed_at: Date }[]>`
      SELECT observed_at FROM evaluations WHERE cluster_id = ${clusterIdFor(cluster)}
      ORDER BY observed_at OFFSET 5 LIMIT 1`;
    expect(assessments[1]?.observed_at.getTime()).toBe(sixth[0]?.observed_at.getTime());
  });

  it('re-words a new cause within a state: stressed by persistence, then by starved workers', async () => {
    const cluster = 'wf-cause';
    scripts.set(
      cluster,
      new ScriptedSource([SLOW_PERSISTENCE, SLOW_PERSISTENCE, WORKER_STARVATION]),
    );
    const worker = await newWorker('tq-cause');
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start<typeof observeClusterWorkflow>(
        'observeClusterWorkflow',
        {
          taskQueue: 'tq-cause',
          workflowId: `observe-${cluster}`,
          args: [{ cluster, intervalMs: 1_000 }],
        },
      );
      await eventually(
        async () => (await countRows('assessments', cluster)) >= 2,
        'the assessment of the new cause',
      );
      // The verdict rule's history, for the replay test (its patch marker and the second child).
      const history = await handle.fetchHistory();
      await handle.terminate('test done');
      if (process.env.UPDATE_HISTORIES === '1')
        writeFileSync(
          join(here, '../fixtures/histories/observe-cluster-verdict-reword.json'),
          historyToJSON(history),
        );
    });
    const assessments = await store.sql<{ health_state: string; summary: string }[]>`
      SELECT health_state, summary FROM assessments
      WHERE cluster_id = ${clusterIdFor(cluster)} ORDER BY created_at`;
    // Same state, same reason (stressed_gates): the words follow the gate that fired.
    expect(assessments.map((a) => a.health_state)).toEqual(['stressed', 'stressed']);
    expect(assessments[0]?.summary).toContain('(stressed.persistence_latency)');
    expect(assessments[1]?.summary).toContain('(stressed.matching_backlog)');
    expect(assessments[1]?.summary).not.toContain('persistence_latency');
  });

  it('carries the engine state across continue-as-new: critical after 3 cycles spanning runs', async () => {
    const cluster = 'wf-can';
    scripts.set(cluster, new ScriptedSource([HEALTHY, PERSISTENCE_DOWN]));
    const worker = await newWorker('tq-can');
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start<typeof observeClusterWorkflow>(
        'observeClusterWorkflow',
        {
          taskQueue: 'tq-can',
          workflowId: `observe-${cluster}`,
          args: [{ cluster, intervalMs: 1_000, cyclesPerRun: 2 }],
        },
      );
      await eventually(async () => (await countRows('evaluations', cluster)) >= 5, 'five cycles');
      const runs = new Set<string>();
      const rows = await store.sql<
        { workflow_id: string }[]
      >`SELECT workflow_id FROM evaluations WHERE cluster_id = ${clusterIdFor(cluster)}`;
      for (const r of rows) runs.add(r.workflow_id);
      await handle.terminate('test done');
      expect(runs.size).toBe(1); // the workflow id stays; cycles number across runs
    });
    const s = await states(cluster);
    // happy, then critical evidence on cycles 1, 2 (run 1 ends after 2 cycles), 3 (run 2)…
    expect(s.slice(0, 5)).toEqual(['happy', 'stressed', 'stressed', 'critical', 'critical']);
    const cycles = await store.sql<
      { cycle: number }[]
    >`SELECT cycle FROM evaluations WHERE cluster_id = ${clusterIdFor(cluster)} ORDER BY cycle`;
    expect(cycles.map((c) => Number(c.cycle)).slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
  });

  it('says unknown when the metrics source is dead, and keeps observing', async () => {
    const cluster = 'wf-dead';
    scripts.set(cluster, new ScriptedSource(['dead']));
    const worker = await newWorker('tq-dead');
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start<typeof observeClusterWorkflow>(
        'observeClusterWorkflow',
        {
          taskQueue: 'tq-dead',
          workflowId: `observe-${cluster}`,
          args: [{ cluster, intervalMs: 1_000 }],
        },
      );
      await eventually(async () => (await countRows('evaluations', cluster)) >= 3, 'three cycles');
      await handle.terminate('test done');
    });
    expect((await states(cluster)).slice(0, 3)).toEqual(['unknown', 'unknown', 'unknown']);
    // One assessment, for the first (blind) state: it says the copilot cannot see progress.
    const issues = await store.sql<{ issue_key: string }[]>`
      SELECT issue_key FROM issues WHERE cluster_id = ${clusterIdFor(cluster)}`;
    expect(await countRows('assessments', cluster)).toBe(1);
    expect(issues.map((i) => i.issue_key)).toEqual(['visibility.no_progress_data']);
  });

  it('judges a cycle whose observation activity fails as unknown, in a blind activity', async () => {
    const cluster = 'wf-failing';
    scripts.set(cluster, new ScriptedSource([HEALTHY]));
    const base = createActivities({ store, sourceFor: (c) => scripts.get(c) as ScriptedSource });
    const calls = { sighted: 0, blind: 0 };
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'tq-failing',
      workflowBundle: bundle,
      activities: {
        ...base,
        // The observation itself breaks (not the source: a bug, a crash mid-activity); only the
        // blind retry, which reads no source, can judge the cycle.
        async observeCycle(input: Parameters<typeof base.observeCycle>[0]) {
          if (input.blind === true) {
            calls.blind += 1;
            return base.observeCycle(input);
          }
          calls.sighted += 1;
          throw new Error('observation crashed');
        },
      },
    });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start<typeof observeClusterWorkflow>(
        'observeClusterWorkflow',
        {
          taskQueue: 'tq-failing',
          workflowId: `observe-${cluster}`,
          args: [{ cluster, intervalMs: 1_000 }],
        },
      );
      await eventually(async () => (await countRows('evaluations', cluster)) >= 2, 'two cycles');
      await handle.terminate('test done');
    });
    const rows = await store.sql<{ state: string; reason: string }[]>`
      SELECT state, evaluation::json->>'reason' AS reason FROM evaluations
      WHERE cluster_id = ${clusterIdFor(cluster)} ORDER BY cycle LIMIT 2`;
    expect(rows).toEqual([
      { state: 'unknown', reason: 'no_progress_data' },
      { state: 'unknown', reason: 'no_progress_data' },
    ]);
    // Each cycle tried to observe (with its retry) before falling back to a blind judgement.
    expect(calls.blind).toBeGreaterThanOrEqual(2);
    expect(calls.sighted).toBeGreaterThanOrEqual(2 * calls.blind - 2);
  });

  it('rejects a bad configuration update and applies a good one live', async () => {
    const cluster = 'wf-config';
    scripts.set(cluster, new ScriptedSource([SLOW_PERSISTENCE]));
    const worker = await newWorker('tq-config');
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start<typeof observeClusterWorkflow>(
        'observeClusterWorkflow',
        {
          taskQueue: 'tq-config',
          workflowId: `observe-${cluster}`,
          args: [{ cluster, intervalMs: 1_000 }],
        },
      );
      await eventually(
        async () => (await handle.query(currentEvaluationQuery))?.state === 'stressed',
        'stressed',
      );
      await expect(
        handle.executeUpdate(configureObserverUpdate, {
          args: [{ engineConfig: { overrides: { all: { criticalThroughputMinPerSec: 1e6 } } } }],
        }),
      ).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
      // Loosen the persistence limit: the same data now reads happy.
      await handle.executeUpdate(configureObserverUpdate, {
        args: [
          { engineConfig: { overrides: { all: { stressedPersistenceLatencyP99MaxMs: 1000 } } } },
        ],
      });
      await eventually(
        async () => (await handle.query(currentEvaluationQuery))?.state === 'happy',
        'happy after the update',
      );
      await handle.terminate('test done');
    });
  });

  it('loses and duplicates nothing when the worker stops with an observation in flight and another takes over', async () => {
    const cluster = 'wf-restart';
    scripts.set(cluster, new ScriptedSource([HEALTHY]));
    // The first worker's source hangs on its third observation: the worker is stopped with that
    // activity in flight, as a crashed or redeployed task would leave it.
    let calls = 0;
    let markHung: () => void = () => {};
    const hung = new Promise<void>((resolve) => {
      markHung = resolve;
    });
    const hanging: SignalSource = {
      kind: 'hanging',
      snapshot: (at) => {
        calls += 1;
        if (calls < 3) return Promise.resolve(snapshot(HEALTHY, at));
        markHung();
        // Answers only after the worker is gone; its result can no longer reach the server.
        return new Promise<Snapshot>((_, reject) =>
          setTimeout(() => reject(new Error('too late')), 3_000),
        );
      },
      close: async () => {},
    };
    const first = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'tq-restart',
      workflowBundle: bundle,
      activities: createActivities({ store, sourceFor: () => hanging }),
      shutdownGraceTime: '1s',
      shutdownForceTime: '10s',
    });
    const handle = await env.client.workflow.start<typeof observeClusterWorkflow>(
      'observeClusterWorkflow',
      {
        taskQueue: 'tq-restart',
        workflowId: `observe-${cluster}`,
        args: [{ cluster, intervalMs: 1_000 }],
      },
    );
    await first.runUntil(hung);
    // The server retries the abandoned observation once its start-to-close timeout passes; the
    // second worker picks it up and the run goes on from the same cycle.
    const second = await newWorker('tq-restart');
    await second.runUntil(
      eventually(async () => (await countRows('evaluations', cluster)) >= 5, 'five cycles', 200),
    );
    await handle.terminate('test done');
    // One row per cycle is the primary key's doing; what the takeover must keep is the engine
    // state: each stored evaluation stepped the carried state exactly once (a retried observation
    // that ran the engine twice would carry cycles = cycle + 2), and no cycle went missing.
    const rows = await store.sql<{ cycle: number; evaluation: string }[]>`
      SELECT cycle, evaluation FROM evaluations WHERE cluster_id = ${clusterIdFor(cluster)} ORDER BY cycle`;
    const stored = rows.map((r) => ({
      cycle: Number(r.cycle),
      carriedCycles: (JSON.parse(r.evaluation) as { carried: { cycles: number } }).carried.cycles,
    }));
    expect(stored.length).toBeGreaterThanOrEqual(5);
    expect(stored.map((r) => r.cycle)).toEqual(stored.map((_, i) => i)); // no gaps
    expect(stored.map((r) => r.carriedCycles)).toEqual(stored.map((r) => r.cycle + 1));
  });
});

describe('a restarted observer (terminate, reset or failure: a new run at cycle 0)', () => {
  /** Starts the observer of `cluster` on `taskQueue` at a 1 s cadence: each call a new run. */
  const observerOf = (cluster: string, taskQueue: string) => () =>
    env.client.workflow.start<typeof observeClusterWorkflow>('observeClusterWorkflow', {
      taskQueue,
      workflowId: `observe-${cluster}`,
      args: [{ cluster, intervalMs: 1_000 }],
    });

  it('keeps writing new evaluations and resumes its critical streak from the store', async () => {
    const cluster = 'wf-resume';
    scripts.set(cluster, new ScriptedSource([PERSISTENCE_DOWN]));
    const worker = await newWorker('tq-resume');
    const start = observerOf(cluster, 'tq-resume');
    await worker.runUntil(async () => {
      const first = await start();
      await eventually(
        async () => (await first.query(currentEvaluationQuery))?.state === 'critical',
        'critical in the first run',
      );
      await first.terminate('operator restarts the observer');
      const before = await countRows('evaluations', cluster);
      const second = await start();
      expect(second.firstExecutionRunId).not.toBe(first.firstExecutionRunId);
      await eventually(
        async () => (await countRows('evaluations', cluster)) >= before + 3,
        'three cycles of the new run',
      );
      await eventually(async () => (await countRows('assessments', cluster)) >= 2, 'assessments');
      await second.terminate('test done');
    });
    const rows = await store.sql<
      { run_id: string; cycle: string; state: string; changed: boolean; streak: number }[]
    >`
      SELECT run_id, cycle, state, changed,
        (evaluation::json->'carried'->>'criticalStreak')::int AS streak
      FROM evaluations WHERE cluster_id = ${clusterIdFor(cluster)} ORDER BY observed_at`;
    const runs = [...new Set(rows.map((r) => r.run_id))];
    expect(runs).toHaveLength(2);
    const second = rows.filter((r) => r.run_id === runs[1]);
    const firstRun = rows.filter((r) => r.run_id === runs[0]);
    // The new run counted from 0 again, and every one of its cycles was stored.
    expect(second.map((r) => Number(r.cycle)).slice(0, 3)).toEqual([0, 1, 2]);
    // It resumed: critical at once (no new debounce), the streak going on from the stored one.
    expect(second[0]?.state).toBe('critical');
    expect(second[0]?.changed).toBe(false);
    expect(second[0]?.streak).toBe((firstRun.at(-1)?.streak ?? 0) + 1);
    // No restart assessment: the state did not change. One per change of the first run only.
    const assessments = await store.sql<{ health_state: string }[]>`
      SELECT health_state FROM assessments WHERE cluster_id = ${clusterIdFor(cluster)}
      ORDER BY created_at`;
    expect(assessments.map((a) => a.health_state)).toEqual(['stressed', 'critical']);
  });

  it('remembers the verdict its newest assessment explained: a new cause after the restart is re-worded (the same one is not: the test above)', async () => {
    const cluster = 'wf-resume-verdict';
    scripts.set(cluster, new ScriptedSource([SLOW_PERSISTENCE]));
    const worker = await newWorker('tq-resume-verdict');
    const start = observerOf(cluster, 'tq-resume-verdict');
    await worker.runUntil(async () => {
      const first = await start();
      await eventually(
        async () => (await countRows('assessments', cluster)) >= 1,
        'the first run explains stressed by persistence',
      );
      await first.terminate('operator restarts the observer');
      // Between the runs the cause changes; the state (stressed) and its reason do not.
      scripts.set(cluster, new ScriptedSource([WORKER_STARVATION]));
      const second = await start();
      await eventually(
        async () => (await countRows('assessments', cluster)) >= 2,
        'the second run re-words the new cause',
      );
      await second.terminate('test done');
    });
    const rows = await store.sql<{ run_id: string; changed: boolean; state: string }[]>`
      SELECT run_id, changed, state FROM evaluations
      WHERE cluster_id = ${clusterIdFor(cluster)} ORDER BY observed_at`;
    const runs = [...new Set(rows.map((r) => r.run_id))];
    expect(runs).toHaveLength(2);
    // The second run resumed (no state change), yet explained the new cause.
    expect(rows.filter((r) => r.run_id === runs[1]).every((r) => !r.changed)).toBe(true);
    const assessments = await store.sql<{ health_state: string; summary: string }[]>`
      SELECT health_state, summary FROM assessments
      WHERE cluster_id = ${clusterIdFor(cluster)} ORDER BY created_at`;
    expect(assessments.map((a) => a.health_state)).toEqual(['stressed', 'stressed']);
    expect(assessments[0]?.summary).toContain('(stressed.persistence_latency)');
    expect(assessments[1]?.summary).toContain('(stressed.matching_backlog)');
  });

  it('starts fresh when the newest stored evaluation is too old to describe the cluster', async () => {
    const cluster = 'wf-resume-old';
    const activities = inActivityContext(
      createActivities({ store, sourceFor: () => new ScriptedSource([PERSISTENCE_DOWN]) }),
    );
    const base = { cluster, observerId: 'o', runId: 'r1', carried: null, intervalMs: 1_000 };
    const t0 = Date.UTC(2026, 5, 1);
    let carried = null;
    for (let cycle = 0; cycle < 4; cycle++) {
      const out = await activities.observeCycle({
        ...base,
        cycle,
        carried,
        at: t0 + cycle * 1_000,
      });
      carried = out.summary.carried;
    }
    expect(carried?.lastKnownState).toBe('critical');
    // 30 s later (within 60 s): resumed. An hour later: a fresh engine, which cannot say critical.
    const soon = await activities.observeCycle({
      ...base,
      runId: 'r2',
      cycle: 0,
      at: t0 + 33_000,
      resume: true,
    });
    expect(soon.resumedFrom?.observedAt).toBe(t0 + 3_000);
    expect(soon.summary.state).toBe('critical');
    const late = await activities.observeCycle({
      ...base,
      runId: 'r3',
      cycle: 0,
      at: t0 + 3_600_000,
      resume: true,
    });
    expect(late.resumedFrom).toBeUndefined();
    expect(late.summary.state).toBe('stressed');
    expect(late.summary.reason).toBe('critical_debouncing');
    expect(late.stored).toBe('inserted');
  });

  it('resumes with the verdict of its newest assessment, and without it (state still resumed) when that row is unreadable', async () => {
    const cluster = 'wf-resume-assessed';
    const activities = inActivityContext(
      createActivities({ store, sourceFor: () => new ScriptedSource([SLOW_PERSISTENCE]) }),
    );
    const base = { cluster, observerId: 'o', runId: 'r1', carried: null, intervalMs: 1_000 };
    const t0 = Date.UTC(2026, 6, 1);
    const first = await activities.observeCycle({ ...base, cycle: 0, at: t0 });
    const assess = (id: string, at: number, trigger: string) => store.sql`
      INSERT INTO assessments (id, cluster_id, evaluation_id, created_at, trigger, health_state,
        summary, confidence, explainer, input_tokens, output_tokens, issue_count)
      VALUES (${id}, ${clusterIdFor(cluster)}, ${first.summary.evaluationId}, ${new Date(at)},
        ${trigger}, 'stressed', 'Stressed: persistence.', 0.6, 'rules', 0, 0, 0)`;
    await assess('0b5a6c8e-0000-4000-8000-000000000001', t0, 'state_change');
    const resumed = await activities.observeCycle({
      ...base,
      runId: 'r2',
      cycle: 0,
      at: t0 + 2_000,
      resume: true,
    });
    expect(resumed.resumedFrom?.assessedVerdict).toBe(
      'stressed_gates:stressed.persistence_latency',
    );
    // A newer assessment the reader refuses (an unknown trigger): the carried state still resumes.
    await assess('0b5a6c8e-0000-4000-8000-000000000002', t0 + 3_000, 'no-such-trigger');
    const blind = await activities.observeCycle({
      ...base,
      runId: 'r3',
      cycle: 0,
      at: t0 + 4_000,
      resume: true,
    });
    expect(blind.resumedFrom?.evaluationId).toBe(resumed.summary.evaluationId);
    expect(blind.resumedFrom?.assessedVerdict).toBeUndefined();
    expect(blind.summary.state).toBe('stressed');
  });

  it('reports a write that lands on an instant another writer already stored', async () => {
    const cluster = 'wf-conflict';
    const activities = inActivityContext(
      createActivities({ store, sourceFor: () => new ScriptedSource([HEALTHY]) }),
    );
    const input = {
      cluster,
      observerId: 'o',
      runId: 'r1',
      cycle: 0,
      carried: null,
      at: Date.UTC(2026, 5, 2),
      intervalMs: 1_000,
    };
    expect((await activities.observeCycle(input)).stored).toBe('inserted');
    // The same observer retrying the same cycle: a duplicate, not an error.
    expect((await activities.observeCycle(input)).stored).toBe('duplicate');
    const other = await activities.observeCycle({ ...input, observerId: 'rogue', runId: 'r9' });
    expect(other.stored).toBe('conflict');
    expect(other.storeNote).toMatch(/already stored by o/);
  });
});

describe('startCopilotWorkflows', () => {
  it('is idempotent and applies new configuration to the running observer on restart', async () => {
    const cluster = 'wf-starter';
    scripts.set(cluster, new ScriptedSource([SLOW_PERSISTENCE]));
    const worker = await newWorker('tq-starter');
    await worker.runUntil(async () => {
      const base = { cluster, taskQueue: 'tq-starter', intervalMs: 1_000, logsEnabled: false };
      await startCopilotWorkflows(env.client, { ...base, engineConfig: {} });
      const observer = env.client.workflow.getHandle(workflowIds(cluster).observer);
      const { runId } = await observer.describe();
      await eventually(
        async () => (await observer.query(currentEvaluationQuery))?.state === 'stressed',
        'stressed',
      );
      // A restart with looser limits: same execution (carried state kept), new configuration.
      await startCopilotWorkflows(env.client, {
        ...base,
        engineConfig: { overrides: { all: { stressedPersistenceLatencyP99MaxMs: 1000 } } },
      });
      expect((await observer.describe()).runId).toBe(runId);
      await eventually(
        async () => (await observer.query(currentEvaluationQuery))?.state === 'happy',
        'happy',
      );
      const e = await observer.query(currentEvaluationQuery);
      expect(e?.carried.cycles).toBeGreaterThan(1);
      for (const id of Object.values(workflowIds(cluster))) {
        await env.client.workflow
          .getHandle(id)
          .terminate('test done')
          .catch(() => undefined);
      }
    });
  });
});

describe('ScheduledAssessmentWorkflow', () => {
  it("assesses the observer's stored evaluation (critical stays critical), and skips when one is recent", async () => {
    const cluster = 'wf-scheduled';
    scripts.set(cluster, new ScriptedSource([PERSISTENCE_DOWN]));
    const worker = await newWorker('tq-scheduled');
    await worker.runUntil(async () => {
      const observer = await env.client.workflow.start<typeof observeClusterWorkflow>(
        'observeClusterWorkflow',
        {
          taskQueue: 'tq-scheduled',
          workflowId: `observe-${cluster}`,
          args: [{ cluster, intervalMs: 1_000 }],
        },
      );
      await eventually(
        async () => (await observer.query(currentEvaluationQuery))?.state === 'critical',
        'critical',
      );
      const scheduled = await env.client.workflow.start<typeof scheduledAssessmentWorkflow>(
        'scheduledAssessmentWorkflow',
        {
          taskQueue: 'tq-scheduled',
          workflowId: `scheduled-${cluster}`,
          args: [{ cluster, intervalMs: 1_000, recentWindowMs: 0 }],
        },
      );
      await eventually(async () => {
        const rows =
          await store.sql`SELECT 1 FROM assessments WHERE cluster_id = ${clusterIdFor(cluster)} AND trigger = 'scheduled'`;
        return rows.length > 0;
      }, 'a scheduled assessment');
      await scheduled.terminate('test done');
      await observer.terminate('test done');
    });
    const rows = await store.sql<{ health_state: string }[]>`
      SELECT health_state FROM assessments WHERE cluster_id = ${clusterIdFor(cluster)} AND trigger = 'scheduled'`;
    expect(rows.every((r) => r.health_state === 'critical')).toBe(true);

    // Rounds that find the same evaluation again (the observer stopped) start no second child:
    // the child id names the evaluation, and the clash is handled, not a failed workflow task.
    const again = await env.client.workflow.start<typeof scheduledAssessmentWorkflow>(
      'scheduledAssessmentWorkflow',
      {
        taskQueue: 'tq-scheduled-again',
        workflowId: `scheduled-again-${cluster}`,
        args: [{ cluster, intervalMs: 500, recentWindowMs: 0 }],
      },
    );
    await (await newWorker('tq-scheduled-again')).runUntil(async () => {
      await eventually(async () => {
        const history = await again.fetchHistory();
        const rounds = (history.events ?? []).filter(
          (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'latestForSchedule',
        );
        return rounds.length >= 4;
      }, 'four scheduler rounds');
      const history = await again.fetchHistory();
      const failed = (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes);
      expect(failed).toHaveLength(0);
      await again.terminate('test done');
    });

    // The skip rule, through the activity the workflow asks.
    const activities = createActivities({ store, sourceFor: () => new ScriptedSource([HEALTHY]) });
    const now = Date.now();
    expect(
      (await activities.latestForSchedule({ cluster, at: now, recentWindowMs: 600_000 }))
        .recentAssessment,
    ).toBe(true);
    expect(
      (await activities.latestForSchedule({ cluster, at: now + 3_600_000, recentWindowMs: 60_000 }))
        .recentAssessment,
    ).toBe(false);
  });
});

describe('LogWatcherWorkflow', () => {
  it('persists narrative log-pattern counts from Loki every cycle', async () => {
    const cluster = 'wf-logs';
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const loki = await startFakeLoki([
      {
        labels: { job: 'temporal', service_name: 'history' },
        entries: Array.from(
          { length: 5 },
          (_, i) =>
            [
              nowNs + BigInt(i) * 1_000_000n,
              'persistence: SQLSTATE 40001 serialization failure',
            ] as const,
        ),
      },
    ]);
    const source = createLokiSource({ url: loki.url });
    const logs = lokiPatternSource(source);
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'tq-logs',
      workflowBundle: bundle,
      activities: createActivities({
        store,
        sourceFor: () => new ScriptedSource([HEALTHY]),
        logsFor: () => logs,
      }),
    });
    try {
      await worker.runUntil(async () => {
        const handle = await env.client.workflow.start<typeof logWatcherWorkflow>(
          'logWatcherWorkflow',
          {
            taskQueue: 'tq-logs',
            workflowId: `logs-${cluster}`,
            // A long window: the fake's lines are stamped at the test's start. The first
            // collection runs at once; the test stops the workflow before the second.
            args: [{ cluster, intervalMs: 600_000 }],
          },
        );
        await eventually(async () => {
          const rows =
            await store.sql`SELECT 1 FROM log_patterns WHERE cluster_id = ${clusterIdFor(cluster)}`;
          return rows.length > 0;
        }, 'log patterns');
        await handle.terminate('test done');
      });
    } finally {
      await source.close();
      await loki.close();
    }
    const rows = await store.sql<{ pattern_id: string; service: string; count: number }[]>`
      SELECT pattern_id, service, count FROM log_patterns WHERE cluster_id = ${clusterIdFor(cluster)} ORDER BY observed_at LIMIT 2`;
    expect(rows.map((r) => r.pattern_id).sort()).toEqual([
      'serialization_failure',
      'sqlstate_40001',
    ]);
    expect(rows.every((r) => r.service === 'history' && Number(r.count) === 5)).toBe(true);
  });
});

describe('retention', () => {
  it('prunes evaluations, log patterns, assessments and issues older than the retention window', async () => {
    const activities = createActivities({
      store,
      sourceFor: () => new ScriptedSource([HEALTHY]),
      retentionDays: 30,
    });
    const count = async (table: 'evaluations' | 'log_patterns' | 'assessments' | 'issues') =>
      ((await store.sql`SELECT count(*)::int AS n FROM ${store.sql(table)}`)[0] as { n: number }).n;
    const before = await count('evaluations');
    expect(before).toBeGreaterThan(0); // the tests above left cycles behind
    // At "now", nothing is 30 days old: nothing goes.
    expect((await activities.pruneHistory({ at: Date.now() })).deleted).toBe(0);
    expect(await count('evaluations')).toBe(before);
    // Thirty-one days on, everything written today is past the window.
    const patterns = await count('log_patterns');
    const assessments = await count('assessments');
    const issues = await count('issues');
    expect(assessments).toBeGreaterThan(0);
    const { deleted } = await activities.pruneHistory({ at: Date.now() + 31 * 86_400_000 });
    expect(deleted).toBe(before + patterns + assessments + issues);
    for (const table of ['evaluations', 'log_patterns', 'assessments', 'issues'] as const)
      expect(await count(table)).toBe(0);
  });
});
