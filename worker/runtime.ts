import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { ConfigurationError } from '../shared/errors.js';
import type { Store } from '../shared/store/connection.js';
import { openStoreTarget, type StoreHandle, type StoreOpener } from '../shared/store/target.js';
import { createActivities, type LogPatternSource } from './activities/index.js';
import { lokiPatternSource } from './activities/log-patterns.js';
import type { WorkerSettings } from './config.js';
import { openExplainer } from './explain/config.js';
import type { WorkerMetrics } from './metrics.js';
import { createLokiSource, type LokiSource } from './sources/loki.js';
import { openMetricsSource } from './sources/select.js';
import type { SignalSource } from './sources/types.js';
import type { StartOptions } from './starter.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Opens the configured store and migrates it. `open` defaults to the server stores only
 * (`openStoreTarget`): the worker image carries no PGlite. `copilot dev` and the CLI's `copilot
 * worker` pass `openAnyStoreTarget` (`shared/store/embedded.ts`) to open the embedded one too.
 */
export function openConfiguredStore(
  settings: WorkerSettings,
  open: StoreOpener = openStoreTarget,
): Promise<StoreHandle> {
  return open(settings.storeTarget, { migrate: true });
}

/** One open metrics source per monitored cluster, by name. */
export type ClusterSources = ReadonlyMap<string, SignalSource>;

/**
 * The metrics source of every configured cluster; `fallbackScrapeUrls` serve `copilot dev`,
 * whose cluster may name no source. A source that cannot be opened closes those opened before it.
 */
export async function createConfiguredSources(
  settings: WorkerSettings,
  fallbackScrapeUrls: readonly string[] = [],
): Promise<ClusterSources> {
  const sources = new Map<string, SignalSource>();
  try {
    for (const cluster of settings.clusters)
      sources.set(cluster.name, openMetricsSource(cluster.metrics, { fallbackScrapeUrls }));
  } catch (error) {
    await closeAll(sources.values());
    throw error;
  }
  return sources;
}

async function closeAll(sources: Iterable<{ close(): Promise<void> }>): Promise<void> {
  await Promise.all([...sources].map((s) => s.close().catch(() => {})));
}

/** Where the workflow code comes from (see {@link workflowCode}). */
export type WorkflowCodeOption =
  /** A bundle `npm run build` wrote (`dist/worker/workflow-bundle.js`): no webpack at start-up. */
  | { readonly workflowBundlePath: string }
  /** The sources under this project root, bundled by the SDK (webpack) when the worker starts. */
  | { readonly root?: string };

/**
 * The workflow code the worker runs. The production entry (`worker/production.ts`) passes the
 * bundle built beside it, and a missing one is an error, not a silent webpack run: bundling at
 * start-up costs seconds and, measured, ~100 MiB of resident memory the process keeps
 * (docs/benchmarks.md, "Where the worker's memory went"). From the sources (`copilot dev`,
 * `copilot worker` through tsx, tests) the SDK bundles `worker/workflows` — never a bundle left
 * in `dist/` by an earlier build, which could be older than the sources.
 */
export function workflowCode(
  option: WorkflowCodeOption = {},
): { workflowBundle: { codePath: string } } | { workflowsPath: string } {
  if ('workflowBundlePath' in option) {
    if (!existsSync(option.workflowBundlePath))
      throw new ConfigurationError(
        `the prebuilt workflow bundle ${option.workflowBundlePath} is missing: run \`npm run build\``,
      );
    return { workflowBundle: { codePath: option.workflowBundlePath } };
  }
  return { workflowsPath: join(option.root ?? join(here, '..'), 'worker/workflows/index.ts') };
}

export interface Runtime {
  readonly client: Client;
  readonly connection: Connection;
  readonly nativeConnection: NativeConnection;
  readonly worker: Worker;
  readonly store: Store;
  /** The clusters whose logs are read (a Loki URL is configured): they get a log watcher. */
  readonly logsEnabled: ReadonlySet<string>;
  /** Runs the worker until `shutdown()`; resolves when it has drained. */
  run(): Promise<void>;
  shutdown(): void;
  /** Closes sources and connections after the worker stopped. */
  close(): Promise<void>;
}

/**
 * The sticky workflow cache: room for every cluster's long-running workflows (observer,
 * scheduled assessment, log watcher) and its short assessments, at least 20. The SDK's default
 * is derived from the V8 heap limit — 2,310 on a 24 GiB machine, but `max(10, (limit − 200 MiB)
 * × 0.6)` is 10 to 30 in a 512 MiB–1 GiB task, or with `--max-old-space-size`, fewer than 50
 * clusters' observers: each timer would then evict another observer, and every workflow task
 * would replay its whole run (up to 300 cycles) from history. A cached workflow costs tens of KiB
 * in the shared workflow context (docs/benchmarks.md, "Where the worker's memory went").
 */
