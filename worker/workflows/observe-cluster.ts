import {
  ActivityFailure,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { type EngineConfigInput, resolveEngineConfig } from '../../shared/health/config.js';
import type { CarriedState, Evaluation } from '../../shared/health/evaluation.js';
import type { CopilotActivities } from '../activities/types.js';
import { STORE_ACTIVITY_OPTIONS, startAssessment } from './assess-health.js';
import type { ObserveClusterInput } from './inputs.js';
import {
  configureObserverUpdate,
  currentEvaluationQuery,
  type ObserverSettings,
} from './messages.js';

export const DEFAULT_INTERVAL_MS = 30_000;
export const DEFAULT_CYCLES_PER_RUN = 200;
const MIN_INTERVAL_MS = 1_000;
const MAX_INTERVAL_MS = 3_600_000;

// Explicit timeouts and bounded retries everywhere: a dependency that stays down must turn into
// absent data and `unknown`, never a loop stalled on retries (prior-art §8).
const { observe } = proxyActivities<CopilotActivities>({
  startToCloseTimeout: '25s',
  scheduleToCloseTimeout: '60s',
  retry: { maximumAttempts: 2, initialInterval: '1s', maximumInterval: '5s' },
});
const { recordEvaluation } = proxyActivities<CopilotActivities>({
  ...STORE_ACTIVITY_OPTIONS,
  retry: { ...STORE_ACTIVITY_OPTIONS.retry, backoffCoefficient: 2, maximumInterval: '5s' },
});

function validateSettings(s: ObserverSettings): void {
  if (
    s.intervalMs !== undefined &&
    !(s.intervalMs >= MIN_INTERVAL_MS && s.intervalMs <= MAX_INTERVAL_MS)
  ) {
    throw new RangeError(
      `intervalMs must be between ${MIN_INTERVAL_MS} and ${MAX_INTERVAL_MS}, got ${s.intervalMs}`,
    );
  }
  // Throws EngineConfigError listing every problem; the update is rejected, history untouched.
  if (s.engineConfig !== undefined) resolveEngineConfig(s.engineConfig);
}

/**
 * One per monitored cluster: every interval takes a snapshot and runs the engine with the carried
 * state (in an activity, so engine upgrades never make old histories nondeterministic), persists
 * the evaluation, and on a state change starts an assessment with the context it needs. Continues
 * as new every `cyclesPerRun` cycles carrying the engine state.
 */
export async function observeClusterWorkflow(input: ObserveClusterInput): Promise<never> {
  const { cluster } = input;
  const observerId = workflowInfo().workflowId;
  let intervalMs = input.intervalMs ?? DEFAULT_INTERVAL_MS;
  let engineConfig: EngineConfigInput | undefined = input.engineConfig;
  let carried: CarriedState | null = input.carried ?? null;
  let cycle = input.cycle ?? 0;
  const cyclesPerRun = Math.max(1, input.cyclesPerRun ?? DEFAULT_CYCLES_PER_RUN);
  const startCycle = cycle;
  let current: Evaluation | null = null;

  setHandler(currentEvaluationQuery, () => current);
  setHandler(
    configureObserverUpdate,
    (settings) => {
      if (settings.intervalMs !== undefined) intervalMs = settings.intervalMs;
      if (settings.engineConfig !== undefined) engineConfig = settings.engineConfig;
      return { intervalMs, ...(engineConfig === undefined ? {} : { engineConfig }) };
    },
    { validator: validateSettings },
  );

  for (;;) {
    const at = Date.now(); // workflow time: deterministic on replay
    const request = {
      cluster,
      observerId,
      cycle,
      carried,
      at,
      ...(engineConfig === undefined ? {} : { engineConfig }),
    };
    let out: Awaited<ReturnType<typeof observe>> | null;
    try {
      out = await observe(request);
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      // The observation failed after its bounded retries: a blind cycle. The engine still judges
      // it (as `unknown`), in an activity like every other cycle, so an engine upgrade never
      // changes what a replayed workflow decides.
      log.warn('observation failed; recording a blind cycle', {
        cluster,
        cycle,
        error: String(error.cause ?? error),
      });
      out = await observe({ ...request, blind: true }).catch((blindError: unknown) => {
        if (!(blindError instanceof ActivityFailure)) throw blindError;
        // No worker could even judge an empty snapshot: nothing to record; the next cycle tries.
        log.warn('blind cycle not judged', { cluster, cycle });
        return null;
      });
    }
    // Nothing judged (not even blind) means nothing to record or explain this cycle.
    if (out !== null) {
      const evaluation = out.evaluation;
      const signalValues = out.signalValues;
      current = evaluation;
      carried = evaluation.carried;

      try {
        await recordEvaluation({ cluster, observerId, cycle, evaluation, signalValues });
      } catch (error) {
        if (!(error instanceof ActivityFailure)) throw error;
        // The store being down must not stop observation: the carried state lives here.
        log.warn('evaluation not persisted', {
          cluster,
          cycle,
          error: String(error.cause ?? error),
        });
      }

      // Every change of state is explained, including the first one a fresh observer sees (from
      // nothing to its first state), so /status has a summary within a cycle of starting.
      if (evaluation.changed) {
        await startAssessment(`assess-${cluster}-${observerId}-${cycle}`, {
          cluster,
          trigger: 'state_change',
          evaluation,
          key: `${observerId}:${cycle}`,
          ...(input.assessment === undefined ? {} : { context: input.assessment }),
        });
      }
    }

    cycle += 1;
    if (cycle - startCycle >= cyclesPerRun || workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof observeClusterWorkflow>({
        ...input,
        intervalMs,
        ...(engineConfig === undefined ? {} : { engineConfig }),
        carried,
        cycle,
      });
    }
    await sleep(intervalMs);
  }
}
