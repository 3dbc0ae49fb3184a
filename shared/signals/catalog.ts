import { DERIVED } from './ids.js';
import type {
  Emitter,
  LabelMatcher,
  Measure,
  MetricRef,
  MetricType,
  SeriesSelector,
  SignalDef,
} from './types.js';

// Small builders keep the catalog readable as data; they allocate once at module load.
const metric = (name: string, type: MetricType, emitter: Emitter = 'server'): MetricRef => ({
  name,
  type,
  emitter,
});
const eq = (label: string, value: string): LabelMatcher => ({ label, op: '=', value });
const re = (label: string, value: string): LabelMatcher => ({ label, op: '=~', value });
const nre = (label: string, value: string): LabelMatcher => ({ label, op: '!~', value });
const sel = (m: MetricRef, ...matchers: LabelMatcher[]): SeriesSelector => ({
  metric: m,
  matchers,
});
const rate = (windowSec: number, ...series: SeriesSelector[]): Measure => ({
  kind: 'rate',
  series,
  windowSec,
});
const quantile = (q: number, windowSec: number, series: SeriesSelector): Measure => ({
  kind: 'quantile',
  q,
  series,
  windowSec,
});
const gauge = (aggregate: 'sum' | 'max' | 'min', ...series: SeriesSelector[]): Measure => ({
  kind: 'gauge',
  series,
  aggregate,
});
const ratio = (numerator: Measure, denominator: Measure, complement = false): Measure =>
  complement
    ? { kind: 'ratio', numerator, denominator, complement }
    : { kind: 'ratio', numerator, denominator };

const HISTORY = eq('service_name', 'history');
const FRONTEND = eq('service_name', 'frontend');
const MATCHING = eq('service_name', 'matching');

/**
 * Frontend operations that legitimately block for up to ~70–90 s (long polls). Their latency is
 * not user-facing latency: the prior art read a healthy cluster's p99 as ~99 s until it excluded
 * them (docs/lessons.md#long-polls-are-not-latency). `GetWorkflowExecutionHistory` long-polls
 * when clients wait on results.
 */
export const LONG_POLL_OPERATIONS = 'Poll.*|GetWorkflowExecutionHistory';

// Server metrics (temporalio/temporal common/metrics/metric_defs.go).
const stateTransitionCount = metric('state_transition_count', 'histogram');
const workflowSuccess = metric('workflow_success', 'counter');
const workflowFailed = metric('workflow_failed', 'counter');
const workflowTimeout = metric('workflow_timeout', 'counter');
const workflowTerminate = metric('workflow_terminate', 'counter');
const taskLatencyQueue = metric('task_latency_queue', 'timer');
const taskRequests = metric('task_requests', 'counter');
const shardItemCreated = metric('sharditem_created_count', 'counter');
const shardItemRemoved = metric('sharditem_removed_count', 'counter');
const serviceErrors = metric('service_errors', 'counter');
const serviceLatency = metric('service_latency', 'timer');
const serviceRequests = metric('service_requests', 'counter');
const approxBacklogAge = metric('approximate_backlog_age_seconds', 'gauge');
const approxBacklogCount = metric('approximate_backlog_count', 'gauge');
const noPollerTasks = metric('no_poller_tasks', 'counter');
const pollSuccess = metric('poll_success', 'counter');
const pollSuccessSync = metric('poll_success_sync', 'counter');
const pollTimeouts = metric('poll_timeouts', 'counter');
const pollLatency = metric('poll_latency', 'timer');
const persistenceLatency = metric('persistence_latency', 'timer');
const persistenceErrors = metric('persistence_errors', 'counter');
const persistenceErrorWithType = metric('persistence_error_with_type', 'counter');
const workflowCleanupDelete = metric('workflow_cleanup_delete', 'counter');

const WF_TASK = eq('task_type', 'Workflow');
const ACT_TASK = eq('task_type', 'Activity');

