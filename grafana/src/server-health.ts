import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { UIDS } from './common.js';
import { signalDashboard } from './signal-dashboard.js';

/** Server Health: the Temporal services' catalog signals, as the engine reads them. */
export function serverHealthDashboard(): dashboard.DashboardBuilder {
  return signalDashboard({
    uid: UIDS.serverHealth,
    title: 'Temporal SRE Copilot / Server Health',
    description:
      'The Temporal server signals the copilot evaluates, with the PromQL its engine runs, in the ' +
      'dialect chosen above. Persistence and DSQL are on their own dashboard, workers on theirs.',
    rows: [
      {
        title: 'Forward progress',
        panels: [
          {
            title: 'State transitions',
            description:
              'The clearest evidence of forward progress. Without it the copilot says unknown; ' +
              'at zero while work waits, the cluster is stuck.',
            signals: ['state_transitions.throughput_per_sec'],
          },
          {
            title: 'Workflow completions',
            description: 'Workflows finishing well and badly (failed, timed out, terminated).',
            signals: ['workflow_completion.success_per_sec', 'workflow_completion.failed_per_sec'],
          },
          {
            title: 'History tasks',
            description:
              'Transfer, timer and visibility tasks processed, and attempts that failed.',
            signals: ['history.task_processing_rate_per_sec', 'queue.history_task_errors_per_sec'],
          },
          {
            title: 'Retention and deletion',
            description:
              'Housekeeping that looks like trouble (little progress, busy persistence): the ' +
              'engine reads it as system busy, never as failure.',
            signals: ['system.deletion_rate_per_sec', 'system.cleanup_delete_rate_per_sec'],
          },
        ],
      },
      {
        title: 'History',
        panels: [
          {
            title: 'History RPC latency',
            description: 'Latency of the history RPCs that advance workflows.',
            signals: ['history.request_latency_p95_ms', 'history.request_latency_p99_ms'],
          },
          {
            title: 'History backlog age',
            description: 'How long history tasks wait in their queues.',
            signals: ['history.backlog_age_sec'],
          },
          {
            title: 'Transitions per update',
            description: 'Large mutable-state updates (replays, big batches).',
            signals: ['state_transitions.per_update_p99'],
          },
          {
            title: 'Shard churn',
            description: 'Shard ownership moving between hosts: deploys, crashes, membership.',
            signals: ['history.shard_churn_per_sec'],
          },
          {
            title: 'Mutable-state cache hit rate',
            description: 'Misses cost persistence reads.',
            signals: ['cache.hit_rate'],
          },
          {
            title: 'Hot shard',
            description: 'A shard far busier than the rest stands out here.',
            signals: ['shard.hot_shard_rps_p99'],
          },
        ],
      },
      {
        title: 'Frontend',
        panels: [
          {
            title: 'Frontend latency',
            description: 'Client-facing latency; long polls are left out (they wait by design).',
            signals: ['frontend.latency_p95_ms', 'frontend.latency_p99_ms'],
          },
          {
            title: 'Long-poll latency',
            description: 'Long polls alone: 60–90 s is normal when workers wait for work.',
            signals: ['frontend.long_poll_latency_p99_ms'],
          },
          {
            title: 'Frontend requests and errors',
            description: 'Client demand (long polls excluded) and unexpected errors.',
            signals: ['frontend.request_rate_per_sec', 'frontend.error_rate_per_sec'],
          },
          {
            title: 'Rate limiting',
            description: 'Requests rejected by RPC or persistence rate limits.',
            signals: ['throttling.resource_exhausted_per_sec'],
          },
        ],
      },
      {
        title: 'Matching and polling',
        panels: [
          {
            title: 'Task-queue backlog age',
            description: 'The oldest task waiting for a worker, per kind.',
            signals: ['matching.workflow_backlog_age_sec', 'matching.activity_backlog_age_sec'],
          },
          {
            title: 'Backlog depth',
            description: 'Tasks waiting in task-queue backlogs: demand not yet served.',
            signals: ['matching.backlog_count'],
          },
          {
            title: 'Tasks with no poller',
            description: 'Work added to queues no worker polls.',
            signals: ['matching.no_poller_tasks_per_sec'],
          },
          {
            title: 'Poll outcomes',
            description:
              'Share of polls that got a task, timed out, or matched synchronously. Timeouts are ' +
              'normal when idle.',
            signals: [
              'poller.poll_success_rate',
              'poller.poll_timeout_rate',
              'poller.sync_match_rate',
            ],
          },
          {
            title: 'Poll wait',
            description: 'How long a matching poll waits for a task.',
            signals: ['poller.long_poll_latency_ms'],
          },
        ],
      },
      {
        title: 'Hosts',
        panels: [
          {
            title: 'Goroutines',
            description:
              'Always emitted by a running server: a flat line proves the target is seen.',
            signals: ['runtime.goroutines'],
          },
          {
            title: 'In-flight RPCs',
            description: 'Requests being served right now.',
            signals: ['grpc.pending_requests'],
          },
          {
            title: 'GC pause',
            description: 'Go garbage-collection pauses in the server.',
            signals: ['host.gc_pause_p95_ms'],
          },
          {
            title: 'Membership changes',
            description: 'Hosts joining or leaving the ring.',
            signals: ['deploy.membership_changes_per_min'],
          },
        ],
      },
    ],
  });
}
