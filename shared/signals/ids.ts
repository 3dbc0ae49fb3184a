/**
 * The catalog ids the engine reads, as constants so a typo is a compile error, not a signal that
 * silently never fires. A unit test checks every id exists in the catalog.
 */
export const SIG = {
  throughput: 'state_transitions.throughput_per_sec',
  historyLatencyP99: 'history.request_latency_p99_ms',
  success: 'workflow_completion.success_per_sec',
  failed: 'workflow_completion.failed_per_sec',
  historyBacklog: 'history.backlog_age_sec',
  processing: 'history.task_processing_rate_per_sec',
  shardChurn: 'history.shard_churn_per_sec',
  frontendErrors: 'frontend.error_rate_per_sec',
  frontendLatencyP99: 'frontend.latency_p99_ms',
  frontendLongPollP99: 'frontend.long_poll_latency_p99_ms',
  matchingWorkflowBacklog: 'matching.workflow_backlog_age_sec',
  matchingActivityBacklog: 'matching.activity_backlog_age_sec',
  backlogCount: 'matching.backlog_count',
  noPollerTasks: 'matching.no_poller_tasks_per_sec',
  pollTimeoutRate: 'poller.poll_timeout_rate',
  persistenceLatencyP99: 'persistence.latency_p99_ms',
  persistenceErrors: 'persistence.error_rate_per_sec',
  deletion: 'system.deletion_rate_per_sec',
  cleanup: 'system.cleanup_delete_rate_per_sec',
  occConflicts: 'persistence.occ_conflicts_per_sec',
  txExhausted: 'persistence.tx_exhausted_per_sec',
  poolUtilization: 'pool.utilization_pct',
  poolWaitP95: 'pool.wait_duration_p95_ms',
  cacheHitRate: 'cache.hit_rate',
  gcPauseP95: 'host.gc_pause_p95_ms',
  resourceExhausted: 'throttling.resource_exhausted_per_sec',
  goroutines: 'runtime.goroutines',
  wftScheduleToStartP95: 'worker.wft_schedule_to_start_p95_ms',
  activityScheduleToStartP95: 'worker.activity_schedule_to_start_p95_ms',
  workflowSlotsAvailable: 'worker.workflow_slots_available',
  workflowSlotsUsed: 'worker.workflow_slots_used',
  activitySlotsAvailable: 'worker.activity_slots_available',
  activitySlotsUsed: 'worker.activity_slots_used',
  workflowPollers: 'worker.workflow_pollers',
  activityPollers: 'worker.activity_pollers',
  stickyHitRate: 'worker.sticky_cache_hit_rate',
  wftFailures: 'worker.wft_execution_failures_per_sec',
} as const;

export type EngineSignalId = (typeof SIG)[keyof typeof SIG];

/** Values the engine derives from other signals rather than reading one query. */
export const DERIVED = {
  completionRate: 'workflow_completion.completion_rate',
  matchingBacklogMax: 'matching.backlog_age_max_sec',
  scheduleToStartMax: 'worker.schedule_to_start_p95_max_ms',
} as const;