/** Primary signals: forward progress and its direct impediments. They decide the state. */
const PRIMARY: readonly SignalDef[] = [
  {
    id: 'state_transitions.throughput_per_sec',
    category: 'primary',
    family: '1',
    unit: 'per_sec',
    meaning:
      'Mutable-state updates persisted per second: the clearest evidence of forward progress.',
    services: ['history'],
    measure: rate(60, sel(stateTransitionCount)),
    roles: ['progress'],
    note: 'Counts observations of the state_transition_count histogram (its _count series).',
  },
  {
    id: 'history.request_latency_p95_ms',
    category: 'primary',
    family: '2',
    unit: 'ms',
    meaning: 'p95 latency of the history service RPCs that advance workflows.',
    services: ['history'],
    measure: quantile(0.95, 300, sel(serviceLatency, HISTORY)),
  },
  {
    id: 'history.request_latency_p99_ms',
    category: 'primary',
    family: '2',
    unit: 'ms',
    meaning: 'p99 latency of the history service RPCs that advance workflows.',
    services: ['history'],
    measure: quantile(0.99, 300, sel(serviceLatency, HISTORY)),
    note:
      'The prior art gated on the p99 of state_transition_count, which is a count of transitions ' +
      'per update, not a latency (docs/lessons.md#state-transitions-are-not-latency); this reads ' +
      'the history RPC latency instead.',
  },
  {
    id: 'state_transitions.per_update_p99',
    category: 'amplifier',
    family: '2',
    unit: 'count',
    meaning: 'p99 of state transitions written per mutable-state update (large updates, replays).',
    services: ['history'],
    measure: quantile(0.99, 300, sel(stateTransitionCount)),
  },
  {
    id: 'workflow_completion.success_per_sec',
    category: 'primary',
    family: '3',
    unit: 'per_sec',
    meaning: 'Workflows completing successfully per second.',
    services: ['history'],
    measure: rate(60, sel(workflowSuccess)),
    roles: ['progress'],
  },
  {
    id: 'workflow_completion.failed_per_sec',
    category: 'primary',
    family: '3',
    unit: 'per_sec',
    meaning: 'Workflows ending failed, timed out or terminated per second.',
    services: ['history'],
    measure: rate(60, sel(workflowFailed), sel(workflowTimeout), sel(workflowTerminate)),
    roles: ['bad_event'],
    note: 'Each counter is created on first increment, so absence means none happened.',
  },
  {
    id: 'history.backlog_age_sec',
    category: 'primary',
    family: '4',
    unit: 'sec',
    meaning: 'p95 time history tasks wait in their queues before processing completes.',
    services: ['history'],
    measure: quantile(0.95, 300, sel(taskLatencyQueue, HISTORY)),
    roles: ['demand'],
  },
  {
    id: 'history.task_processing_rate_per_sec',
    category: 'primary',
    family: '5',
    unit: 'per_sec',
    meaning: 'History tasks (transfer, timer, visibility) processed per second.',
    services: ['history'],
    measure: rate(60, sel(taskRequests, HISTORY)),
    roles: ['progress'],
  },
  {
    id: 'history.shard_churn_per_sec',
    category: 'primary',
    family: '6',
    unit: 'per_sec',
    meaning: 'Shards created plus removed per second: ownership moving between hosts.',
    services: ['history'],
    measure: rate(300, sel(shardItemCreated), sel(shardItemRemoved)),
    roles: ['bad_event'],
  },
  {
    id: 'frontend.error_rate_per_sec',
    category: 'primary',
    family: '7',
    unit: 'per_sec',
    meaning: 'Unexpected frontend RPC errors per second (user errors such as NotFound excluded).',
    services: ['frontend'],
    measure: rate(60, sel(serviceErrors, FRONTEND)),
    roles: ['bad_event'],
  },
  {
    id: 'frontend.latency_p95_ms',
    category: 'primary',
    family: '8',
    unit: 'ms',
    meaning: 'p95 frontend RPC latency, long-poll operations excluded.',
    services: ['frontend'],
    measure: quantile(
      0.95,
      300,
      sel(serviceLatency, FRONTEND, nre('operation', LONG_POLL_OPERATIONS)),
    ),
  },
  {
    id: 'frontend.latency_p99_ms',
    category: 'primary',
    family: '8',
    unit: 'ms',
    meaning: 'p99 frontend RPC latency, long-poll operations excluded.',
    services: ['frontend'],
    measure: quantile(
      0.99,
      300,
      sel(serviceLatency, FRONTEND, nre('operation', LONG_POLL_OPERATIONS)),
    ),
  },
  {
    id: 'frontend.long_poll_latency_p99_ms',
    category: 'primary',
    family: '8',
    unit: 'ms',
    meaning: 'p99 frontend latency of long-poll operations alone (~70–90 s is normal when idle).',
    services: ['frontend'],
    measure: quantile(
      0.99,
      300,
      sel(serviceLatency, FRONTEND, re('operation', LONG_POLL_OPERATIONS)),
    ),
  },
  {
    id: 'frontend.request_rate_per_sec',
    category: 'primary',
    family: '8',
    unit: 'per_sec',
    meaning: 'Frontend RPCs per second, long polls excluded: client demand on the front door.',
    services: ['frontend'],
    measure: rate(60, sel(serviceRequests, FRONTEND, nre('operation', LONG_POLL_OPERATIONS))),
  },
  {
    id: 'matching.workflow_backlog_age_sec',
    category: 'primary',
    family: '9',
    unit: 'sec',
    meaning: 'Age of the oldest workflow task waiting in any task queue for a worker.',
    services: ['matching', 'workers'],
    measure: gauge('max', sel(approxBacklogAge, MATCHING, WF_TASK)),
    roles: ['demand'],
    note: 'Reads the approximate_backlog_age_seconds gauge (server v1.25+), which also sees tasks never dequeued.',
  },
  {
    id: 'matching.activity_backlog_age_sec',
    category: 'primary',
    family: '9',
    unit: 'sec',
    meaning: 'Age of the oldest activity task waiting in any task queue for a worker.',
    services: ['matching', 'workers'],
    measure: gauge('max', sel(approxBacklogAge, MATCHING, ACT_TASK)),
    roles: ['demand'],
  },
  {
    id: 'matching.backlog_count',
    category: 'primary',
    family: '9',
    unit: 'count',
    meaning: 'Tasks waiting in task-queue backlogs across the cluster: demand not yet served.',
    services: ['matching', 'workers'],
    measure: gauge('sum', sel(approxBacklogCount, MATCHING)),
    roles: ['demand'],
    note:
      'Replaces the prior art cumulative schedule-to-start count used as a depth ' +
      '(docs/lessons.md#counters-are-not-depths).',
  },
  {
    id: 'matching.no_poller_tasks_per_sec',
    category: 'primary',
    family: '9',
    unit: 'per_sec',
    meaning: 'Tasks added to queues that had no recent poller: work with no worker to take it.',
    services: ['matching', 'workers'],
    measure: rate(60, sel(noPollerTasks, MATCHING)),
    roles: ['demand', 'bad_event'],
  },
  {
    id: 'poller.poll_success_rate',
    category: 'primary',
    family: '10',
    unit: 'ratio',
    meaning: 'Share of worker polls that received a task.',
    services: ['matching', 'workers'],
    measure: ratio(rate(60, sel(pollSuccess)), rate(60, sel(pollSuccess), sel(pollTimeouts))),
  },
  {
    id: 'poller.poll_timeout_rate',
    category: 'primary',
    family: '10',
    unit: 'ratio',
    meaning: 'Share of worker polls that timed out empty (normal when idle, pressure under load).',
    services: ['matching', 'workers'],
    measure: ratio(rate(60, sel(pollTimeouts)), rate(60, sel(pollSuccess), sel(pollTimeouts))),
  },
  {
    id: 'poller.sync_match_rate',
    category: 'primary',
    family: '10',
    unit: 'ratio',
    meaning: 'Share of tasks handed straight to a waiting poller (below ~95 % workers lag).',
    services: ['matching', 'workers'],
    measure: ratio(rate(300, sel(pollSuccessSync)), rate(300, sel(pollSuccess))),
  },
  {
    id: 'poller.long_poll_latency_ms',
    category: 'primary',
    family: '10',
    unit: 'ms',
    meaning: 'p95 time a matching poll waits for a task.',
    services: ['matching', 'workers'],
    measure: quantile(0.95, 300, sel(pollLatency)),
  },
  {
    id: 'persistence.latency_p95_ms',
    category: 'primary',
    family: '11',
    unit: 'ms',
    meaning:
      'p95 history persistence latency: the full path (pool checkout, DSQL query, OCC retry).',
    services: ['persistence', 'history'],
    measure: quantile(0.95, 300, sel(persistenceLatency, HISTORY)),
  },
  {
    id: 'persistence.latency_p99_ms',
    category: 'primary',
    family: '11',
    unit: 'ms',
    meaning:
      'p99 history persistence latency: the full path (pool checkout, DSQL query, OCC retry).',
    services: ['persistence', 'history'],
    measure: quantile(0.99, 300, sel(persistenceLatency, HISTORY)),
  },
  {
    id: 'persistence.error_rate_per_sec',
    category: 'primary',
    family: '12',
    unit: 'per_sec',
    meaning: 'History persistence operations failing per second.',
    services: ['persistence', 'history'],
    measure: rate(60, sel(persistenceErrors, HISTORY)),
    roles: ['bad_event'],
  },
  {
    id: 'persistence.retry_rate_per_sec',
    category: 'primary',
    family: '12',
    unit: 'per_sec',
    meaning: 'DSQL transactions retried after OCC conflicts per second.',
    services: ['persistence'],
    measure: rate(60, sel(metric('dsql_tx_retry', 'counter', 'dsql'))),
    roles: ['bad_event'],
  },
];

