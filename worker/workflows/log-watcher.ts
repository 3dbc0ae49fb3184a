import { continueAsNew, log, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { CopilotActivities } from '../activities/types.js';
import type { LogWatcherInput } from './inputs.js';

const { collectLogPatterns } = proxyActivities<CopilotActivities>({
  startToCloseTimeout: '40s',
  scheduleToCloseTimeout: '80s',
  retry: { maximumAttempts: 2, initialInterval: '2s' },
});

const ITERATIONS_PER_RUN = 300;

/** Every 30 s, counts the narrative log patterns of the last window and persists them. */
export async function logWatcherWorkflow(input: LogWatcherInput): Promise<never> {
  const intervalMs = input.intervalMs ?? 30_000;
  let iteration = input.iteration ?? 0;
  const first = iteration;
  for (;;) {
    try {
      await collectLogPatterns({ cluster: input.cluster, at: Date.now(), windowMs: intervalMs });
    } catch (error) {
      log.warn('log patterns not collected', { cluster: input.cluster, error: String(error) });
    }
    iteration += 1;
    if (iteration - first >= ITERATIONS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof logWatcherWorkflow>({ ...input, iteration });
    }
    await sleep(intervalMs);
  }
}