export function cachedWorkflowsFor(clusters: number): number {
  return Math.max(20, clusters * 4);
}

/** Options of {@link createRuntime}. */
export type RuntimeOptions = WorkflowCodeOption & {
  readonly address: string;
  readonly store: Store;
  /** Every configured cluster's metrics source ({@link createConfiguredSources}). */
  readonly sources: ClusterSources;
  /** The worker's CloudWatch metric. @default - none (`copilot dev`) */
  readonly metrics?: WorkerMetrics;
};

/**
 * Connects to Temporal and builds the one worker of every configured cluster: one task queue, one
 * set of activities that find each cluster's source by name. Scaling out is more copies of this
 * worker on the same queue (the ECS service's desired count); Temporal spreads the work.
 */
export async function createRuntime(
  settings: WorkerSettings,
  options: RuntimeOptions,
): Promise<Runtime> {
  const { env } = settings;
  const code = workflowCode(options);
  const tls = env.TEMPORAL_API_KEY !== undefined || env.TEMPORAL_TLS === 'true';
  const apiKey = env.TEMPORAL_API_KEY;
  const connectOptions = {
    address: options.address,
    ...(tls ? { tls: true as const } : {}),
    ...(apiKey === undefined ? {} : { apiKey }),
  };
  // The log watcher workflow decides the window each query covers.
  const lokis = new Map<string, LokiSource>();
  const logs = new Map<string, LogPatternSource>();
  let nativeConnection: NativeConnection | undefined;
  let connection: Connection | undefined;
  try {
    for (const cluster of settings.clusters) {
      if (cluster.lokiUrl === undefined) continue;
      const loki = createLokiSource({ url: cluster.lokiUrl });
      lokis.set(cluster.name, loki);
      logs.set(cluster.name, lokiPatternSource(loki));
    }
    nativeConnection = await NativeConnection.connect(connectOptions);
    connection = await Connection.connect(connectOptions);
  } catch (error) {
    // What this call opened; the sources are the caller's until a runtime owns them.
    await closeAll(lokis.values());
    await connection?.close().catch(() => {});
    await nativeConnection?.close().catch(() => {});
    throw error;
  }
  const client = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE });
  const sourceFor = (cluster: string): SignalSource => {
    const source = options.sources.get(cluster);
    // An observer of a cluster no longer configured (removed from COPILOT_CLUSTERS) still runs:
    // its cycles are judged blind, `unknown`, which is what the copilot can say about it.
    if (source === undefined)
      throw new Error(`cluster ${cluster} is not configured on this worker`);
    return source;
  };
  let worker: Worker;
  try {
    worker = await Worker.create({
      connection: nativeConnection,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      ...code,
      activities: createActivities({
        store: options.store,
        sourceFor,
        logsFor: (cluster) => logs.get(cluster),
        retentionDays: settings.env.COPILOT_RETENTION_DAYS,
        staleness: settings.staleness,
        explainer: openExplainer(settings.explainer),
        ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
      }),
      maxCachedWorkflows: cachedWorkflowsFor(settings.clusters.length),
      // A worker shutting down lets running activities finish this long before cancelling them.
      shutdownGraceTime: '10s',
    });
  } catch (error) {
    await closeAll(lokis.values());
    await connection.close().catch(() => {});
    await nativeConnection.close().catch(() => {});
    throw error;
  }
  const opened = { connection, nativeConnection };
  return {
    client,
    connection,
    nativeConnection,
    worker,
    store: options.store,
    logsEnabled: new Set(logs.keys()),
    run: () => worker.run(),
    shutdown: () => {
      // The SDK also shuts the worker down on SIGINT/SIGTERM itself; a second call would throw.
      if (worker.getState() === 'RUNNING') worker.shutdown();
    },
    close: async () => {
      await closeAll(options.sources.values());
      await closeAll(lokis.values());
      await opened.connection.close();
      await opened.nativeConnection.close();
    },
  };
}

/**
 * What to start for each configured cluster: its name and engine configuration, the queue and
 * cadence, and the log watcher exactly when the runtime reads that cluster's logs. `copilot
 * worker` and `copilot dev` both start their workflows with these.
 */
export function startOptionsFor(
  runtime: Pick<Runtime, 'logsEnabled'>,
  settings: WorkerSettings,
): StartOptions[] {
  return settings.clusters.map((cluster) => ({
    cluster: cluster.name,
    taskQueue: settings.env.TEMPORAL_TASK_QUEUE,
    intervalMs: settings.intervalMs,
    engineConfig: cluster.engineConfig,
    logsEnabled: runtime.logsEnabled.has(cluster.name),
    knowledgeBaseId: settings.env.COPILOT_KB_ID ?? null,
  }));
}
