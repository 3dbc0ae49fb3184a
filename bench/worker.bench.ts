import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadWorkerSettings } from '../worker/config.js';
import { freePort } from '../worker/free-port.js';
import { createConfiguredSource, createRuntime, openConfiguredStore } from '../worker/runtime.js';
import type { SignalSource } from '../worker/sources/types.js';
import { startCopilotWorkflows, workflowIds } from '../worker/starter.js';
import { findTemporalCli } from '../worker/temporal-cli.js';
import { describeFootprint, historyFootprint } from './history.bench.js';

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

/**
 * The worker in steady state, as `copilot dev` runs it: a real Temporal dev server, the embedded
 * PGlite store, the direct-scrape source on the server's own /metrics, a 2 s cadence (compressed
 * from 30 s so a minute holds ~30 cycles). Reports end-to-end cycle latency (from the cycle's
 * instant to its evaluation being readable in the store), the source's share of it, and the
 * worker process's memory and CPU.
 */
export async function workerBench(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'copilot-bench-worker-'));
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const metricsPort = await freePort();
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: findTemporalCli() },
      extraArgs: ['--metrics-port', String(metricsPort)],
    },
  });
  const settings = loadWorkerSettings({
    COPILOT_DATA_DIR: join(dir, 'data'),
    COPILOT_INTERVAL_SECONDS: '2',
  });
  const storeHandle = await openConfiguredStore(settings);
  const real = createConfiguredSource(settings, [`http://127.0.0.1:${metricsPort}/metrics`]);
  const sourceMs: number[] = [];
  const source: SignalSource = {
    kind: real.kind,
    async snapshot(at, signals) {
      const t = performance.now();
      try {
        return await real.snapshot(at, signals);
      } finally {
        sourceMs.push(performance.now() - t);
      }
    },
    close: () => real.close(),
  };
  const runtime = await createRuntime(settings, {
    address: env.connection.options.address,
    store: storeHandle.store,
    source,
    root: process.cwd(),
  });
  const running = runtime.run();
  await startCopilotWorkflows(runtime.client, {
    cluster: 'bench',
    taskQueue: settings.env.TEMPORAL_TASK_QUEUE,
    intervalMs: settings.intervalMs,
    engineConfig: {},
    logsEnabled: false,
  });

  // Warm up (webpack bundle, first scrapes, PGlite caches), then measure for a minute.
  await new Promise((r) => setTimeout(r, 15_000));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const since = new Date();
  sourceMs.length = 0;
  const rss: number[] = [];
  const heap: number[] = [];
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    rss.push(m.rss / 2 ** 20);
    heap.push(m.heapUsed / 2 ** 20);
  }, 1_000);
  await new Promise((r) => setTimeout(r, 60_000));
  clearInterval(sampler);
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;

  const rows = await storeHandle.store.sql<{ observed_at: Date; recorded_at: Date }[]>`
    SELECT observed_at, recorded_at FROM evaluations WHERE observed_at >= ${since} ORDER BY observed_at`;
  const latency = rows.map((r) => r.recorded_at.getTime() - r.observed_at.getTime());
  // What each cycle costs the observer's own history, in steady state (no state change).
  const history = await runtime.client.workflow
    .getHandle(workflowIds('bench').observer)
    .fetchHistory();
  const footprint = historyFootprint(history);

  runtime.shutdown();
  await running.catch(() => undefined);
  await runtime.close();
  await storeHandle.close();
  await env.teardown();
  rmSync(dir, { recursive: true, force: true });

  const cpuPct = ((cpu.user + cpu.system) / 1000 / wallMs) * 100;
  return [
    `${rows.length} cycles in ${(wallMs / 1000).toFixed(0)} s at a 2 s cadence (dev server + PGlite + direct scrape of the server's /metrics, in one process with the worker)`,
    `cycle latency, cycle instant → evaluation stored: p50 ${pct(latency, 50).toFixed(0)} ms, p99 ${pct(latency, 99).toFixed(0)} ms, max ${Math.max(...latency).toFixed(0)} ms`,
    `of which the source (scrape + parse + all catalog measures): p50 ${pct(sourceMs, 50).toFixed(0)} ms, p99 ${pct(sourceMs, 99).toFixed(0)} ms`,
    describeFootprint('observer history in steady state', footprint),
    `worker process: RSS ${pct(rss, 50).toFixed(0)} MiB median (max ${Math.max(...rss).toFixed(0)}), heap used ${pct(heap, 50).toFixed(0)} MiB median; CPU ${cpuPct.toFixed(1)} % of one core (user+system over the minute)`,
  ];
}
