import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { buildWorker } from '../scripts/build.js';
import { openStore } from '../shared/store/connection.js';
import { runMigrations } from '../shared/store/migrations.js';
import { generateOpenMetrics, HEALTHY_LOAD } from '../test/fixtures/openmetrics/scenarios.js';
import { startTestPostgres } from '../test/support/postgres.js';
import { startPrometheus } from '../test/support/prometheus.js';
import { startTemporalDevServer } from '../test/support/temporal-dev-server.js';
import { workflowIds } from '../worker/starter.js';
import { describeFootprint, historyFootprint } from './history.bench.js';

/*
 * The production worker, as its image runs it: `npm run build`'s dist/worker started as
 * `node main.mjs` in its own process, with only its environment, observing 1, 10 and 50
 * clusters of a Prometheus fixture (the healthy scenario, ~250 series, its samples spanning the
 * run so every "now" query finds data), against a real Temporal dev server and PostgreSQL. The
 * cadence is compressed (30 s in production) so a few minutes hold many cycles; CPU is reported
 * per observed cluster-cycle and converted back to the 30 s cadence. RSS and CPU are read from
 * /proc, as the ECS agent reads the container's.
 */

/** One run: how many clusters, at what compressed cadence, for how long. */
interface Run {
  readonly clusters: number;
  readonly cadenceSec: number;
  readonly warmupSec: number;
  readonly measureSec: number;
}

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

/**
 * The single-cluster run is the soak: 120 cycles, an hour of production cycles, at 3 s (or
 * COPILOT_BENCH_SOAK_CADENCE / COPILOT_BENCH_SOAK_MIN for a real-time hour: 30 and 60). Fifty
 * clusters get a 10 s cadence: 50 × 61 queries every 3 s would measure this machine's
 * Prometheus, not the worker. COPILOT_BENCH_CADENCE / COPILOT_BENCH_MEASURE_MIN set both for the
 * 10- and 50-cluster runs: compression multiplies the allocation rate, and V8, collecting lazily,
 * turns that into resident memory, so the compressed figures are an upper bound of the 30 s ones.
 */
function runs(): Run[] {
  const soakCadence = num('COPILOT_BENCH_SOAK_CADENCE', 3);
  const soakMin = num('COPILOT_BENCH_SOAK_MIN', (120 * soakCadence) / 60);
  const cadence = Number(process.env.COPILOT_BENCH_CADENCE) || undefined;
  const measureMin = Number(process.env.COPILOT_BENCH_MEASURE_MIN) || undefined;
  const only = process.env.COPILOT_BENCH_CLUSTERS?.split(',').map(Number);
  const many = (clusters: number, cadenceSec: number, warmupSec: number, measureSec: number) => ({
    clusters,
    cadenceSec: cadence ?? cadenceSec,
    warmupSec,
    measureSec: measureMin === undefined ? measureSec : measureMin * 60,
  });
  return [
    { clusters: 1, cadenceSec: soakCadence, warmupSec: 30, measureSec: soakMin * 60 },
    many(10, 3, 30, 120),
    many(50, 10, 60, 180),
  ].filter((r) => only === undefined || only.includes(r.clusters));
}

const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s

/** Resident memory (MiB) and CPU time (s, user + system) of a process, from /proc. */
function sample(pid: number): { rssMiB: number; cpuSec: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  // Fields after the command name (which may hold spaces, inside parentheses).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  return { rssMiB: rssKiB / 1024, cpuSec: ticks / CLK_TCK };
}

const pct = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Fargate's CPU units and the memory sizes (MiB) each allows. */
const FARGATE: ReadonlyArray<readonly [number, readonly number[]]> = [
  [256, [512, 1024, 2048]],
  [512, [1024, 2048, 3072, 4096]],
  [1024, [2048, 3072, 4096, 5120, 6144, 7168, 8192]],
  [2048, [4096, 5120, 6144, 7168, 8192, 10240, 12288, 14336, 16384]],
];

/**
 * The smallest Fargate size with the memory of the peak RSS plus half again (V8 grows its heap
 * between collections, and a cycle's garbage comes in bursts) and CPU units for twice the
 * 30 s-cadence average (cycles are bursts too).
 */
export function fargateSize(peakRssMiB: number, cpuPctAt30s: number): string {
  const memory = peakRssMiB * 1.5;
  const units = ((cpuPctAt30s * 2) / 100) * 1024;
  for (const [cpu, sizes] of FARGATE) {
    if (cpu < units) continue;
    const mem = sizes.find((m) => m >= memory);
    if (mem !== undefined) return `${cpu} CPU units / ${mem} MiB`;
  }
  return 'larger than 2 vCPU / 16 GiB';
}

