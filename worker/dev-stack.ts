import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { type LocalApi, startLocalApi } from '../lambda/local-server.js';
import { ConfigurationError, messageOf } from '../shared/errors.js';
import type { DecisionSummary } from '../shared/health/decide.js';
import { locateEmbeddedStore, openAnyStoreTarget } from '../shared/store/embedded.js';
import { clusterIdFor } from '../shared/store/ids.js';
import { latestAssessment } from '../shared/store/reads.js';
import type { StoreHandle } from '../shared/store/target.js';
import { ConfigError, loadWorkerSettings, type WorkerSettings } from './config.js';
import { DEMO_NAMESPACE, startDemo } from './demo/demo.js';
import { describeExplainer } from './explain/config.js';
import { freePort } from './free-port.js';
import {
  type Runtime as CopilotRuntime,
  createConfiguredSources,
  createRuntime,
  openConfiguredStore,
  startOptionsFor,
} from './runtime.js';
import { startCopilotWorkflows, workflowIds } from './starter.js';
import { findTemporalCli, TemporalCliNotFoundError } from './temporal-cli.js';
import { currentEvaluationQuery } from './workflows/messages.js';

/** The embedded store's directory when neither the options nor COPILOT_DATA_DIR name one. */
export const DEFAULT_DATA_DIR = '.copilot/data';

/** The parts {@link startDevStack} starts, in order. */
export type DevStackPart =
  | 'temporal'
  | 'store'
  | 'source'
  | 'worker'
  | 'api'
  | 'workflows'
  | 'demo'
  | 'printer';

/** What the stack reports while it starts and runs; `copilot dev` prints these. */
export type DevStackEvent =
  | { readonly kind: 'temporal-starting'; readonly metricsPort: number }
  | {
      readonly kind: 'worker-ready';
      readonly address: string;
      readonly store: string;
      readonly metrics: string;
      /** Who explains (`describeExplainer`): the rules over local runbooks, or Bedrock. */
      readonly explainer: string;
    }
  | { readonly kind: 'store-note'; readonly note: string }
  | { readonly kind: 'api-ready'; readonly url: string }
  | { readonly kind: 'observing'; readonly cluster: string; readonly intervalMs: number }
  | { readonly kind: 'demo-running' }
  | { readonly kind: 'demo-switched'; readonly starved: boolean; readonly why: string }
  | { readonly kind: 'demo-switch-failed'; readonly message: string }
  | { readonly kind: 'evaluation'; readonly evaluation: DecisionSummary }
  | {
      /** A new assessment was stored: the words for the newest change, and what they rest on. */
      readonly kind: 'explained';
      readonly explainer: string;
      readonly summary: string;
      readonly fallbackReason: string | null;
      readonly sources: readonly string[];
    }
  | { readonly kind: 'stop-failed'; readonly part: DevStackPart; readonly message: string };

/** Options of {@link startDevStack}. */
export interface DevStackOptions {
  /**
   * The embedded store's directory: what COPILOT_DATA_DIR and every command's `--data-dir` name.
   * Given, it wins over any store the environment names. The Temporal dev server keeps its
   * database beside it, in `<parent>/temporal.db`.
   * @default COPILOT_DATA_DIR, else `.copilot/data`
   */
  readonly dataDir?: string;
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Observation cadence. @default COPILOT_INTERVAL_SECONDS, else 30 */
  readonly intervalSeconds?: number;
  /** Port of the JSON API on 127.0.0.1; 0 picks a free one. @default 8080 */
  readonly apiPort?: number;
  /** The key API callers must send in `x-api-key`. @default - none: the API is open on loopback */
  readonly apiKey?: string;
  /** Run the demo workload in the `demo` namespace. @default false */
  readonly demo?: boolean;
  /** With `demo`: starve its workers this many seconds after start. */
  readonly demoStarveAfterSeconds?: number;
  /** With `demo`: bring its workers back this many seconds after start. */
  readonly demoRecoverAfterSeconds?: number;
  /**
   * Aborting stops the start after the step in flight (a step cannot be cut short without
   * leaking what it was starting), stops what was started, and rejects with the abort reason.
   */
  readonly signal?: AbortSignal;
  /** Progress and each cycle's evaluation. @default - nothing is reported, nothing is polled */
  readonly onEvent?: (event: DevStackEvent) => void;
}

