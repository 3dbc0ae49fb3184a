import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../worker/free-port.js';
import { stopper } from './process.js';

/**
 * A real Prometheus (Debian's `prometheus`, 2.42) that *scrapes* live targets — unlike
 * `prometheus.ts`, which loads OpenMetrics blocks — on a free 127.0.0.1 port with an empty TSDB in
 * a temp dir. For differential tests of the direct-scrape evaluator: both read the same
 * expositions. One per test file; the machine is small and shared.
 */
export interface ScrapingPrometheus {
  readonly url: string;
  /** Instant query at `timeSec`; the raw `data.result` vector. */
  query(expr: string, timeSec: number): Promise<VectorSample[]>;
  stop(): Promise<void>;
}

export interface VectorSample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

export class PrometheusScraperError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PrometheusScraperError';
  }
}

const PROMETHEUS = process.env.PROMETHEUS_BIN ?? 'prometheus';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts Prometheus scraping `targets` (`host:port`) at `metricsPath` every `scrapeIntervalSec`.
 * `honor_timestamps` is on (the default): a target may pin its samples' times, which is how a
 * differential test makes both sides see samples at the same instants.
 */
export async function startScrapingPrometheus(options: {
  targets: readonly string[];
  metricsPath?: string;
  scrapeIntervalSec?: number;
}): Promise<ScrapingPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'copilot-prom-scrape-'));
  const port = await freePort();
  const interval = options.scrapeIntervalSec ?? 1;
  const config = [
    'global:',
    `  scrape_interval: ${interval}s`,
    `  scrape_timeout: ${interval}s`,
    'scrape_configs:',
    '  - job_name: differential',
    `    metrics_path: ${options.metricsPath ?? '/metrics'}`,
    '    honor_timestamps: true',
    '    static_configs:',
    `      - targets: [${options.targets.map((t) => `'${t}'`).join(', ')}]`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'prometheus.yml'), config);
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const append = (c: Buffer) => {
    output = (output + c.toString('utf8')).slice(-10_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  child.once('error', (e) => append(Buffer.from(String(e))));
  const url = `http://127.0.0.1:${port}`;
  const stop = stopper(child, dir);
  // Bounded by attempts (≈ 30 s), never asserted on: Prometheus is ready in about a second.
  let ready = false;
  for (let i = 0; i < 120 && !ready; i++) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`${url}/-/ready`);
      await res.text();
      ready = res.ok;
    } catch {
      // not listening yet
    }
    if (!ready) await pause(250);
  }
  if (!ready) {
    await stop();
    throw new PrometheusScraperError(`prometheus did not become ready: ${output.slice(-1000)}`);
  }
  return {
    url,
    async query(expr, timeSec) {
      const q = new URLSearchParams({ query: expr, time: String(timeSec) });
      const res = await fetch(`${url}/api/v1/query?${q}`);
      const body = (await res.json()) as {
        status: string;
        error?: string;
        data?: { resultType: string; result: VectorSample[] };
      };
      if (body.status !== 'success' || body.data?.resultType !== 'vector') {
        throw new PrometheusScraperError(`query ${expr} failed: ${body.error ?? res.status}`);
      }
      return body.data.result;
    },
    stop,
  };
}
