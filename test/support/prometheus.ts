import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { messageOf } from '../../shared/errors.js';
import { freePort } from '../../worker/free-port.js';
import { stopper } from './process.js';

const run = promisify(execFile);

/**
 * A real Prometheus (Debian's `prometheus` and `promtool`, see ../shared/reference/toolchain.md §6)
 * loaded with OpenMetrics documents through `promtool tsdb create-blocks-from openmetrics`, on a
 * free loopback port. One per test file: the machine is small and shared.
 */
export interface LocalPrometheus {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  stop(): Promise<void>;
}

export class PrometheusHarnessError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PrometheusHarnessError';
  }
}

const PROMETHEUS = process.env.PROMETHEUS_BIN ?? 'prometheus';
const PROMTOOL = process.env.PROMTOOL_BIN ?? 'promtool';

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  // Bounded by attempts, not by a timed assertion: Prometheus is ready in about a second.
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) {
      throw new PrometheusHarnessError(
        `prometheus exited with ${child.exitCode}: ${log().slice(-800)}`,
      );
    }
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new PrometheusHarnessError(`prometheus at ${url} never became ready: ${log().slice(-800)}`);
}

/** Backfills each document into a fresh TSDB and starts Prometheus on it. */
export async function startPrometheus(documents: readonly string[]): Promise<LocalPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'copilot-prom-'));
  const tsdb = join(dir, 'tsdb');
  try {
    for (const [i, doc] of documents.entries()) {
      const file = join(dir, `fixture-${i}.om`);
      await writeFile(file, doc);
      await run(PROMTOOL, ['tsdb', 'create-blocks-from', 'openmetrics', file, tsdb], {
        maxBuffer: 16 * 2 ** 20,
      });
      await rm(file);
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    const message = messageOf(error);
    throw new PrometheusHarnessError(`promtool backfill failed: ${message.slice(0, 800)}`);
  }
  const config = join(dir, 'prometheus.yml');
  await writeFile(config, 'global:\n  scrape_interval: 15s\nscrape_configs: []\n');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child = spawn(
    PROMETHEUS,
    [
      `--storage.tsdb.path=${tsdb}`,
      `--config.file=${config}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // The fixtures are dated in the past; retention must not delete them on start.
      '--storage.tsdb.retention.time=100y',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (e) =>
      reject(new PrometheusHarnessError(`cannot start prometheus: ${e.message}`)),
    ),
  );
  const stop = stopper(child, dir);
  try {
    await Promise.race([waitReady(url, child, () => output), spawnError]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, port, dir, stop };
}

export { freePort };
