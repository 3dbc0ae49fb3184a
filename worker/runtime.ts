import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Store } from '../shared/store/connection.js';
import { openStoreTarget, type StoreHandle } from '../shared/store/target.js';
import { createActivities } from './activities/index.js';
import { lokiPatternSource } from './activities/log-patterns.js';
import type { WorkerSettings } from './config.js';
import { createLokiSource } from './sources/loki.js';
import { openMetricsSource } from './sources/select.js';
import type { SignalSource } from './sources/types.js';
import type { StartOptions } from './starter.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Opens the configured store (starting the embedded one if needed) and migrates it. */
export function openConfiguredStore(settings: WorkerSettings): Promise<StoreHandle> {
  return openStoreTarget(settings.storeTarget, { migrate: true });
}

/** The metrics source the settings describe; `fallbackScrapeUrls` serve `copilot dev`. */
export function createConfiguredSource(
  settings: WorkerSettings,
  fallbackScrapeUrls: readonly string[] = [],
): SignalSource {
  return openMetricsSource(settings.metrics, { fallbackScrapeUrls });
}

/**
 * The workflow code the worker runs: the prebuilt bundle when one exists (production images
 * build it once), else the sources, bundled at start-up.
 */
export function workflowCode(
  root: string = join(here, '..'),
): { workflowBundle: { codePath: string } } | { workflowsPath: string } {
  const prebuilt = join(root, 'dist/workflow-bundle.js');
  return existsSync(prebuilt)
    ? { workflowBundle: { codePath: prebuilt } }
    : { workflowsPath: join(root, 'worker/workflows/index.ts') };
}

export interface Runtime {
  readonly client: Client;
  readonly connection: Connection;
  readonly nativeConnection: NativeConnection;
  readonly worker: Worker;
  readonly store: Store;
  /** A log source (LOKI_URL) is configured: the worker collects log patterns. */
  readonly logsEnabled: boolean;
  /** Runs the worker until `shutdown()`; resolves when it has drained. */
  run(): Promise<void>;
  shutdown(): void;
  /** Closes connections after the worker stopped. */
  close(): Promise<void>;
}

/** Connects to Temporal and builds the worker with its activities. */
export async function createRuntime(
  settings: WorkerSettings,
  options: {
    readonly address: string;
    readonly store: Store;
    readonly source: SignalSource;
    /** Project root holding `worker/workflows` or `dist/workflow-bundle.js`. @default this file's */
    readonly root?: string;
  },
): Promise<Runtime> {
  const { env } = settings;
  const tls = env.TEMPORAL_API_KEY !== undefined || env.TEMPORAL_TLS === 'true';
  const apiKey = env.TEMPORAL_API_KEY;
  const connectOptions = {
    address: options.address,
    ...(tls ? { tls: true as const } : {}),
    ...(apiKey === undefined ? {} : { apiKey }),
  };
  const nativeConnection = await NativeConnection.connect(connectOptions);
  const connection = await Connection.connect(connectOptions);
  const client = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE });
  // The log watcher workflow decides the window each query covers.
  const loki = env.LOKI_URL === undefined ? undefined : createLokiSource({ url: env.LOKI_URL });
  const logs = loki === undefined ? undefined : lokiPatternSource(loki);
  const worker = await Worker.create({
    connection: nativeConnection,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    ...workflowCode(options.root),
    activities: createActivities({
      store: options.store,
      sourceFor: () => options.source,
      ...(logs === undefined ? {} : { logsFor: () => logs }),
      defaultEngineConfig: settings.engineConfig,
      retentionDays: settings.env.COPILOT_RETENTION_DAYS,
      staleness: settings.staleness,
    }),
    // A worker shutting down lets running activities finish this long before cancelling them.
    shutdownGraceTime: '10s',
  });
  return {
    client,
    connection,
    nativeConnection,
    worker,
    store: options.store,
    logsEnabled: logs !== undefined,
    run: () => worker.run(),
    shutdown: () => {
      // The SDK also shuts the worker down on SIGINT/SIGTERM itself; a second call would throw.
      if (worker.getState() === 'RUNNING') worker.shutdown();
    },
    close: async () => {
      await options.source.close();
      await loki?.close();
      await connection.close();
      await nativeConnection.close();
    },
  };
}

/**
 * What to start for this worker's cluster: the settings' cluster, queue, cadence and engine, and
 * the log watcher exactly when the runtime has a log source. `copilot worker` and `copilot dev`
 * both start their workflows with this.
 */
export function startOptionsFor(
  runtime: Pick<Runtime, 'logsEnabled'>,
  settings: WorkerSettings,
): StartOptions {
  return {
    cluster: settings.env.COPILOT_CLUSTER,
    taskQueue: settings.env.TEMPORAL_TASK_QUEUE,
    intervalMs: settings.intervalMs,
    engineConfig: settings.engineConfig,
    logsEnabled: runtime.logsEnabled,
    knowledgeBaseId: settings.env.COPILOT_KB_ID ?? null,
  };
}
