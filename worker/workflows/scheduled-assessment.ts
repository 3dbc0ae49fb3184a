import { continueAsNew, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { CopilotActivities } from '../activities/types.js';
import { STORE_ACTIVITY_OPTIONS, startAssessment } from './assess-health.js';
import type { ScheduledAssessmentInput } from './inputs.js';

const { latestForSchedule } = proxyActivities<CopilotActivities>(STORE_ACTIVITY_OPTIONS);

const { pruneHistory } = proxyActivities<CopilotActivities>({
  startToCloseTimeout: '2m',
  scheduleToCloseTimeout: '5m',
  retry: { maximumAttempts: 2, initialInterval: '5s' },
});

const ITERATIONS_PER_RUN = 100;
/** Retention runs on every 12th round: hourly at the 5-minute cadence. */
const PRUNE_EVERY = 12;

/**
 * Every 5 minutes, assesses the observer's current evaluation — read from the store, never
 * re-evaluated from a fresh "happy" seed (the prior art's scheduled path could not report
 * critical) — and skips when a recent assessment exists.
 */
export async function scheduledAssessmentWorkflow(input: ScheduledAssessmentInput): Promise<never> {
  const intervalMs = input.intervalMs ?? 300_000;
  const recentWindowMs = input.recentWindowMs ?? 240_000;
  let iteration = input.iteration ?? 0;
  const first = iteration;
  for (;;) {
    const at = Date.now();
    let latest: Awaited<ReturnType<CopilotActivities['latestForSchedule']>> | null = null;
    try {
      latest = await latestForSchedule({ cluster: input.cluster, at, recentWindowMs });
    } catch {
      latest = null; // store down: try again next round
    }
    // A stale newest evaluation is not re-explained: the observer is not writing, and every
    // reader already says `unknown` / `stale`; the next fresh evaluation is assessed again.
    const newest = latest?.latest ?? null;
    if (newest !== null && !newest.stale && latest?.recentAssessment === false) {
      await startAssessment(`scheduled-${input.cluster}-${newest.evaluationId}`, {
        cluster: input.cluster,
        trigger: 'scheduled',
        evaluationId: newest.evaluationId,
        key: newest.evaluationId,
        ...(input.context === undefined ? {} : { context: input.context }),
      });
    }
    if (iteration % PRUNE_EVERY === 0) {
      try {
        await pruneHistory({ at });
      } catch {
        // The store is down or slow: retention catches up on a later round.
      }
    }
    iteration += 1;
    if (iteration - first >= ITERATIONS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof scheduledAssessmentWorkflow>({ ...input, iteration });
    }
    await sleep(intervalMs);
  }
}
