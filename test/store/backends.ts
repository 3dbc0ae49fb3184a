import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_ENGINE_CONFIG } from '../../shared/health/config.js';
import type { Evaluation } from '../../shared/health/evaluation.js';
import { storedSignalsOf } from '../../shared/models/stored-evaluation.js';
import { openStore, type Store } from '../../shared/store/connection.js';
import { startEmbeddedStore } from '../../shared/store/embedded.js';
import type { EvaluationRecord } from '../../shared/store/writes.js';
import { CYCLE_MS, HEALTHY, repeat, run, snapshot, T0, withSpec } from '../helpers/snapshots.js';
import { startTestPostgres } from '../support/postgres.js';

/** The two databases the store suite runs against here (DSQL itself cannot run on this machine). */
export const BACKENDS = ['postgres', 'pglite'] as const;
export type Backend = (typeof BACKENDS)[number];

/** An open store on a fresh database of the given kind, and how to tear it all down. */
export async function startBackend(
  kind: Backend,
): Promise<{ store: Store; stop(): Promise<void> }> {
  if (kind === 'postgres') {
    const pg = await startTestPostgres();
    const store = await openStore({ dialect: 'postgres', url: pg.url, max: 5 });
    return {
      store,
      async stop() {
        await store.close();
        await pg.stop();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'copilot-pglite-'));
  const embedded = await startEmbeddedStore({ dataDir: dir, maxConnections: 8 });
  const store = await openStore({ dialect: 'pglite', url: embedded.url, max: 1 });
  return {
    store,
    async stop() {
      await store.close();
      await embedded.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A real engine run: 10 healthy cycles, then 6 with persistence latency far past its limit, then
 * 4 healthy again. The state changes at least twice, so the timeline has changes to find.
 */
export function engineRun(): {
  evaluations: Evaluation[];
  records: (clusterId: string) => EvaluationRecord[];
} {
  const pressure = withSpec(HEALTHY, { persistenceLatencyP99: 900 });
  const specs = [...repeat(HEALTHY, 10), ...repeat(pressure, 6), ...repeat(HEALTHY, 4)];
  const evaluations = run(specs);
  return {
    evaluations,
    records: (clusterId) =>
      evaluations.map((evaluation, i) => ({
        clusterId,
        workflowId: 'observe-cluster-test',
        runId: 'run-1',
        cycle: i,
        intervalMs: CYCLE_MS,
        evaluation,
        signals: storedSignalsOf(
          snapshot(specs[i] ?? HEALTHY, T0 + i * CYCLE_MS),
          DEFAULT_ENGINE_CONFIG.maxSampleAgeSec,
        ),
      })),
  };
}