/** The demo workload of a running stack. */
export interface DevDemo {
  readonly starved: boolean;
  /** Starves the demo workers, or brings them back; reports `demo-switched`. */
  toggle(why: string): Promise<void>;
}

/** A running dev stack. */
export interface DevStack {
  readonly settings: WorkerSettings;
  readonly cluster: string;
  readonly temporal: {
    /** The frontend, `host:port`. */
    readonly address: string;
    /** The port of the dev server's Prometheus `/metrics`. */
    readonly metricsPort: number;
    /** The dev server's SQLite database; undefined when it keeps everything in memory. */
    readonly dbFile: string | undefined;
  };
  readonly store: StoreHandle;
  readonly api: LocalApi;
  readonly runtime: CopilotRuntime;
  readonly demo: DevDemo | null;
  /**
   * Settles when the worker stops: rejects when it fails on its own, resolves when it stops
   * (after {@link stop}, or on its own). Either way, call {@link stop} for the rest.
   */
  readonly finished: Promise<void>;
  /** Stops every part, in reverse order of starting. Idempotent: later calls share the first. */
  stop(): Promise<void>;
}

/** A step of {@link startDevStack} failed; everything started before it has been stopped. */
export class DevStackError extends Error {
  constructor(
    readonly part: DevStackPart,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'DevStackError';
  }
}

/**
 * The stops of what has been started, run in reverse order, each once. A stop that fails is
 * reported and the others still run: one stuck part must not leave the rest running.
 */
export class Teardown {
  private readonly stops: { readonly part: DevStackPart; readonly stop: () => Promise<void> }[] =
    [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly onFailure: (part: DevStackPart, error: unknown) => void) {}

  /** Records how to stop a part that has just started. */
  add(part: DevStackPart, stop: () => Promise<void>): void {
    if (this.stopping !== undefined) throw new Error(`cannot add ${part}: already stopping`);
    this.stops.push({ part, stop });
  }

  /** Stops everything recorded, newest first. Idempotent. */
  run(): Promise<void> {
    this.stopping ??= (async () => {
      for (let s = this.stops.pop(); s !== undefined; s = this.stops.pop()) {
        try {
          await s.stop();
        } catch (error) {
          this.onFailure(s.part, error);
        }
      }
    })();
    return this.stopping;
  }
}

/** The dev server binary: TEMPORAL_CLI_PATH or `temporal` on PATH, else the SDK's download. */
function devServerExecutable(env: NodeJS.ProcessEnv) {
  try {
    return { type: 'existing-path' as const, path: findTemporalCli(env) };
  } catch (error) {
    if (!(error instanceof TemporalCliNotFoundError)) throw error;
    // Works on a machine with internet access; offline it fails with a clear message below.
    return { type: 'cached-download' as const };
  }
}

/** A step's failure, with the part named; configuration mistakes keep their own class (exit 2). */
function failed(part: DevStackPart, what: string, error: unknown): Error {
  if (error instanceof ConfigurationError || error instanceof DevStackError) return error;
  return new DevStackError(part, `${what}: ${messageOf(error)}`, { cause: error });
}

