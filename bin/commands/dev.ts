import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Command } from 'commander';
import { startLocalApi } from '../../lambda/local-server.js';
import type { Evaluation } from '../../shared/health/evaluation.js';
import { loadWorkerSettings } from '../../worker/config.js';
import { DEMO_NAMESPACE, type Demo, startDemo } from '../../worker/demo/demo.js';
import { freePort } from '../../worker/free-port.js';
import { runWorker } from '../../worker/main.js';
import {
  createConfiguredSource,
  createRuntime,
  openConfiguredStore,
  startOptionsFor,
} from '../../worker/runtime.js';
import { startCopilotWorkflows, workflowIds } from '../../worker/starter.js';
import { findTemporalCli, TemporalCliNotFoundError } from '../../worker/temporal-cli.js';
import { currentEvaluationQuery } from '../../worker/workflows/messages.js';
import { CliError } from '../cli-support.js';
import { toLine } from '../report.js';

/** The dev server binary: TEMPORAL_CLI_PATH or `temporal` on PATH, else the SDK's download. */
function devServerExecutable() {
  try {
    return { type: 'existing-path' as const, path: findTemporalCli() };
  } catch (error) {
    if (!(error instanceof TemporalCliNotFoundError)) throw error;
    // Works on a machine with internet access; offline it fails with a clear message below.
    return { type: 'cached-download' as const };
  }
}