/** System operations: housekeeping that looks like failure (zero throughput, slow persistence). */
const SYSTEM: readonly SignalDef[] = [
  {
    id: 'system.deletion_rate_per_sec',
    category: 'system',
    family: 'S',
    unit: 'per_sec',
    meaning: 'History delete tasks processed per second (retention, namespace deletion).',
    services: ['history', 'persistence'],
    measure: rate(60, sel(taskRequests, re('task_type', '.*Delete.*'))),
  },
  {
    id: 'system.cleanup_delete_rate_per_sec',
    category: 'system',
    family: 'S',
    unit: 'per_sec',
    meaning: 'Closed workflows removed by the retention cleanup per second.',
    services: ['history', 'persistence'],
    measure: rate(60, sel(workflowCleanupDelete)),
  },
];

const dsql = (name: string, type: MetricType): MetricRef => metric(name, type, 'dsql');

/** Amplifiers: they never decide the state; they say why it is what it is. */
const AMPLIFIERS: readonly SignalDef[] = [
  {
    id: 'persistence.occ_conflicts_per_sec',
    category: 'amplifier',
    family: '1',
    unit: 'per_sec',
    meaning: 'DSQL optimistic-concurrency conflicts (SQLSTATE 40001, OC000/OC001) per second.',
    services: ['persistence'],
    measure: rate(60, sel(dsql('dsql_tx_conflict', 'counter'))),
    roles: ['bad_event'],
    note:
      'The prior art read a ShardOwnershipLost proxy for both OCC and CAS ' +
      '(docs/lessons.md#each-signal-reads-its-own-metric).',
  },
  {
    id: 'persistence.tx_exhausted_per_sec',
    category: 'amplifier',
    family: '1',
    unit: 'per_sec',
    meaning: 'DSQL transactions that gave up after their retry budget per second.',
    services: ['persistence'],
    measure: rate(60, sel(dsql('dsql_tx_exhausted', 'counter'))),
    roles: ['bad_event'],
  },
  {
    id: 'persistence.shard_ownership_lost_per_sec',
    category: 'amplifier',
    family: '1',
    unit: 'per_sec',
    meaning: 'Persistence writes rejected because the shard moved to another host (CAS failures).',
    services: ['persistence', 'history'],
    measure: rate(60, sel(persistenceErrorWithType, re('error_type', 'ShardOwnershipLost.*'))),
    roles: ['bad_event'],
  },
  {
    id: 'persistence.condition_failed_per_sec',
    category: 'amplifier',
    family: '1',
    unit: 'per_sec',
    meaning: 'Conditional persistence writes that lost a race (condition failed).',
    services: ['persistence', 'history'],
    measure: rate(60, sel(persistenceErrorWithType, re('error_type', 'ConditionFailed.*'))),
    roles: ['bad_event'],
  },
  {
    id: 'pool.utilization_pct',
    category: 'amplifier',
    family: '2',
    unit: 'pct',
    meaning: 'Share of the DSQL connection pool in use.',
    services: ['persistence'],
    measure: ratio(
      gauge('sum', sel(dsql('dsql_pool_in_use', 'gauge'))),
      gauge('sum', sel(dsql('dsql_pool_max_open', 'gauge'))),
    ),
    scale: 100,
  },
  {
    id: 'pool.waits_per_sec',
    category: 'amplifier',
    family: '2',
    unit: 'per_sec',
    meaning: 'Connection checkouts that had to wait for a free connection, per second.',
    services: ['persistence'],
    measure: rate(60, sel(dsql('dsql_pool_wait', 'counter'))),
    roles: ['bad_event'],
    note:
      'A rate, not the cumulative wait count the prior art displayed as current ' +
      '(docs/lessons.md#counters-are-not-depths).',
  },
  {
    id: 'pool.wait_duration_p95_ms',
    category: 'amplifier',
    family: '2',
    unit: 'ms',
    meaning: 'p95 time a checkout waited for a connection.',
    services: ['persistence'],
    measure: quantile(0.95, 300, sel(dsql('dsql_pool_wait_duration', 'timer'))),
  },
  {
    id: 'pool.reservoir_refills_per_sec',
    category: 'amplifier',
    family: '3',
    unit: 'per_sec',
    meaning: 'New DSQL connections opened into the reservoir per second.',
    services: ['persistence'],
    measure: rate(60, sel(dsql('dsql_reservoir_refills', 'counter'))),
  },
  {
    id: 'pool.reservoir_discards_per_sec',
    category: 'amplifier',
    family: '3',
    unit: 'per_sec',
    meaning: 'Connections discarded from the reservoir per second (expiry, errors).',
    services: ['persistence'],
    measure: rate(60, sel(dsql('dsql_reservoir_discards', 'counter'))),
  },
  {
    id: 'pool.reservoir_empty_per_sec',
    category: 'amplifier',
    family: '3',
    unit: 'per_sec',
    meaning: 'Checkouts that found the reservoir empty per second.',
    services: ['persistence'],
    measure: rate(60, sel(dsql('dsql_reservoir_empty', 'counter'))),
    roles: ['bad_event'],
  },
  {
    id: 'pool.reservoir_refill_failures_per_sec',
    category: 'amplifier',
    family: '3',
    unit: 'per_sec',
    meaning: 'Failed attempts to open reservoir connections per second (auth, rate limits).',
    services: ['persistence'],
    measure: rate(60, sel(dsql('dsql_reservoir_refill_failures', 'counter'))),
    roles: ['bad_event'],
  },
  {
    id: 'queue.history_task_errors_per_sec',
    category: 'amplifier',
    family: '4',
    unit: 'per_sec',
    meaning: 'History task attempts that failed and will be retried, per second.',
    services: ['history'],
    measure: rate(60, sel(metric('task_errors', 'counter'), HISTORY)),
    roles: ['bad_event'],
  },
  {
    id: 'persistence.tx_latency_p99_ms',
    category: 'amplifier',
    family: '5',
    unit: 'ms',
    meaning: 'p99 DSQL transaction latency including OCC retries (the plugin view).',
    services: ['persistence'],
    measure: quantile(0.99, 300, sel(dsql('dsql_tx_latency', 'timer'))),
  },
  {
    id: 'cache.hit_rate',
    category: 'amplifier',
    family: '7',
    unit: 'ratio',
    meaning: 'History mutable-state cache hit rate; misses cost persistence reads.',
    services: ['history', 'persistence'],
    measure: ratio(
      rate(60, sel(metric('cache_miss', 'counter'), eq('cache_type', 'mutablestate'))),
      rate(60, sel(metric('cache_requests', 'counter'), eq('cache_type', 'mutablestate'))),
      true,
    ),
    note: 'Hit rate is 1 - misses/requests; the prior art divided requests by requests+misses.',
  },
  {
    id: 'shard.hot_shard_rps_p99',
    category: 'amplifier',
    family: '8',
    unit: 'per_sec',
    meaning: 'p99 persistence request rate per shard: a hot shard stands out here.',
    services: ['history', 'persistence'],
    measure: quantile(0.99, 300, sel(metric('persistence_shard_rps', 'histogram'))),
    note:
      'Replaces max(lock_requests_total), a cumulative counter read as a load ' +
      '(docs/lessons.md#counters-are-not-depths).',
  },
  {
    id: 'grpc.pending_requests',
    category: 'amplifier',
    family: '9',
    unit: 'count',
    meaning: 'RPCs in flight on the server.',
    services: ['frontend', 'history', 'matching'],
    measure: gauge('sum', sel(metric('service_pending_requests', 'gauge'))),
  },
  {
    id: 'runtime.goroutines',
    category: 'amplifier',
    family: '10',
    unit: 'count',
    meaning:
      'Goroutines across server processes; always emitted, so it also proves the target is seen.',
    services: ['frontend', 'history', 'matching'],
    measure: gauge('sum', sel(metric('num_goroutines', 'gauge'))),
    roles: ['liveness'],
  },
  {
    id: 'host.gc_pause_p95_ms',
    category: 'amplifier',
    family: '11',
    unit: 'ms',
    meaning: 'p95 Go garbage-collection pause in the server.',
    services: ['frontend', 'history', 'matching'],
    measure: quantile(0.95, 300, sel(metric('memory_gc_pause_ms', 'timer'))),
  },
  {
    id: 'throttling.resource_exhausted_per_sec',
    category: 'amplifier',
    family: '12',
    unit: 'per_sec',
    meaning: 'Requests rejected by rate limits (RPC and persistence) per second.',
    services: ['frontend', 'persistence'],
    measure: rate(
      60,
      sel(metric('service_errors_resource_exhausted', 'counter')),
      sel(metric('persistence_errors_resource_exhausted', 'counter')),
    ),
    roles: ['bad_event'],
  },
  {
    id: 'deploy.membership_changes_per_min',
    category: 'amplifier',
    family: '14',
    unit: 'per_min',
    meaning: 'Ring membership changes per minute: hosts joining or leaving.',
    services: ['history', 'matching', 'frontend'],
    measure: rate(60, sel(metric('membership_changed_count', 'counter'))),
    scale: 60,
    roles: ['bad_event'],
  },
];

