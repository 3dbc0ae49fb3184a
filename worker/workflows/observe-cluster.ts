import {
  ActivityFailure,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { verdictOf } from '../../shared/explain/verdict.js';
import { type EngineConfigInput, resolveEngineConfig } from '../../shared/health/config.js';
import type { CarriedState, StateReason } from '../../shared/health/evaluation.js';
import type { CopilotActivities, CycleSummary, ObserveCycleOutput } from '../activities/types.js';
import { startAssessment } from './assess-health.js';
import type { ObserveClusterInput } from './inputs.js';
import {
  configureObserverUpdate,
  currentEvaluationQuery,
  type ObserverSettings,
} from './messages.js';

export const DEFAULT_INTERVAL_MS = 30_000;
/**
 * Cycles per run before continue-as-new. A lean cycle costs ~11 history events and ~2–3 KB
 * (docs/benchmarks.md, "Observer history"): events, not bytes, are now the limit, and Temporal
 * suggests continuing as new past 4 Ki events, about 370 steady cycles. 300 stays under it; the
 * workflow also honours the server's suggestion, which state changes (child starts) bring sooner.
 */
export const DEFAULT_CYCLES_PER_RUN = 300;
const MIN_INTERVAL_MS = 1_000;
const MAX_INTERVAL_MS = 3_600_000;

// Explicit timeouts and bounded retries everywhere: a dependency that stays down must turn into
// absent data and `unknown`, never a loop stalled on retries. A retried observeCycle re-observes
// the same instant (`at` comes from the workflow), so its write lands on the same row.
const { observeCycle } = proxyActivities<CopilotActivities>({
  startToCloseTimeout: '25s',
  scheduleToCloseTimeout: '60s',
  retry: { maximumAttempts: 2, initialInterval: '1s', maximumInterval: '5s' },
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
 * One per monitored cluster: every interval one activity takes a snapshot, runs the engine with
 * the carried state and stores the evaluation (so engine upgrades never make old histories
 * nondeterministic, and the evaluation never enters this history: only the decision summary the
 * workflow decides with does). On a state change it starts an assessment of the stored evaluation,
 * by id. Continues as new every `cyclesPerRun` cycles carrying the engine state; a new run that
 * did not continue from another resumes the carried state from the store.
 */
export async function observeClusterWorkflow(input: ObserveClusterInput): Promise<never> {
  const { cluster } = input;
  const { workflowId: observerId, runId } = workflowInfo();
  let intervalMs = input.intervalMs ?? DEFAULT_INTERVAL_MS;
  let engineConfig: EngineConfigInput | undefined = input.engineConfig;
  let carried: CarriedState | null = input.carried ?? null;
  let cycle = input.cycle ?? 0;
  // A run that did not continue from another starts from what the store remembers.
  let resume = input.continued !== true;
  const cyclesPerRun = Math.max(1, input.cyclesPerRun ?? DEFAULT_CYCLES_PER_RUN);
  const startCycle = cycle;
  let current: CycleSummary | null = null;
  // The previous cycle's verdict, and the verdict the newest assessment explained: a new verdict
  // within the same state is re-worded too, once it has held for two cycles.
  let lastVerdict: string | null = input.lastVerdict ?? null;
  let assessedVerdict: string | null = input.assessedVerdict ?? null;
  // Runs recorded before the verdict rule replay with the rule that wrote them: the reason-only
  // rule behind its own patch, or no re-wording at all. Asked once, before the first command, so
  // a new run records the marker up front and an old history (which has none there) reads false.
  const byVerdict = patched('reword-on-verdict-change');
  let lastReason: StateReason | null = input.lastReason ?? null;
  let assessedReason: StateReason | null = input.assessedReason ?? null;

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
      runId,
      cycle,
      carried,
      at,
      intervalMs,
      ...(resume ? { resume: true } : {}),
      ...(engineConfig === undefined ? {} : { engineConfig }),
    };
    let out: ObserveCycleOutput | null;
    try {
      out = await observeCycle(request);
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
      out = await observeCycle({ ...request, blind: true }).catch((blindError: unknown) => {
        if (!(blindError instanceof ActivityFailure)) throw blindError;
        // No worker could even judge an empty snapshot: nothing to record; the next cycle tries.
        log.warn('blind cycle not judged', { cluster, cycle });
        return null;
      });
    }
    // Nothing judged (not even blind) means nothing to record or explain this cycle.
    if (out !== null) {
      const summary = out.summary;
      current = summary;
      carried = summary.carried;
      resume = false;
      if (out.stored === 'failed' || out.stored === 'conflict') {
        // The store being down must not stop observation: the carried state lives here.
        log.warn('evaluation not stored', {
          cluster,
          cycle,
          outcome: out.stored,
          note: out.storeNote,
        });
      }
      // Every change of state is explained, including the first one a fresh observer sees (from
      // nothing to its first state), so /status has a summary within a cycle of starting. A run
      // resumed from the store compares with the stored state, so a restart explains nothing new.
      // A new verdict within a state — another reason (healthy → idle, debouncing → sustained) or
      // other problem gates (stressed by persistence, then by the workers) — is re-worded as well:
      // the words name the reason and the firing gates, and a summary saying "every gate passes"
      // under an `idle` status is the lag the prior art showed. Only once the new verdict has held
      // for two cycles, so one flapping every cycle does not start an assessment every cycle; not
      // before this observer started one (a restarted run knows no assessed verdict); and not in
      // histories recorded before this rule (`byVerdict`).
      const verdict = verdictOf(summary.reason, summary.firedGates);
      // A run resumed from the store starts knowing the verdict the newest stored assessment
      // explained (no patch needed: histories without it replay with the field absent).
      if (out.resumedFrom?.assessedVerdict !== undefined && assessedVerdict === null)
        assessedVerdict = out.resumedFrom.assessedVerdict;
      const reworded =
        !summary.changed &&
        (byVerdict
          ? assessedVerdict !== null && verdict === lastVerdict && verdict !== assessedVerdict
          : assessedReason !== null &&
            summary.reason === lastReason &&
            summary.reason !== assessedReason &&
            patched('reword-on-reason-change'));
      lastVerdict = verdict;
      lastReason = summary.reason;
      if (summary.changed || reworded) {
        assessedVerdict = verdict;
        assessedReason = summary.reason;
        await startAssessment(`assess-${cluster}-${summary.evaluationId}`, {
          cluster,
          trigger: 'state_change',
          evaluationId: summary.evaluationId,
          ...(out.evaluation === undefined ? {} : { evaluation: out.evaluation }),
          key: summary.evaluationId,
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
        continued: true,
        lastVerdict,
        assessedVerdict,
      });
    }
    await sleep(intervalMs);
  }
}