interface DevOptions {
  readonly dataDir: string;
  readonly interval?: string;
  readonly apiPort?: string;
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

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/**
 * `copilot dev`: the whole copilot on one machine — a local Temporal dev server, the embedded
 * PGlite store, the worker and its workflows — observing the dev server's own `/metrics` unless
 * PROMETHEUS_URL / AMP_WORKSPACE_URL / COPILOT_SCRAPE_URLS point elsewhere. Prints each cycle's
 * evaluation. Ctrl-C stops everything.
 */
export function registerDevCommands(program: Command): void {
  program
    .command('worker')
    .description(
      'run the production worker against TEMPORAL_ADDRESS (configuration from the environment)',
    )
    .action(async () => {
      await runWorker(); // a ConfigError exits 2 in bin/copilot.ts
    });

  program
    .command('dev')
    .description(
      'run the copilot locally: Temporal dev server, embedded store, worker (Ctrl-C stops)',
    )
    .option(
      '--data-dir <dir>',
      'where the embedded store and the dev server keep their files',
      '.copilot',
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
      const dataDir = resolve(opts.dataDir);
      mkdirSync(dataDir, { recursive: true });
      const settings = loadWorkerSettings({
        COPILOT_DATA_DIR: join(dataDir, 'data'),
        ...process.env,
        ...(opts.interval === undefined ? {} : { COPILOT_INTERVAL_SECONDS: opts.interval }),
      });
      const cluster = settings.env.COPILOT_CLUSTER;
      const metricsPort = await freePort();
      // With --demo, the in-process SDK workers export their metrics too (slots, schedule-to-start),
      // and the copilot scrapes them beside the server's: that is how it sees starved workers.
      const sdkMetricsPort = opts.demo === true ? await freePort() : undefined;
      // Keep the terminal for the copilot's own lines: the SDK only speaks up for warnings.
      Runtime.install({
        logger: new DefaultLogger('WARN'),
        ...(sdkMetricsPort === undefined
          ? {}
          : {
              telemetryOptions: {
                metrics: { prometheus: { bindAddress: `127.0.0.1:${sdkMetricsPort}` } },
              },
            }),
      });
      say(`copilot dev: starting a Temporal dev server (metrics on :${metricsPort}) …`);
      let env: TestWorkflowEnvironment;
      try {
        env = await TestWorkflowEnvironment.createLocal({
          server: {
            executable: devServerExecutable(),
            dbFilename: join(dataDir, 'temporal.db'),
            extraArgs: [
              '--metrics-port',
              String(metricsPort),
              ...(opts.demo === true ? ['--namespace', DEMO_NAMESPACE] : []),
            ],
          },
        });
      } catch (error) {
        throw new CliError(
          `cannot start the Temporal dev server: ${(error as Error).message}. Set TEMPORAL_CLI_PATH, or build it with: go install github.com/temporalio/cli/cmd/temporal@v1.5.1`,
        );
      }
      const address = env.connection.options.address;
      const storeHandle = await openConfiguredStore(settings);
      const source = createConfiguredSource(settings, [
        `http://127.0.0.1:${metricsPort}/metrics`,
        ...(sdkMetricsPort === undefined ? [] : [`http://127.0.0.1:${sdkMetricsPort}/metrics`]),
      ]);
      const runtime = await createRuntime(settings, { address, store: storeHandle.store, source });
      say(
        `copilot dev: Temporal at ${address}, store: ${storeHandle.describe}, metrics: ${source.kind}`,
      );
      // The JSON API for Grafana: the same handler as in Lambda, on the store the worker writes.
      const apiPort = seconds(opts.apiPort, '--api-port') ?? 8080;
      let api: Awaited<ReturnType<typeof startLocalApi>>;
      try {
        api = await startLocalApi({
          store: storeHandle.store,
          port: apiPort,
          ...(process.env.COPILOT_API_KEY ? { apiKey: process.env.COPILOT_API_KEY } : {}),
        });
      } catch (error) {
        throw new CliError(
          `cannot serve the API on 127.0.0.1:${apiPort}: ${(error as Error).message} (choose another with --api-port)`,
        );
      }
      say(`copilot dev: JSON API on ${api.url} (try ${api.url}/status)`);

      let stopping = false;
      const running = runtime.run();
      await startCopilotWorkflows(runtime.client, startOptionsFor(runtime, settings));
      say(
        `copilot dev: observing cluster "${cluster}" every ${settings.intervalMs / 1000}s — one line per cycle`,
      );

      const starveAfter = seconds(opts.demoStarveAfter, '--demo-starve-after');
      const recoverAfter = seconds(opts.demoRecoverAfter, '--demo-recover-after');
      const timers: NodeJS.Timeout[] = [];
      let demo: Demo | null = null;
      if (opts.demo === true) {
        demo = await startDemo({
          connection: runtime.connection,
          nativeConnection: runtime.nativeConnection,
        });
        const d = demo;
        const toggle = async (why: string) => {
          try {
            if (d.starved) await d.recover();
            else await d.starve();
            say(
              `copilot dev: demo workers ${d.starved ? 'STARVED (1 activity slot)' : 'back (50 slots)'} (${why})`,
            );
          } catch (error) {
            say(`copilot dev: demo switch failed: ${(error as Error).message}`);
          }
        };
        say(
          'copilot dev: demo running — orders in namespace "demo"' +
            (process.stdin.isTTY ? '; press s to starve or recover its workers' : ''),
        );
        if (starveAfter !== undefined)
          timers.push(
            setTimeout(
              () => void (d.starved ? undefined : toggle(`after ${starveAfter}s`)),
              starveAfter * 1000,
            ),
          );
        if (recoverAfter !== undefined)
          timers.push(
            setTimeout(
              () => void (d.starved ? toggle(`after ${recoverAfter}s`) : undefined),
              recoverAfter * 1000,
            ),
          );
        if (process.stdin.isTTY) {
          process.stdin.setRawMode(true);
          process.stdin.resume();
          process.stdin.on('data', (key: Buffer) => {
            const k = key.toString();
            if (k === 's') void toggle('key s');
            if (k === '\u0003') process.kill(process.pid, 'SIGINT'); // raw mode swallows Ctrl-C
          });
        }
      }

      // One line per cycle, asking about once per cycle: after a new evaluation the next one is
      // more than an interval away (the observer sleeps that long between cycles), so the next
      // query waits an interval; one that finds nothing new (the cycle is still running, or the
      // observer is between runs) asks again after a fraction of it. Seen less than half an
      // interval late, no cycle can be followed by two more before the next query: none is skipped.
      const observer = runtime.client.workflow.getHandle(workflowIds(cluster).observer);
      const retryMs = Math.min(1_000, settings.intervalMs / 2);
      let lastCycle = -1;
      let printer: NodeJS.Timeout | undefined;
      const print = async (): Promise<void> => {
        let nextMs = retryMs;
        try {
          const e: Evaluation | null = await observer.query(currentEvaluationQuery);
          if (e !== null && e.carried.cycles !== lastCycle) {
            lastCycle = e.carried.cycles;
            say(JSON.stringify(toLine(e)));
            nextMs = settings.intervalMs;
          }
        } catch {
          /* the observer may be between runs (continue-as-new); the next query catches up */
        }
        if (!stopping) printer = setTimeout(() => void print(), nextMs);
      };
      printer = setTimeout(() => void print(), retryMs);

      const stop = async () => {
        if (stopping) return;
        stopping = true;
        clearTimeout(printer);
        for (const t of timers) clearTimeout(t);
        if (process.stdin.isTTY) process.stdin.setRawMode(false);
        process.stdin.pause();
        say('copilot dev: stopping …');
        await demo?.stop();
        runtime.shutdown();
        await running.catch(() => undefined);
        await runtime.close();
        await api.close().catch(() => undefined);
        await storeHandle.close();
        await env.teardown();
        say('copilot dev: stopped');
      };
      const done = new Promise<void>((resolveDone) => {
        const onSignal = () => {
          void stop().then(resolveDone);
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
      });
      await done;
    });
}
