import type { Command } from 'commander';
import { localApiKey } from '../../lambda/common/env.js';
import { messageOf } from '../../shared/errors.js';
import { openAnyStoreTarget } from '../../shared/store/embedded.js';
import {
  DEFAULT_DATA_DIR,
  type DevStack,
  DevStackError,
  type DevStackEvent,
  startDevStack,
} from '../../worker/dev-stack.js';
import { runWorker } from '../../worker/main.js';
import { CliError } from '../cli-support.js';
import { toLine } from '../report.js';

interface DevOptions {
  readonly dataDir?: string;
  readonly interval?: string;
  readonly apiPort: string;
  readonly demo?: boolean;
  readonly demoStarveAfter?: string;
  readonly demoRecoverAfter?: string;
}

function seconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new CliError(`${flag} must be a number of seconds, got ${value}`, 2);
  return n;
}

function port(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new CliError(`${flag} must be a TCP port (0 picks a free one), got ${value}`, 2);
  return n;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function warn(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The line for each event: the output `npm start` shows (README, "What a new user sees"). */
function lineOf(event: DevStackEvent): string {
  switch (event.kind) {
    case 'temporal-starting':
      return `copilot dev: starting a Temporal dev server (metrics on :${event.metricsPort}) …`;
    case 'store-note':
      return `copilot dev: ${event.note}`;
    case 'worker-ready':
      return `copilot dev: Temporal at ${event.address}, store: ${event.store}, metrics: ${event.metrics}\ncopilot dev: explanations: ${event.explainer}`;
    case 'explained':
      return (
        `copilot dev: explained (${event.explainer}${event.fallbackReason === null ? '' : `; fallback: ${event.fallbackReason}`}): ${event.summary}` +
        (event.sources.length === 0 ? '' : `\ncopilot dev:   runbooks: ${event.sources.join(', ')}`)
      );
    case 'api-ready':
      return `copilot dev: JSON API on ${event.url} (try ${event.url}/status)`;
    case 'observing':
      return `copilot dev: observing cluster "${event.cluster}" every ${event.intervalMs / 1000}s — one line per cycle`;
    case 'demo-running':
      return (
        'copilot dev: demo running — orders in namespace "demo"' +
        (process.stdin.isTTY ? '; press s to starve or recover its workers' : '')
      );
    case 'demo-switched':
      return `copilot dev: demo workers ${event.starved ? 'STARVED (1 activity slot)' : 'back (50 slots)'} (${event.why})`;
    case 'demo-switch-failed':
      return `copilot dev: demo switch failed: ${event.message}`;
    case 'evaluation':
      return JSON.stringify(toLine(event.evaluation));
    case 'stop-failed':
      return `copilot dev: could not stop the ${event.part}: ${event.message}`;
  }
}

/** Progress and evaluations on stdout; what went wrong or needs attention on stderr. */
function print(event: DevStackEvent): void {
  const line = lineOf(event);
  if (event.kind === 'store-note' || event.kind === 'stop-failed') warn(line);
  else say(line);
}

/** What the user can do about a failed part, in the flags of this command. */
const HINTS: Partial<Record<DevStackError['part'], string>> = {
  api: ' (choose another with --api-port)',
};

/** With --demo on a terminal: `s` toggles the demo; raw mode swallows Ctrl-C, so re-raise it. */
function listenForKeys(stack: DevStack): () => void {
  const demo = stack.demo;
  if (demo === null || !process.stdin.isTTY) return () => {};
  process.stdin.setRawMode(true);
  process.stdin.resume();
  const onKey = (key: Buffer) => {
    const k = key.toString();
    if (k === 's') void demo.toggle('key s');
    if (k === '\u0003') process.kill(process.pid, 'SIGINT');
  };
  process.stdin.on('data', onKey);
  return () => {
    process.stdin.off('data', onKey);
    process.stdin.setRawMode(false);
    process.stdin.pause();
  };
}

/**
 * `copilot dev`: the whole copilot on one machine (`startDevStack`): a local Temporal dev server,
 * the embedded PGlite store, the worker and its workflows, the JSON API — observing the dev
 * server's own `/metrics` unless PROMETHEUS_URL / AMP_WORKSPACE_URL / COPILOT_SCRAPE_URLS point
 * elsewhere. Prints each cycle's evaluation. Ctrl-C or SIGTERM stops everything, also while it
 * is still starting; a part that fails to start stops the parts before it.
 */
export function registerDevCommands(program: Command): void {
  program
    .command('worker')
    .description(
      'run the production worker against TEMPORAL_ADDRESS (configuration from the environment)',
    )
    .action(async () => {
      // From the CLI the embedded store opens too; the worker image opens server stores only.
      await runWorker(process.env, { openStore: openAnyStoreTarget }); // ConfigError: exit 2
    });

  program
    .command('dev')
    .description(
      'run the copilot locally: Temporal dev server, embedded store, worker, API (Ctrl-C stops)',
    )
    .option(
      '--data-dir <dir>',
      `the embedded store's directory, as for every command (env COPILOT_DATA_DIR; default ${DEFAULT_DATA_DIR}); the Temporal dev server keeps temporal.db beside it`,
    )
    .option('--interval <seconds>', 'observation cadence in seconds (COPILOT_INTERVAL_SECONDS)')
    .option(
      '--api-port <port>',
      'port of the local JSON API on 127.0.0.1 (0 picks a free one)',
      '8080',
    )
    .option(
      '--demo',
      'run a demo workload in a `demo` namespace; press s to starve its workers, again to recover',
    )
    .option(
      '--demo-starve-after <seconds>',
      'with --demo: starve the demo workers after this many seconds',
    )
    .option(
      '--demo-recover-after <seconds>',
      'with --demo: bring the demo workers back after this many seconds',
    )
    .action(async (opts: DevOptions) => {
      const intervalSeconds = seconds(opts.interval, '--interval');
      const apiPort = port(opts.apiPort, '--api-port');
      const demoStarveAfterSeconds = seconds(opts.demoStarveAfter, '--demo-starve-after');
      const demoRecoverAfterSeconds = seconds(opts.demoRecoverAfter, '--demo-recover-after');
      const apiKey = localApiKey(process.env, '127.0.0.1');

      // Listening from the start: without a listener a signal ends the process at once, and a
      // Temporal dev server started by then would outlive it.
      const interrupt = new AbortController();
      const signalled = new Promise<void>((resolve) => {
        interrupt.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      const onSignal = (signal: NodeJS.Signals) => interrupt.abort(signal);
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        let stack: DevStack;
        try {
          stack = await startDevStack({
            ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
            ...(intervalSeconds === undefined ? {} : { intervalSeconds }),
            apiPort,
            ...(apiKey === undefined ? {} : { apiKey }),
            demo: opts.demo === true,
            ...(demoStarveAfterSeconds === undefined ? {} : { demoStarveAfterSeconds }),
            ...(demoRecoverAfterSeconds === undefined ? {} : { demoRecoverAfterSeconds }),
            signal: interrupt.signal,
            onEvent: print,
          });
        } catch (error) {
          // Interrupted while starting: what had started is stopped already.
          if (interrupt.signal.aborted) {
            say('copilot dev: stopped');
            return;
          }
          if (error instanceof DevStackError)
            throw new CliError(`${error.message}${HINTS[error.part] ?? ''}`);
          throw error;
        }
        const stopKeys = listenForKeys(stack);
        // Runs until a signal, or until the worker stops on its own (a failure: say so).
        const workerEnded = await Promise.race([
          signalled.then(() => undefined),
          stack.finished.then(
            () => 'the worker stopped on its own',
            (error: unknown) => `the worker failed: ${messageOf(error)}`,
          ),
        ]);
        stopKeys();
        say('copilot dev: stopping …');
        await stack.stop();
        say('copilot dev: stopped');
        if (workerEnded !== undefined) throw new CliError(workerEnded);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
