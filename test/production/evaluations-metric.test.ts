import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../shared/store/connection.js';
import { runMigrations } from '../../shared/store/migrations.js';
import { createActivities } from '../../worker/activities/index.js';
import type { ObserveCycleInput, ObserveCycleOutput } from '../../worker/activities/types.js';
import { emfMetrics, evaluationsStoredEmf } from '../../worker/metrics.js';
import type { SignalSource } from '../../worker/sources/types.js';
import { HEALTHY, snapshot, T0 } from '../helpers/snapshots.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';

/*
 * The worker's CloudWatch metric, which the "no evaluation written for 3 intervals" alarm
 * watches: one EMF line per evaluation newly stored, with exactly the namespace, metric, unit and
 * dimension the alarm names, and none for a cycle whose row was not written by it.
 */

describe('evaluationsStoredEmf', () => {
  it('is the EMF document the alarm reads: namespace, metric, Count, one Cluster dimension', () => {
    expect(JSON.parse(evaluationsStoredEmf('prod-eu', 1_796_000_000_000))).toEqual({
      _aws: {
        Timestamp: 1_796_000_000_000,
        CloudWatchMetrics: [
          {
            Namespace: 'TemporalSreCopilot',
            Dimensions: [['Cluster']],
            Metrics: [{ Name: 'EvaluationsStored', Unit: 'Count' }],
          },
        ],
      },
      Cluster: 'prod-eu',
      EvaluationsStored: 1,
    });
  });

  it('is written as one line, stamped when it is written', () => {
    const lines: string[] = [];
    emfMetrics(
      (line) => lines.push(line),
      () => 42,
    ).evaluationStored('a/b:c');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    expect(lines[0]?.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ _aws: { Timestamp: 42 }, Cluster: 'a/b:c' });
  });
});

describe('observeCycle reports EvaluationsStored', () => {
  let pg: TestPostgres;
  let store: Store;
  const source: SignalSource = {
    kind: 'fixed',
    snapshot: async (at) => snapshot(HEALTHY, at),
    close: async () => {},
  };

  beforeAll(async () => {
    pg = await startTestPostgres();
    store = await openStore({ dialect: 'postgres', url: pg.url });
    await runMigrations(store.sql, store.dialect);
  });
  afterAll(async () => {
    await store?.close();
    await pg?.stop();
  });

  /** The activity with a recording metric, over `on` (default: the test's store). */
  function observer(on: Store = store, from: SignalSource = source) {
    const reported: string[] = [];
    const activities = createActivities({
      store: on,
      sourceFor: () => from,
      metrics: { evaluationStored: (cluster) => reported.push(cluster) },
    });
    const observe = (input: ObserveCycleInput) =>
      new MockActivityEnvironment().run<[ObserveCycleInput], ObserveCycleOutput, typeof fn>(
        fn,
        input,
      );
    const fn = activities.observeCycle;
    return { reported, observe };
  }

  const cycle = (at: number, observerId = 'copilot-observe-metric'): ObserveCycleInput => ({
    cluster: 'metric',
    observerId,
    runId: 'run-1',
    cycle: 1,
    carried: null,
    at,
    intervalMs: 30_000,
  });

  it('reports a new row once; a retry of the same cycle (duplicate) reports nothing', async () => {
    const { reported, observe } = observer();
    expect((await observe(cycle(T0))).stored).toBe('inserted');
    expect(reported).toEqual(['metric']);
    expect((await observe(cycle(T0))).stored).toBe('duplicate');
    expect(reported).toEqual(['metric']);
  });

  it('reports nothing when another writer stored the instant first (conflict)', async () => {
    const first = observer();
    expect((await first.observe(cycle(T0 + 30_000))).stored).toBe('inserted');
    const second = observer();
    const out = await second.observe(cycle(T0 + 30_000, 'copilot-observe-other'));
    expect(out.stored).toBe('conflict');
    expect(second.reported).toEqual([]);
  });

  it('reports nothing for a blind cycle: stored as unknown, but the copilot saw nothing', async () => {
    const dead: SignalSource = {
      kind: 'dead',
      snapshot: async () => {
        throw new Error('connection refused');
      },
      close: async () => {},
    };
    const { reported, observe } = observer(store, dead);
    const out = await observe(cycle(T0 + 90_000));
    expect(out.stored).toBe('inserted');
    expect(out.summary).toMatchObject({ state: 'unknown', reason: 'no_progress_data' });
    expect(reported).toEqual([]);
  });

  it('reports nothing when the write failed', async () => {
    const closed = await openStore({ dialect: 'postgres', url: pg.url });
    await closed.close();
    const { reported, observe } = observer(closed);
    expect((await observe(cycle(T0 + 60_000))).stored).toBe('failed');
    expect(reported).toEqual([]);
  });
});
