// The workflow bundle's entry: every workflow the worker registers, and nothing that does I/O.
export { assessHealthWorkflow } from './assess-health.js';
export { logWatcherWorkflow } from './log-watcher.js';
export { observeClusterWorkflow } from './observe-cluster.js';
export { scheduledAssessmentWorkflow } from './scheduled-assessment.js';
