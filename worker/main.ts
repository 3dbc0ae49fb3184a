import { ConfigError, loadWorkerSettings } from './config.js';
import {
  createConfiguredSource,
  createRuntime,
  openConfiguredStore,
  startOptionsFor,
} from './runtime.js';
import { startCopilotWorkflows } from './starter.js';

/**
 * The production worker entry (`copilot worker`, the ECS task): connects to TEMPORAL_ADDRESS,
 * opens the configured store, starts (or reconfigures) the cluster's workflows, and runs until
 * SIGINT/SIGTERM, letting in-flight activities finish.
 */
export async function runWorker(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const settings = loadWorkerSettings(env);
  const address = settings.env.TEMPORAL_ADDRESS;
  if (address === undefined) {
    throw new ConfigError('TEMPORAL_ADDRESS is not set (use `copilot dev` for a local Temporal)');
  }
  const storeHandle = await openConfiguredStore(settings);
  const source = createConfiguredSource(settings);
  const runtime = await createRuntime(settings, { address, store: storeHandle.store, source });
  const stop = () => runtime.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const running = runtime.run();
    await startCopilotWorkflows(runtime.client, startOptionsFor(runtime, settings));
    await running;
  } finally {
    await runtime.close();
    await storeHandle.close();
  }
}