const sdk = (name: string, type: MetricType): MetricRef => metric(name, type, 'sdk');
/**
 * The server's own internal worker (scanners, archival, namespace deletion) reports SDK metrics
 * too, under `temporal_system`; seen on the dev server. It is not the users' workers, so worker
 * signals leave it out (a series without the label still matches).
 */
const USER_NAMESPACES: LabelMatcher = { label: 'namespace', op: '!=', value: 'temporal_system' };
const WORKFLOW_WORKER = eq('worker_type', 'WorkflowWorker');
const ACTIVITY_WORKER = eq('worker_type', 'ActivityWorker');

/**
 * Worker signals, from the SDK metrics of the copilot's users' workers. They decide the
 * bottleneck, never the state; absent SDK metrics mean "not seen", never "no free slots".
 */
const WORKER: readonly SignalDef[] = [
  {
    id: 'worker.wft_schedule_to_start_p95_ms',
    category: 'worker',
    family: 'W1',
    unit: 'ms',
    meaning: 'p95 time workflow tasks waited for a worker to pick them up.',
    services: ['workers'],
    measure: quantile(
      0.95,
      300,
      sel(sdk('workflow_task_schedule_to_start_latency', 'timer'), USER_NAMESPACES),
    ),
  },
  {
    id: 'worker.wft_schedule_to_start_p99_ms',
    category: 'worker',
    family: 'W1',
    unit: 'ms',
    meaning: 'p99 time workflow tasks waited for a worker to pick them up.',
    services: ['workers'],
    measure: quantile(
      0.99,
      300,
      sel(sdk('workflow_task_schedule_to_start_latency', 'timer'), USER_NAMESPACES),
    ),
  },
  {
    id: 'worker.activity_schedule_to_start_p95_ms',
    category: 'worker',
    family: 'W2',
    unit: 'ms',
    meaning: 'p95 time activity tasks waited for a worker to pick them up.',
    services: ['workers'],
    measure: quantile(
      0.95,
      300,
      sel(sdk('activity_schedule_to_start_latency', 'timer'), USER_NAMESPACES),
    ),
  },
  {
    id: 'worker.activity_schedule_to_start_p99_ms',
    category: 'worker',
    family: 'W2',
    unit: 'ms',
    meaning: 'p99 time activity tasks waited for a worker to pick them up.',
    services: ['workers'],
    measure: quantile(
      0.99,
      300,
      sel(sdk('activity_schedule_to_start_latency', 'timer'), USER_NAMESPACES),
    ),
  },
  {
    id: 'worker.workflow_slots_available',
    category: 'worker',
    family: 'W3',
    unit: 'count',
    meaning: 'Free workflow-task slots across workers; at 0 workers stop polling.',
    services: ['workers'],
    measure: gauge(
      'sum',
      sel(sdk('worker_task_slots_available', 'gauge'), USER_NAMESPACES, WORKFLOW_WORKER),
    ),
  },
  {
    id: 'worker.workflow_slots_used',
    category: 'worker',
    family: 'W3',
    unit: 'count',
    meaning: 'Busy workflow-task slots across workers.',
    services: ['workers'],
    measure: gauge(
      'sum',
      sel(sdk('worker_task_slots_used', 'gauge'), USER_NAMESPACES, WORKFLOW_WORKER),
    ),
  },
  {
    id: 'worker.activity_slots_available',
    category: 'worker',
    family: 'W4',
    unit: 'count',
    meaning: 'Free activity slots across workers; at 0 workers stop polling.',
    services: ['workers'],
    measure: gauge(
      'sum',
      sel(sdk('worker_task_slots_available', 'gauge'), USER_NAMESPACES, ACTIVITY_WORKER),
    ),
  },
  {
    id: 'worker.activity_slots_used',
    category: 'worker',
    family: 'W4',
    unit: 'count',
    meaning: 'Busy activity slots across workers.',
    services: ['workers'],
    measure: gauge(
      'sum',
      sel(sdk('worker_task_slots_used', 'gauge'), USER_NAMESPACES, ACTIVITY_WORKER),
    ),
  },
  {
    id: 'worker.workflow_pollers',
    category: 'worker',
    family: 'W5',
    unit: 'count',
    meaning: 'Workflow-task pollers (normal and sticky) across workers.',
    services: ['workers'],
    measure: gauge(
      'sum',
      sel(
        sdk('num_pollers', 'gauge'),
        re('poller_type', '(sticky_)?workflow_task|workflow_sticky_task'),
      ),
    ),
    note:
      'sdk-core spells the sticky poller sticky_workflow_task, the Go SDK workflow_sticky_task ' +
      '(seen on the dev server, whose internal worker is Go).',
  },
  {
    id: 'worker.activity_pollers',
    category: 'worker',
    family: 'W6',
    unit: 'count',
    meaning: 'Activity-task pollers across workers.',
    services: ['workers'],
    measure: gauge(
      'sum',
      sel(sdk('num_pollers', 'gauge'), USER_NAMESPACES, eq('poller_type', 'activity_task')),
    ),
  },
  {
    id: 'worker.sticky_cache_hit_rate',
    category: 'worker',
    family: 'W+',
    unit: 'ratio',
    meaning: 'Share of workflow tasks served from the sticky cache without a full replay.',
    services: ['workers'],
    measure: ratio(
      rate(300, sel(sdk('sticky_cache_miss', 'counter'), USER_NAMESPACES)),
      rate(
        300,
        sel(sdk('sticky_cache_hit', 'counter'), USER_NAMESPACES),
        sel(sdk('sticky_cache_miss', 'counter'), USER_NAMESPACES),
      ),
      true,
    ),
    note:
      'Reads real sticky misses; the prior art hard-coded the miss rate to 0 ' +
      '(docs/lessons.md#each-signal-reads-its-own-metric).',
  },
  {
    id: 'worker.wft_execution_failures_per_sec',
    category: 'worker',
    family: 'W+',
    unit: 'per_sec',
    meaning: 'Workflow-task executions failing in workers per second (nondeterminism, panics).',
    services: ['workers'],
    measure: rate(60, sel(sdk('workflow_task_execution_failed', 'counter'), USER_NAMESPACES)),
    roles: ['bad_event'],
  },
  {
    id: 'worker.long_poll_failures_per_sec',
    category: 'worker',
    family: 'W+',
    unit: 'per_sec',
    meaning: 'Worker long-poll RPCs failing per second (connectivity, throttling).',
    services: ['workers'],
    measure: rate(60, sel(sdk('long_request_failure', 'counter'), USER_NAMESPACES)),
    roles: ['bad_event'],
  },
];

