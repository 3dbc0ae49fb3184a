import pLimit from 'p-limit';
import { openStoreTarget, type StoreOpener } from '../shared/store/target.js';
import { ConfigError, loadWorkerSettings } from './config.js';
import { emfMetrics, type WorkerMetrics } from './metrics.js';
import {
  createConfiguredSources,
  createRuntime,
  openConfiguredStore,
  startOptionsFor,
  type WorkflowCodeOption,
} from './runtime.js';
import { startCopilotWorkflows } from './starter.js';

/** Options of {@link runWorker}: what differs between the CLI and the worker image. */
export type RunWorkerOptions = WorkflowCodeOption & {
  /**
   * Opens the store. @default `openStoreTarget`, server stores only (the image has no PGlite);
   * the CLI's `copilot worker` passes `openAnyStoreTarget`.
   */
  readonly openStore?: StoreOpener;
  /** @default EMF lines on stdout (`worker/metrics.ts`) */
  readonly metrics?: WorkerMetrics;
};

/**
 * The production worker (`copilot worker`, the ECS task): connects to TEMPORAL_ADDRESS, opens the
 * configured store, starts (or reconfigures) the workflows of every configured cluster, and runs
 * until SIGINT/SIGTERM, letting in-flight activities finish.
 */
export async function runWorker(
  env: NodeJS.ProcessEnv = process.env,
  options: RunWorkerOptions = {},
): Promise<void> {
  const settings = loadWorkerSettings(env);
  const address = settings.env.TEMPORAL_ADDRESS;
  if (address === undefined) {
    throw new ConfigError('TEMPORAL_ADDRESS is not set (use `copilot dev` for a local Temporal)');
  }
  const { openStore = openStoreTarget, metrics = emfMetrics(), ...code } = options;
  const storeHandle = await openConfiguredStore(settings, openStore);
  try {
    const sources = await createConfiguredSources(settings);
    let runtime: Awaited<ReturnType<typeof createRuntime>>;
    try {
      runtime = await createRuntime(settings, {
        ...code,
        address,
        store: storeHandle.store,
        sources,
        metrics,
      });
    } catch (error) {
      await Promise.all([...sources.values()].map((s) => s.close().catch(() => {})));
      throw error;
    }
    const stop = () => runtime.shutdown();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const running = runtime.run();
      // A start that fails must not leave the worker running with nobody awaiting it. A few
      // clusters at a time: each start waits for its observer to take the configuration update,
      // one workflow task away, so fifty clusters one by one took seconds for nothing.
      const limit = pLimit(8);
      try {
        await Promise.all(
          startOptionsFor(runtime, settings).map((start) =>
            limit(() => startCopilotWorkflows(runtime.client, start)),
          ),
        );
      } catch (error) {
        runtime.shutdown();
        await running.catch(() => undefined);
        throw error;
      }
      await running;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await runtime.close();
    }
  } finally {
    await storeHandle.close();
  }
}
