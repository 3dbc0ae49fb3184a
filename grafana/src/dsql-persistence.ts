import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { UIDS } from './common.js';
import { signalDashboard } from './signal-dashboard.js';

/** DSQL Persistence: the persistence path and the DSQL plugin's signals. */
export function dsqlPersistenceDashboard(): dashboard.DashboardBuilder {
  return signalDashboard({
    uid: UIDS.dsqlPersistence,
    title: 'Temporal SRE Copilot / DSQL Persistence',
    description:
      'Persistence as the history service sees it, and the DSQL plugin underneath: OCC ' +
      'conflicts, transactions, the connection pool and its reservoir. The PromQL is the ' +
      "engine's, in the dialect chosen above; the plugin's metrics follow the server dialect.",
    rows: [
      {
        title: 'Persistence path',
        panels: [
          {
            title: 'Persistence latency',
            description: 'The full path: pool checkout, DSQL query, OCC retries.',
            signals: ['persistence.latency_p95_ms', 'persistence.latency_p99_ms'],
          },
          {
            title: 'Persistence errors',
            description:
              'Failed operations, and the two kinds of lost races: the shard moved (CAS) or a ' +
              'condition failed.',
            signals: [
              'persistence.error_rate_per_sec',
              'persistence.shard_ownership_lost_per_sec',
              'persistence.condition_failed_per_sec',
            ],
          },
        ],
      },
      {
        title: 'Transactions',
        panels: [
          {
            title: 'OCC conflicts and retries',
            description:
              'Write contention: conflicts (SQLSTATE 40001), retries, and transactions that ran ' +
              'out of retries.',
            signals: [
              'persistence.occ_conflicts_per_sec',
              'persistence.retry_rate_per_sec',
              'persistence.tx_exhausted_per_sec',
            ],
          },
          {
            title: 'Transaction latency',
            description: 'DSQL transactions, OCC retries included (the plugin view).',
            signals: ['persistence.tx_latency_p99_ms'],
          },
        ],
      },
      {
        title: 'Connection pool',
        panels: [
          {
            title: 'Pool utilisation',
            description: 'Share of the pool in use; near 100 % checkouts start to wait.',
            signals: ['pool.utilization_pct'],
          },
          {
            title: 'Pool waits',
            description: 'Checkouts that had to wait for a connection.',
            signals: ['pool.waits_per_sec'],
          },
          {
            title: 'Pool wait duration',
            description: 'How long those checkouts waited.',
            signals: ['pool.wait_duration_p95_ms'],
          },
        ],
      },
      {
        title: 'Reservoir',
        panels: [
          {
            title: 'Reservoir refills and discards',
            description: 'Connections opened into the reservoir and thrown away (expiry, errors).',
            signals: ['pool.reservoir_refills_per_sec', 'pool.reservoir_discards_per_sec'],
          },
          {
            title: 'Reservoir empty and refill failures',
            description:
              'Checkouts that found the reservoir empty, and refills that failed (auth, DSQL ' +
              'connection-rate limits).',
            signals: ['pool.reservoir_empty_per_sec', 'pool.reservoir_refill_failures_per_sec'],
          },
        ],
      },
    ],
  });
}
