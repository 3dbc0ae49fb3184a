import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { UIDS } from './common.js';
import { signalDashboard } from './signal-dashboard.js';

/** Workers: the SDK signals of the users' workers, which decide the bottleneck. */
export function workersDashboard(): dashboard.DashboardBuilder {
  return signalDashboard({
    uid: UIDS.workers,
    title: 'Temporal SRE Copilot / Workers',
    description:
      "The users' workers as their SDK metrics show them (the server's own internal worker in " +
      "temporal_system is left out, as the engine leaves it out). The PromQL is the engine's, in " +
      'the SDK dialect chosen above. Task-queue backlogs are on Server Health.',
    rows: [
      {
        title: 'Waiting for workers',
        panels: [
          {
            title: 'Workflow-task schedule-to-start',
            description: 'How long workflow tasks wait for a worker to pick them up.',
            signals: ['worker.wft_schedule_to_start_p95_ms', 'worker.wft_schedule_to_start_p99_ms'],
          },
          {
            title: 'Activity schedule-to-start',
            description: 'How long activity tasks wait for a worker.',
            signals: [
              'worker.activity_schedule_to_start_p95_ms',
              'worker.activity_schedule_to_start_p99_ms',
            ],
          },
        ],
      },
      {
        title: 'Capacity',
        panels: [
          {
            title: 'Workflow-task slots',
            description: 'Free and busy slots; at zero free, workers stop polling.',
            signals: ['worker.workflow_slots_available', 'worker.workflow_slots_used'],
          },
          {
            title: 'Activity slots',
            description: 'Free and busy slots; at zero free, workers stop polling.',
            signals: ['worker.activity_slots_available', 'worker.activity_slots_used'],
          },
          {
            title: 'Pollers',
            description: 'Pollers per task kind (sticky workflow pollers included).',
            signals: ['worker.workflow_pollers', 'worker.activity_pollers'],
          },
        ],
      },
      {
        title: 'Worker health',
        panels: [
          {
            title: 'Sticky cache hit rate',
            description: 'Workflow tasks served without a full history replay.',
            signals: ['worker.sticky_cache_hit_rate'],
          },
          {
            title: 'Worker failures',
            description:
              'Workflow tasks failing in workers (nondeterminism, panics) and long polls failing ' +
              '(connectivity, throttling).',
            signals: ['worker.wft_execution_failures_per_sec', 'worker.long_poll_failures_per_sec'],
          },
        ],
      },
    ],
  });
}
