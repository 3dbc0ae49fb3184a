import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { freePort } from '../../worker/free-port.js';
import { findTemporalCli } from '../../worker/temporal-cli.js';
import { stopper } from './process.js';

/**
 * A real Temporal dev server (`temporal server start-dev`, CLI v1.5.1 bundling server 1.29) for one
 * test file: every port free on 127.0.0.1, SQLite in a temp dir, no UI. Tally metrics dialect
 * (the dev server configures no metrics framework).
 */
export interface TemporalDevServer {
  /** gRPC frontend `host:port`, for `Connection.connect({ address })`. */
  readonly address: string;
  /** `http://127.0.0.1:<port>/metrics`. */
  readonly metricsUrl: string;
  readonly namespace: string;
  /** The server's combined stdout/stderr so far (for failure messages). */
  log(): string;
  /** SIGTERM, then SIGKILL if it has not exited after 10 s; removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

export class DevServerError extends Error {
  constructor(
    message: string,
    /** The process exited while starting (e.g. a port taken between picking and binding). */
    readonly exitedEarly = false,
  ) {
    super(message);
    this.name = 'DevServerError';
  }
}

/** The part of the server's output that says why it died: the panic when there is one. */
function why(output: string): string {
  const panic = output.indexOf('panic:');
  return panic >= 0 ? output.slice(panic, panic + 1500) : output.slice(-1500);
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitReady(
  child: ChildProcess,
  address: string,
  metricsUrl: string,
  log: () => string,
): Promise<void> {
  // Bounded by attempts (≈ 60 s), never asserted on: the server is usually up in 2–5 s.
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) {
      throw new DevServerError(
        `temporal dev server exited with ${child.exitCode}: ${why(log())}`,
        true,
      );
    }
    try {
      const conn = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await conn.workflowService.getSystemInfo({});
      } finally {
        await conn.close();
      }
      const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(2000) });
      await res.text();
      if (res.ok) return;
    } catch {
      // not ready yet
    }
    await pause(250);
  }
  throw new DevServerError(`temporal dev server did not become ready: ${log().slice(-1500)}`);
}

type StartOptions = { namespace?: string; extraArgs?: readonly string[] };

/**
 * Starts a dev server, retrying with new ports when it dies while starting: ports are picked free
 * and then bound by the server (which picks its internal membership ports the same way), so a
 * test file starting its own server at the same moment can take one in between. Seen once in CI.
 */
export async function startTemporalDevServer(
  options: StartOptions = {},
): Promise<TemporalDevServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      if (!(error instanceof DevServerError && error.exitedEarly) || attempt >= 3) throw error;
    }
  }
}

async function startOnce(options: StartOptions): Promise<TemporalDevServer> {
  const cli = findTemporalCli();
  const dir = await mkdtemp(join(tmpdir(), 'copilot-temporal-'));
  const [port, httpPort, metricsPort, uiPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const namespace = options.namespace ?? 'default';
  const args = [
    'server',
    'start-dev',
    '--headless',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--http-port',
    String(httpPort),
    '--metrics-port',
    String(metricsPort),
    '--ui-port',
    String(uiPort),
    '--db-filename',
    join(dir, 'temporal.sqlite'),
    '--log-level',
    'warn',
    ...(namespace === 'default' ? [] : ['--namespace', namespace]),
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const log = () => output;
  const address = `127.0.0.1:${port}`;
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const stop = stopper(child, dir);
  try {
    await waitReady(child, address, metricsUrl, log);
  } catch (error) {
    await stop();
    throw error;
  }
  return { address, metricsUrl, namespace, log, stop };
}
