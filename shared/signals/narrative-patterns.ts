import type { Service } from './types.js';

/**
 * A log pattern that narrates a state change. Logs never decide the state; they explain it.
 * Matching is a case-insensitive substring test on the log line, restricted to the services in
 * `services` (empty = any service).
 */
export interface NarrativePattern {
  readonly id: string;
  /** Case-insensitive substring searched in each log line. */
  readonly pattern: string;
  /** Temporal services whose logs this pattern is meaningful in; empty means any. */
  readonly services: readonly string[];
  /** The copilot service this pattern speaks for in per-service health. */
  readonly speaksFor: Service;
  readonly meaning: string;
  readonly origin: 'prior-art' | 'dsql' | 'temporal';
}

/** The 14 patterns the prior art matched, then DSQL and Temporal patterns worth knowing. */
export const NARRATIVE_PATTERNS: readonly NarrativePattern[] = [
  {
    id: 'deadline_exceeded',
    pattern: 'deadline exceeded',
    services: [],
    speaksFor: 'frontend',
    meaning: 'Timeout pressure: calls ran out of time.',
    origin: 'prior-art',
  },
  {
    id: 'context_canceled',
    pattern: 'context canceled',
    services: [],
    speaksFor: 'frontend',
    meaning: 'Cancellation cascade: callers gave up.',
    origin: 'prior-art',
  },
  {
    id: 'shard_ownership',
    pattern: 'shard ownership',
    services: ['history'],
    speaksFor: 'history',
    meaning: 'Membership instability: shards changing hands.',
    origin: 'prior-art',
  },
  {
    id: 'member_joined',
    pattern: 'member joined',
    services: [],
    speaksFor: 'history',
    meaning: 'Ringpop churn: a host joined.',
    origin: 'prior-art',
  },
  {
    id: 'member_left',
    pattern: 'member left',
    services: [],
    speaksFor: 'history',
    meaning: 'Ringpop churn: a host left.',
    origin: 'prior-art',
  },
  {
    id: 'no_poller',
    pattern: 'no poller',
    services: ['matching'],
    speaksFor: 'workers',
    meaning: 'Tasks arrive for queues no worker polls: worker misconfiguration.',
    origin: 'prior-art',
  },
  {
    id: 'reservoir_discard',
    pattern: 'reservoir discard',
    services: ['history'],
    speaksFor: 'persistence',
    meaning: 'DSQL connection reservoir discarding connections: pool pressure.',
    origin: 'prior-art',
  },
  {
    id: 'sqlstate_40001',
    pattern: 'SQLSTATE 40001',
    services: [],
    speaksFor: 'persistence',
    meaning: 'DSQL OCC serialization failure; retried transactions.',
    origin: 'prior-art',
  },
  {
    id: 'rate_limit_exceeded',
    pattern: 'rate limit exceeded',
    services: [],
    speaksFor: 'persistence',
    meaning: 'DSQL connection rate limit hit.',
    origin: 'prior-art',
  },
  {
    id: 'shard_acquired',
    pattern: 'shard acquired',
    services: ['history'],
    speaksFor: 'history',
    meaning: 'Shard ownership changed: acquired.',
    origin: 'prior-art',
  },
  {
    id: 'shard_released',
    pattern: 'shard released',
    services: ['history'],
    speaksFor: 'history',
    meaning: 'Shard ownership changed: released.',
    origin: 'prior-art',
  },
  {
    id: 'serialization_failure',
    pattern: 'serialization failure',
    services: [],
    speaksFor: 'persistence',
    meaning: 'OCC conflict reported by the database.',
    origin: 'prior-art',
  },
  {
    id: 'connection_refused',
    pattern: 'connection refused',
    services: [],
    speaksFor: 'persistence',
    meaning: 'Connectivity loss to a dependency.',
    origin: 'prior-art',
  },
  {
    id: 'pool_exhausted',
    pattern: 'pool exhausted',
    services: [],
    speaksFor: 'persistence',
    meaning: 'Connection pool exhausted: callers queue for connections.',
    origin: 'prior-art',
  },
  {
    id: 'dsql_oc000',
    pattern: 'OC000',
    services: [],
    speaksFor: 'persistence',
    meaning: 'DSQL data conflict: a row changed under a concurrent transaction.',
    origin: 'dsql',
  },
  {
    id: 'dsql_oc001',
    pattern: 'OC001',
    services: [],
    speaksFor: 'persistence',
    meaning: 'DSQL schema changed under a running transaction.',
    origin: 'dsql',
  },
  {
    id: 'dsql_too_many_connections',
    pattern: '53300',
    services: [],
    speaksFor: 'persistence',
    meaning: 'DSQL refused a connection: cluster connection limit reached.',
    origin: 'dsql',
  },
  {
    id: 'dsql_transaction_age',
    pattern: 'transaction age limit',
    services: [],
    speaksFor: 'persistence',
    meaning: 'A DSQL transaction ran past the 5-minute limit.',
    origin: 'dsql',
  },
  {
    id: 'dsql_token_expired',
    pattern: 'token has expired',
    services: [],
    speaksFor: 'persistence',
    meaning: 'A DSQL IAM auth token expired before use: refresh is late.',
    origin: 'dsql',
  },
  {
    id: 'resource_exhausted',
    pattern: 'resource exhausted',
    services: [],
    speaksFor: 'frontend',
    meaning: 'Temporal rate limits rejected requests.',
    origin: 'temporal',
  },
  {
    id: 'nondeterminism',
    pattern: 'nondeterminism',
    services: [],
    speaksFor: 'workers',
    meaning: 'Workflow code changed incompatibly: tasks fail on replay.',
    origin: 'temporal',
  },
  {
    id: 'workflow_busy',
    pattern: 'workflow is busy',
    services: ['history'],
    speaksFor: 'history',
    meaning: 'Hot workflow: concurrent updates contend for one execution lock.',
    origin: 'temporal',
  },
  {
    id: 'persistence_timeout',
    pattern: 'persistence max qps',
    services: [],
    speaksFor: 'persistence',
    meaning: 'Persistence QPS limit throttled the service.',
    origin: 'temporal',
  },
  {
    id: 'panic',
    pattern: 'panic',
    services: [],
    speaksFor: 'history',
    meaning: 'A server goroutine panicked.',
    origin: 'temporal',
  },
];