/** The settings for the stack: the options over the environment. Starts nothing. */
function settingsFor(options: DevStackOptions, env: NodeJS.ProcessEnv): WorkerSettings {
  // One cluster, the one whose lines it prints (and, by default, its own dev server): several
  // are `copilot worker`'s, pointed at any Temporal (a dev server included).
  if (env.COPILOT_CLUSTERS !== undefined && env.COPILOT_CLUSTERS.trim() !== '')
    throw new ConfigError(
      'copilot dev observes one cluster (COPILOT_CLUSTER and its source variables): unset ' +
        'COPILOT_CLUSTERS, or run `copilot worker` with TEMPORAL_ADDRESS to observe several',
    );
  return loadWorkerSettings({
    ...env,
    // A directory given explicitly names the store, whatever store the environment names.
    ...(options.dataDir === undefined
      ? {}
      : {
          COPILOT_DATA_DIR: options.dataDir,
          COPILOT_DATABASE_URL: undefined,
          COPILOT_DSQL_ENDPOINT: undefined,
        }),
    ...(options.intervalSeconds === undefined
      ? {}
      : { COPILOT_INTERVAL_SECONDS: String(options.intervalSeconds) }),
  });
}

/**
 * The whole copilot on one machine, as `copilot dev` runs it: a Temporal dev server (with its
 * Prometheus `/metrics`), the store (the embedded PGlite unless the environment names another),
 * the metrics source (the dev server's own `/metrics` unless the environment names one), the
 * worker, the JSON API on 127.0.0.1, the copilot's workflows, and optionally the demo workload.
 *
 * Parts start in that order. When one fails — or `signal` aborts — everything already started is
 * stopped in reverse order and the error is rethrown, so a failed start leaves no dev server
 * process, no listening port and nothing keeping the process alive. Configuration is checked
 * before anything starts.
 *
 * It installs the Temporal SDK runtime, which exists once per process: call it once. The runtime
 * gets no signal handlers of its own; whoever calls this decides what a signal does (`stop()`).
 */
