import { proxyActivities } from '@temporalio/workflow';
import type { CopilotActivities } from '../activities/types.js';
import type { AssessHealthInput } from './inputs.js';

const { explain } = proxyActivities<CopilotActivities>({
  // An LLM explainer may take a while; the rule-based fallback inside the activity bounds it.
  startToCloseTimeout: '90s',
  scheduleToCloseTimeout: '3m',
  retry: { maximumAttempts: 2, initialInterval: '2s' },
});
const { recordAssessment } = proxyActivities<CopilotActivities>({
  startToCloseTimeout: '15s',
  scheduleToCloseTimeout: '45s',
  retry: { maximumAttempts: 3, initialInterval: '1s', backoffCoefficient: 2 },
});

/**
 * Explains one evaluation and stores the assessment with its issues. The state is the engine's:
 * the explainer's words are stored beside it and overwrite nothing the engine decided.
 */
export async function assessHealthWorkflow(
  input: AssessHealthInput,
): Promise<{ assessmentId: string }> {
  const explanation = await explain({
    cluster: input.cluster,
    trigger: input.trigger,
    evaluation: input.evaluation,
    ...(input.context === undefined ? {} : { context: input.context }),
  });
  const { id } = await recordAssessment({
    cluster: input.cluster,
    key: `${input.trigger}:${input.key}`,
    trigger: input.trigger,
    evaluation: input.evaluation,
    explanation,
  });
  return { assessmentId: id };
}
