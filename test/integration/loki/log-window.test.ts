import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../shared/store/connection.js';
import { startEmbeddedStore } from '../../../shared/store/embedded.js';
import { clusterIdFor } from '../../../shared/store/ids.js';
import { runMigrations } from '../../../shared/store/migrations.js';
import { createActivities } from '../../../worker/activities/index.js';
import { lokiPatternSource } from '../../../worker/activities/log-patterns.js';
import { createLokiSource } from '../../../worker/sources/loki.js';
import type { SignalSource } from '../../../worker/sources/types.js';
import { type FakeLoki, startFakeLoki } from '../../support/loki-server.js';

/**
 * The log window is the log watcher's: `collectLogPatterns({ at, windowMs })` must make Loki
 * search `[at - windowMs, at)` and nothing else — the source has no lookback of its own. The whole
 * path the worker runs: the activity, the Loki adapter, the Loki source, a Loki speaking the wire
 * format, and an in-memory embedded store for the rows.
 */

const AT = 1_764_288_000_000;
const ns = (ms: number) => BigInt(ms) * 1_000_000n;
const noMetrics = {} as SignalSource; // the log activity never asks for metrics

let loki: FakeLoki;
let store: Store;
let closeEmbedded: () => Promise<void>;

beforeAll(async () => {
  loki = await startFakeLoki([
    {
      labels: { job: 'temporal', service_name: 'history' },
      entries: [
        // In a 30 s window ending at AT…
        [ns(AT - 1_000), 'SQLSTATE 40001 newest'],
        [ns(AT - 29_000), 'sqlstate 40001 oldest in the window'],
        [ns(AT - 30_000), 'SQLSTATE 40001 exactly at the start (start is inclusive)'],
        // …and not: just before it, and at its end (end is exclusive).
        [ns(AT - 30_001), 'SQLSTATE 40001 a millisecond too old'],
        [ns(AT - 45_000), 'SQLSTATE 40001 in a 60 s lookback only'],
        [ns(AT), 'SQLSTATE 40001 at the evaluation instant'],
      ],
    },
  ]);
  const embedded = await startEmbeddedStore({ dataDir: 'memory://', maxConnections: 1 });
  store = await openStore({ dialect: 'pglite', url: embedded.url, max: 1 });
  await runMigrations(store.sql, 'pglite');
  closeEmbedded = () => embedded.close();
});

afterAll(async () => {
  await store?.close();
  await closeEmbedded?.();
  await loki?.close();
});

describe('collectLogPatterns', () => {
  it('asks Loki for exactly the window the workflow asks for, and stores what is in it', async () => {
    // Prepare
    const source = createLokiSource({ url: loki.url });
    const activities = createActivities({
      store,
      sourceFor: () => noMetrics,
      logsFor: () => lokiPatternSource(source),
    });
    // Act
    const out = await activities.collectLogPatterns({
      cluster: 'log-window',
      at: AT,
      windowMs: 30_000,
    });
    // Assess: every selector's query covers [at - windowMs, at), in nanoseconds.
    expect(out).toEqual({ ok: true, patterns: 1 });
    expect(loki.requests).toHaveLength(2); // one per default selector
    for (const p of loki.requests) {
      expect([p.get('start'), p.get('end')]).toEqual([`${ns(AT - 30_000)}`, `${ns(AT)}`]);
    }
    const rows = await store.sql<{ pattern_id: string; count: number; sample: string }[]>`
      SELECT pattern_id, count, sample FROM log_patterns
      WHERE cluster_id = ${clusterIdFor('log-window')}`;
    expect(rows.map((r) => [r.pattern_id, Number(r.count), r.sample])).toEqual([
      ['sqlstate_40001', 3, 'SQLSTATE 40001 newest'],
    ]);

    // A different window is a different query: the window follows the workflow's interval.
    loki.requests.length = 0;
    await activities.collectLogPatterns({
      cluster: 'log-window',
      at: AT + 60_000,
      windowMs: 5_000,
    });
    expect(loki.requests).toHaveLength(2);
    for (const p of loki.requests) {
      expect([p.get('start'), p.get('end')]).toEqual([`${ns(AT + 55_000)}`, `${ns(AT + 60_000)}`]);
    }
    await source.close();
  });
});