export async function startDevStack(options: DevStackOptions = {}): Promise<DevStack> {
  const env = options.env ?? process.env;
  const emit = options.onEvent ?? (() => {});
  const signal = options.signal;
  const settings = settingsFor(options, env);
  const cluster = settings.env.COPILOT_CLUSTER;
  const apiPort = options.apiPort ?? 8080;
  // Temporal's database sits beside the store: with the default `.copilot/data` that is
  // `.copilot/temporal.db`, where `copilot dev` has always kept it; with the old layout (store in
  // `X/data`) it is `X/temporal.db`, its old place too. A store in memory gets Temporal in memory.
  const storeDir = locateEmbeddedStore(settings.env.COPILOT_DATA_DIR).dataDir;
  const dbFile = storeDir.startsWith('memory://')
    ? undefined
    : join(dirname(storeDir), 'temporal.db');
  signal?.throwIfAborted();

  const teardown = new Teardown((part, error) =>
    emit({ kind: 'stop-failed', part, message: messageOf(error) }),
  );
  /** Starts one part and records its stop before anything else can fail. */
  const start = async <T>(
    part: DevStackPart,
    what: string,
    begin: () => Promise<T>,
    stop: (value: T) => Promise<void>,
  ): Promise<T> => {
    let value: T;
    try {
      value = await begin();
    } catch (error) {
      throw failed(part, what, error);
    }
    teardown.add(part, () => stop(value));
    // A signal that came during the step stops the start here, with the part already recorded.
    signal?.throwIfAborted();
    return value;
  };

  try {
    const metricsPort = await freePort();
    // With the demo, the in-process SDK workers export their metrics too (slots,
    // schedule-to-start), scraped beside the server's: that is how the copilot sees starved workers.
    const sdkMetricsPort = options.demo === true ? await freePort() : undefined;
    Runtime.install({
      // Keep the terminal for the copilot's own lines: the SDK only speaks up for warnings.
      logger: new DefaultLogger('WARN'),
      // The SDK would shut its workers down on SIGINT/SIGTERM by itself, racing stop(); and any
      // listener it adds keeps a signal from ending a process that is still starting.
      shutdownSignals: [],
      ...(sdkMetricsPort === undefined
        ? {}
        : {
            telemetryOptions: {
              metrics: { prometheus: { bindAddress: `127.0.0.1:${sdkMetricsPort}` } },
            },
          }),
    });

    emit({ kind: 'temporal-starting', metricsPort });
    if (dbFile !== undefined) mkdirSync(dirname(dbFile), { recursive: true });
    const temporal = await start(
      'temporal',
      'cannot start the Temporal dev server',
      async () => {
        try {
          return await TestWorkflowEnvironment.createLocal({
            server: {
              executable: devServerExecutable(env),
              ...(dbFile === undefined ? {} : { dbFilename: dbFile }),
              extraArgs: [
                '--metrics-port',
                String(metricsPort),
                ...(options.demo === true ? ['--namespace', DEMO_NAMESPACE] : []),
              ],
            },
          });
        } catch (error) {
          throw new Error(
            `${messageOf(error)}. Set TEMPORAL_CLI_PATH, or build it with: go install github.com/temporalio/cli/cmd/temporal@v1.5.1`,
            { cause: error },
          );
        }
      },
      (t) => t.teardown(),
    );
    const address = temporal.connection.options.address;

    const store = await start(
      'store',
      'cannot open the store',
      () => openConfiguredStore(settings, openAnyStoreTarget),
      (h) => h.close(),
    );
    if (store.note !== undefined) emit({ kind: 'store-note', note: store.note });

    const sources = await start(
      'source',
      'cannot create the metrics source',
      () =>
        createConfiguredSources(settings, [
          `http://127.0.0.1:${metricsPort}/metrics`,
          ...(sdkMetricsPort === undefined ? [] : [`http://127.0.0.1:${sdkMetricsPort}/metrics`]),
        ]),
      async (s) => {
        await Promise.all([...s.values()].map((source) => source.close()));
      },
    );
    const runtime = await start(
      'worker',
      'cannot create the worker',
      () => createRuntime(settings, { address, store: store.store, sources }),
      async (r) => {
        // A worker that never ran holds its connection (closing it throws, and the open
        // connection keeps the process alive): running it to an immediate stop releases it.
        if (r.worker.getState() === 'INITIALIZED') await r.worker.runUntil(Promise.resolve());
        await r.close();
      },
    );
    const metrics = [...sources.values()].map((source) => source.kind).join(', ');
    emit({
      kind: 'worker-ready',
      address,
      store: store.describe,
      metrics,
      explainer: describeExplainer(settings.explainer),
    });

    // The JSON API for Grafana: the same handler as in Lambda, on the store the worker writes.
    const api = await start(
      'api',
      `cannot serve the API on 127.0.0.1:${apiPort}`,
      () =>
        startLocalApi({
          store: store.store,
          port: apiPort,
          host: '127.0.0.1',
          staleness: settings.staleness,
          ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }),
        }),
      (a) => a.close(),
    );
    emit({ kind: 'api-ready', url: api.url });

    const { finished } = await start(
      'worker',
      'cannot run the worker',
      async () => {
        const running = runtime.run();
        // Handled here so a worker failing before the caller listens is not an unhandled
        // rejection (which ends the process before anything is stopped); callers still see it.
        running.catch(() => undefined);
        // Wrapped: an awaited bare promise would wait for the worker to finish.
        return { finished: running };
      },
      async ({ finished }) => {
        runtime.shutdown();
        await finished.catch(() => undefined);
      },
    );
    await start(
      'workflows',
      "cannot start the copilot's workflows",
      async () => {
        for (const o of startOptionsFor(runtime, settings))
          await startCopilotWorkflows(runtime.client, o);
      },
      // They live in Temporal's database and carry on at the next start.
      async () => {},
    );
    emit({ kind: 'observing', cluster, intervalMs: settings.intervalMs });

    const demo =
      options.demo === true
        ? await start(
            'demo',
            'cannot start the demo workload',
            () => startDemoSwitch(runtime, options, emit),
            (d) => d.stop(),
          )
        : null;

    if (options.onEvent !== undefined)
      await start(
        'printer',
        'cannot watch the observer',
        async () => watchEvaluations(runtime, cluster, settings.intervalMs, emit),
        async (stopWatching) => stopWatching(),
      );

    return {
      settings,
      cluster,
      temporal: { address, metricsPort, dbFile },
      store,
      api,
      runtime,
      demo,
      finished,
      stop: () => teardown.run(),
    };
  } catch (error) {
    await teardown.run();
    throw error;
  }
}