export async function workerBench(): Promise<string[]> {
  const lines: string[] = [];
  // Per process: a second bench (a real-time hour beside a quick run) must not rebuild the
  // directory a running worker loads its packages from.
  const out = resolve(`.cache/bench/worker-${process.pid}`);
  const built = await buildWorker(out);
  lines.push(
    `build: main.mjs ${(built.bytes / 1024).toFixed(0)} KiB, workflow-bundle.js ${(built.workflowBundleBytes / 1024).toFixed(0)} KiB, ${built.packages.length} packages copied for ${built.externals.join(', ')}`,
  );
  const plan = runs();
  const totalMin = plan.reduce((m, r) => m + (r.warmupSec + r.measureSec) / 60 + 2, 0);
  // The fixture spans the whole bench, from 15 minutes before it (the 5-minute windows and the
  // band's look-back find data from the first cycle).
  const start = Math.floor(Date.now() / 30_000) * 30 - 15 * 60;
  const fixture = generateOpenMetrics(
    { id: 'bench-worker', durationMin: 15 + totalMin + 10, at: () => HEALTHY_LOAD },
    { server: 'tally', sdk: 'core', startSec: start, intervalSec: 15 },
  );
  const [pg, temporal, prom] = await Promise.all([
    startTestPostgres(),
    startTemporalDevServer(),
    startPrometheus([fixture]),
  ]);
  const store = await openStore({ dialect: 'postgres', url: pg.url });
  await runMigrations(store.sql, store.dialect);
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  try {
    for (const run of plan) {
      const names = Array.from({ length: run.clusters }, (_, i) => `bench-${run.clusters}-${i}`);
      const child: ChildProcess = spawn(process.execPath, [built.file], {
        env: {
          PATH: process.env.PATH,
          TEMPORAL_ADDRESS: temporal.address,
          TEMPORAL_TASK_QUEUE: `bench-${run.clusters}`,
          COPILOT_DATABASE_URL: pg.url,
          COPILOT_INTERVAL_SECONDS: String(run.cadenceSec),
          COPILOT_CLUSTERS: JSON.stringify(
            names.map((name) => ({ name, prometheusUrl: prom.url })),
          ),
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr?.on('data', (b: Buffer) => {
        stderr = (stderr + b.toString()).slice(-4000);
      });
      const pid = child.pid as number;
      await sleep(run.warmupSec * 1000);
      if (child.exitCode !== null) throw new Error(`worker exited: ${stderr}`);
      const since = new Date();
      const first = sample(pid);
      const t0 = performance.now();
      const rss: number[] = [];
      const byMinute: number[][] = [];
      while (performance.now() - t0 < run.measureSec * 1000) {
        await sleep(2_000);
        const s = sample(pid);
        rss.push(s.rssMiB);
        const minute = Math.floor((performance.now() - t0) / 60_000);
        const bucket = byMinute[minute] ?? [];
        bucket.push(s.rssMiB);
        byMinute[minute] = bucket;
      }
      const last = sample(pid);
      const wallSec = (performance.now() - t0) / 1000;
      const rows = await store.sql<{ observed_at: Date; recorded_at: Date }[]>`
        SELECT observed_at, recorded_at FROM evaluations
        WHERE recorded_at >= ${since} AND workflow_id LIKE ${`copilot-observe-bench-${run.clusters}-%`}`;
      const history =
        run.clusters === 1
          ? historyFootprint(
              await client.workflow
                .getHandle(workflowIds(names[0] as string).observer)
                .fetchHistory(),
            )
          : undefined;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));

      const latency = rows.map((r) => r.recorded_at.getTime() - r.observed_at.getTime());
      const cpuSec = last.cpuSec - first.cpuSec;
      const clusterCycles = rows.length;
      const cpuPerCycleMs = (cpuSec * 1000) / Math.max(1, clusterCycles);
      const cpuPctAt30s = ((cpuPerCycleMs / 1000) * run.clusters * 100) / 30;
      const peak = Math.max(...rss);
      const minutes = byMinute.map((m) => pct(m, 50).toFixed(0));
      lines.push(
        `${run.clusters} cluster${run.clusters === 1 ? '' : 's'} at a ${run.cadenceSec} s cadence, ${(wallSec / 60).toFixed(1)} min measured after ${run.warmupSec} s: ` +
          `${clusterCycles} evaluations stored (${(clusterCycles / run.clusters).toFixed(0)} cycles per cluster = ${((clusterCycles / run.clusters) * 0.5).toFixed(0)} min of 30 s cycles); ` +
          `RSS median ${pct(rss, 50).toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB; ` +
          `CPU ${((cpuSec / wallSec) * 100).toFixed(1)} % of a core at this cadence = ${cpuPerCycleMs.toFixed(0)} ms per cluster-cycle ≈ ${cpuPctAt30s.toFixed(1)} % at 30 s; ` +
          `cycle latency (instant → stored) p50 ${pct(latency, 50).toFixed(0)} ms, p99 ${pct(latency, 99).toFixed(0)} ms; ` +
          `Fargate: ${fargateSize(peak, cpuPctAt30s)}`,
      );
      if (run.clusters === 1) {
        lines.push(`1 cluster, RSS median by minute (MiB): ${minutes.join(', ')}`);
        if (history !== undefined)
          lines.push(describeFootprint('observer history in steady state', history));
      }
    }
  } finally {
    await connection.close();
    await store.close();
    await Promise.all([temporal.stop(), prom.stop(), pg.stop()]);
    rmSync(out, { recursive: true, force: true });
  }
  return lines;
}