/** Every signal the copilot knows, in a stable order. */
export const SIGNAL_CATALOG: readonly SignalDef[] = [
  ...PRIMARY,
  ...SYSTEM,
  ...AMPLIFIERS,
  ...WORKER,
];

const BY_ID: ReadonlyMap<string, SignalDef> = new Map(SIGNAL_CATALOG.map((s) => [s.id, s]));

/** Looks a signal up by id; undefined for an unknown id. */
export function signalById(id: string): SignalDef | undefined {
  return BY_ID.get(id);
}

const DERIVED_IDS = new Set<string>(Object.values(DERIVED));

/**
 * A signal id the catalog defines, or a value the engine derives from catalog signals (the
 * matching backlog age, the completion rate): what gates read and explanations may cite.
 */
export function isKnownSignalId(id: string): boolean {
  return BY_ID.has(id) || DERIVED_IDS.has(id);
}

/** All metric families a signal reads, flattened (used by dialect detection and tests). */
export function metricsOf(measure: Measure): MetricRef[] {
  switch (measure.kind) {
    case 'rate':
    case 'gauge':
      return measure.series.map((s) => s.metric);
    case 'quantile':
      return [measure.series.metric];
    case 'ratio':
      return [...metricsOf(measure.numerator), ...metricsOf(measure.denominator)];
  }
}