/** The demo workload, its scheduled switches, and a toggle that reports what it did. */
async function startDemoSwitch(
  runtime: CopilotRuntime,
  options: DevStackOptions,
  emit: (event: DevStackEvent) => void,
): Promise<DevDemo & { stop(): Promise<void> }> {
  const demo = await startDemo({
    connection: runtime.connection,
    nativeConnection: runtime.nativeConnection,
  });
  const toggle = async (why: string) => {
    try {
      if (demo.starved) await demo.recover();
      else await demo.starve();
      emit({ kind: 'demo-switched', starved: demo.starved, why });
    } catch (error) {
      emit({ kind: 'demo-switch-failed', message: messageOf(error) });
    }
  };
  const timers: NodeJS.Timeout[] = [];
  const starveAfter = options.demoStarveAfterSeconds;
  const recoverAfter = options.demoRecoverAfterSeconds;
  if (starveAfter !== undefined)
    timers.push(
      setTimeout(() => {
        if (!demo.starved) void toggle(`after ${starveAfter}s`);
      }, starveAfter * 1000),
    );
  if (recoverAfter !== undefined)
    timers.push(
      setTimeout(() => {
        if (demo.starved) void toggle(`after ${recoverAfter}s`);
      }, recoverAfter * 1000),
    );
  emit({ kind: 'demo-running' });
  return {
    get starved() {
      return demo.starved;
    },
    toggle,
    async stop() {
      for (const t of timers) clearTimeout(t);
      await demo.stop();
    },
  };
}

/**
 * Reports each cycle's evaluation once, asking about once per cycle: after a new evaluation the
 * next one is more than an interval away (the observer sleeps that long between cycles), so the
 * next query waits an interval; one that finds nothing new (the cycle is still running, or the
 * observer is between runs) asks again after a fraction of it. Seen less than half an interval
 * late, no cycle can be followed by two more before the next query: none is skipped. Returns
 * the function that stops it.
 */
function watchEvaluations(
  runtime: CopilotRuntime,
  cluster: string,
  intervalMs: number,
  emit: (event: DevStackEvent) => void,
): () => Promise<void> {
  const observer = runtime.client.workflow.getHandle(workflowIds(cluster).observer);
  const retryMs = Math.min(1_000, intervalMs / 2);
  let lastCycle = -1;
  let lastAssessment: string | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  const poll = async (): Promise<void> => {
    let nextMs = retryMs;
    try {
      const e: DecisionSummary | null = await observer.query(currentEvaluationQuery);
      if (!stopped && e !== null && e.carried.cycles !== lastCycle) {
        lastCycle = e.carried.cycles;
        emit({ kind: 'evaluation', evaluation: e });
        nextMs = intervalMs;
      }
    } catch {
      /* the observer may be between runs (continue-as-new); the next query catches up */
    }
    try {
      // The explanation of a change lands a moment after its evaluation (an assessment child):
      // seen at this or the next cycle's poll.
      const a = await latestAssessment(runtime.store.sql, clusterIdFor(cluster));
      if (!stopped && a !== null && a.id !== lastAssessment) {
        lastAssessment = a.id;
        emit({
          kind: 'explained',
          explainer: a.explainer,
          summary: a.summary,
          fallbackReason: a.fallback_reason,
          sources: [...new Set(a.details.sources.map((x) => x.source))],
        });
      }
    } catch {
      /* the store may be busy; the next poll catches up */
    }
    if (!stopped)
      timer = setTimeout(() => {
        inFlight = poll();
      }, nextMs);
  };
  timer = setTimeout(() => {
    inFlight = poll();
  }, retryMs);
  return async () => {
    stopped = true;
    clearTimeout(timer);
    // A query in flight must end before the connections it uses are closed.
    await inFlight;
  };
}
