import { type Client, WorkflowIdConflictPolicy } from '@temporalio/client';
import type { EngineConfigInput } from '../shared/health/config.js';
import type { logWatcherWorkflow } from './workflows/log-watcher.js';
import { configureObserverUpdate } from './workflows/messages.js';
import type { observeClusterWorkflow } from './workflows/observe-cluster.js';
import type { scheduledAssessmentWorkflow } from './workflows/scheduled-assessment.js';

export interface StartOptions {
  readonly cluster: string;
  readonly taskQueue: string;
  readonly intervalMs: number;
  readonly engineConfig: EngineConfigInput;
  readonly logsEnabled: boolean;
  readonly knowledgeBaseId?: string | null;
}

/** Stable workflow ids per cluster: starting twice finds the same executions. */
export const workflowIds = (cluster: string) => ({
  observer: `copilot-observe-${cluster}`,
  scheduled: `copilot-scheduled-assessment-${cluster}`,
  logs: `copilot-log-watcher-${cluster}`,
});

/**
 * Starts the copilot's workflows for one cluster, idempotently. A running observer is kept (its
 * carried engine state survives) and receives the new configuration through its update, so a
 * restart with new settings applies them — the prior art's use-existing start silently kept the
 * old input (docs/lessons.md#restart-applies-new-config).
 */
export async function startCopilotWorkflows(client: Client, o: StartOptions): Promise<void> {
  const ids = workflowIds(o.cluster);
  const assessment = { logsEnabled: o.logsEnabled, knowledgeBaseId: o.knowledgeBaseId ?? null };
  const observer = await client.workflow.start<typeof observeClusterWorkflow>(
    'observeClusterWorkflow',
    {
      taskQueue: o.taskQueue,
      workflowId: ids.observer,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      args: [
        { cluster: o.cluster, intervalMs: o.intervalMs, engineConfig: o.engineConfig, assessment },
      ],
    },
  );
  // Whether it was just started or already running, make it run with these settings.
  await observer.executeUpdate(configureObserverUpdate, {
    args: [{ intervalMs: o.intervalMs, engineConfig: o.engineConfig }],
  });
  await client.workflow.start<typeof scheduledAssessmentWorkflow>('scheduledAssessmentWorkflow', {
    taskQueue: o.taskQueue,
    workflowId: ids.scheduled,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    args: [{ cluster: o.cluster, context: assessment }],
  });
  if (o.logsEnabled) {
    await client.workflow.start<typeof logWatcherWorkflow>('logWatcherWorkflow', {
      taskQueue: o.taskQueue,
      workflowId: ids.logs,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      args: [{ cluster: o.cluster }],
    });
  }
}
