import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import {
  type ActivityOptions,
  log,
  ParentClosePolicy,
  proxyActivities,
  startChild,
} from '@temporalio/workflow';
import type { CopilotActivities } from '../activities/types.js';
import type { AssessHealthInput } from './inputs.js';

/**
 * Options of the activities that read or write the store: short, with a few quick retries. Callers
 * that tune the retry further spread these; recorded histories hold the resulting options, so a
 * change here is a change to every workflow's commands.
 */
export const STORE_ACTIVITY_OPTIONS = {
  startToCloseTimeout: '15s',
  scheduleToCloseTimeout: '45s',
  retry: { maximumAttempts: 3, initialInterval: '1s' },
} as const satisfies ActivityOptions;

const { explain } = proxyActivities<CopilotActivities>({
  // Bedrock makes at most four calls (dispatcher, researcher, one repair each), each bounded by
  // COPILOT_BEDROCK_TIMEOUT_MS (45 s), plus a retrieval (10 s): 190 s at worst, and any failure
  // falls back to the rules inside the activity, so this timeout is a last resort.
  startToCloseTimeout: '200s',
  scheduleToCloseTimeout: '7m',
  retry: { maximumAttempts: 2, initialInterval: '2s' },
});
const { recordAssessment } = proxyActivities<CopilotActivities>({
  ...STORE_ACTIVITY_OPTIONS,
  retry: { ...STORE_ACTIVITY_OPTIONS.retry, backoffCoefficient: 2 },
});

/**
 * Explains one evaluation and stores the assessment with its issues. The state is the engine's
 * (the explain activity reads it from the stored evaluation): the explainer's words are stored
 * beside it and overwrite nothing the engine decided.
 */
export async function assessHealthWorkflow(
  input: AssessHealthInput,
): Promise<{ assessmentId: string }> {
  const explanation = await explain({
    cluster: input.cluster,
    trigger: input.trigger,
    evaluationId: input.evaluationId,
    ...(input.evaluation === undefined ? {} : { evaluation: input.evaluation }),
    ...(input.context === undefined ? {} : { context: input.context }),
  });
  const { id } = await recordAssessment({
    cluster: input.cluster,
    key: `${input.trigger}:${input.key}`,
    trigger: input.trigger,
    explanation,
  });
  return { assessmentId: id };
}

/**
 * Starts the assessment of one evaluation as a child that outlives its parent (an observer that
 * continues as new, or a scheduler, must not cancel an explanation in flight). The child's id
 * names the evaluation, so the same evaluation is never explained twice by the same trigger; an
 * id already taken (a reset observer replaying a change it had explained, a scheduler round
 * retried) means the explanation exists or is running, and is not an error.
 *
 * @returns whether a child was started.
 */
export async function startAssessment(
  workflowId: string,
  input: AssessHealthInput,
): Promise<boolean> {
  try {
    await startChild(assessHealthWorkflow, {
      workflowId,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      // One explanation per evaluation and trigger, even after the first one finished: an LLM
      // explanation costs money, and the stored assessment is the same by its key anyway.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      args: [input],
    });
    return true;
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      log.info('assessment already started', { workflowId });
      return false;
    }
    throw error;
  }
}
