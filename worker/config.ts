import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigurationError } from '../shared/errors.js';
import { type EngineConfigInput, resolveEngineConfig } from '../shared/health/config.js';
import { ClusterNameSchema } from '../shared/models/cluster.js';
import {
  StalenessEnvSchema,
  type StalenessPolicy,
  stalenessOf,
} from '../shared/models/freshness.js';
import { type AnyStoreTarget, storeTargetFromEnv } from '../shared/store/target.js';
import { type MetricsTarget, selectMetricsSource } from './sources/select.js';

/**
 * Every environment variable the worker reads, validated once at start-up. The README lists
 * them; CDK passes exactly these names (the prior art's infra set variables its code no longer
 * read: docs/lessons.md#infra-sets-what-the-code-reads).
 */
export const WorkerEnvSchema = z.object({
  ...StalenessEnvSchema.shape,
  /** Temporal frontend `host:port` of the copilot's own Temporal. Unset in `copilot dev`. */
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('copilot'),
  /** Temporal Cloud API key; implies TLS. Inject it from a secret store, never bake it in. */
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS: z.enum(['true', 'false']).optional(),
  /** Name of the monitored cluster (rows and workflow ids are keyed by it). */
  COPILOT_CLUSTER: ClusterNameSchema.default('local'),
  /** Observation cadence in seconds. */
  COPILOT_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  /** Days of per-cycle evaluations and log patterns the store keeps. */
  COPILOT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** Engine configuration: inline JSON, or a path to a JSON file. */
  COPILOT_ENGINE_CONFIG: z.string().min(1).optional(),
  /** Metrics: a Prometheus-compatible base URL (Prometheus, Mimir). */
  PROMETHEUS_URL: z.url().optional(),
  /** Metrics: an Amazon Managed Prometheus workspace URL (requests are SigV4-signed). */
  AMP_WORKSPACE_URL: z.url().optional(),
  /** Metrics: Temporal `/metrics` endpoints scraped directly, comma-separated. */
  COPILOT_SCRAPE_URLS: z.string().min(1).optional(),
  /** `auto` (detect from metric names), `tally` or `otel`. */
  COPILOT_METRICS_DIALECT: z.enum(['auto', 'tally', 'otel']).default('auto'),
  /** Logs: Loki base URL; unset disables the log watcher. */
  LOKI_URL: z.url().optional(),
  /** Store: a PostgreSQL URL. */
  COPILOT_DATABASE_URL: z.string().min(1).optional(),
  /** Store: an Aurora DSQL cluster endpoint (IAM auth). */
  COPILOT_DSQL_ENDPOINT: z.string().min(1).optional(),
  COPILOT_DSQL_USER: z.string().min(1).default('admin'),
  /** Store: the embedded PGlite's data directory (used when no other store is set). */
  COPILOT_DATA_DIR: z.string().min(1).default('.copilot/data'),
  /** Bedrock Knowledge Base id for runbooks (explanations issue). */
  COPILOT_KB_ID: z.string().min(1).optional(),
  AWS_REGION: z.string().min(1).optional(),
});
export type WorkerEnv = z.infer<typeof WorkerEnvSchema>;

export class ConfigError extends ConfigurationError {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface WorkerSettings {
  readonly env: WorkerEnv;
  readonly engineConfig: EngineConfigInput;
  readonly intervalMs: number;
  /** The metrics source to open with `openMetricsSource` (worker/sources/select.ts). */
  readonly metrics: MetricsTarget;
  /** The store to open with `openStoreTarget` (shared/store/target.ts). */
  readonly storeTarget: AnyStoreTarget;
  /**
   * When the newest stored evaluation is too old to resume from (and, in `copilot dev`, to serve
   * as current): the readers' rule, from the same variables the API reads.
   */
  readonly staleness: StalenessPolicy;
}

/** The store the environment names; COPILOT_DATA_DIR has a default, so there always is one. */
function storeFrom(env: WorkerEnv): AnyStoreTarget {
  // Two stores at once throws StoreConfigError, a ConfigurationError like ConfigError.
  const target = storeTargetFromEnv(env);
  if (target === undefined)
    throw new ConfigError('COPILOT_DATA_DIR is blank: set it to a directory');
  return target;
}

function engineConfigFrom(raw: string | undefined): EngineConfigInput {
  if (raw === undefined) return {};
  const text = raw.trimStart().startsWith('{')
    ? raw
    : existsSync(raw)
      ? readFileSync(raw, 'utf8')
      : undefined;
  if (text === undefined)
    throw new ConfigError(`COPILOT_ENGINE_CONFIG is neither JSON nor a readable file: ${raw}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`COPILOT_ENGINE_CONFIG is not valid JSON: ${(error as Error).message}`);
  }
  try {
    resolveEngineConfig(value); // validate now: a bad configuration stops start-up, not a cycle
  } catch (error) {
    throw new ConfigError(`COPILOT_ENGINE_CONFIG: ${(error as Error).message}`);
  }
  return value as EngineConfigInput;
}

/** Parses the environment once; throws {@link ConfigError} naming each bad variable. */
export function loadWorkerSettings(source: NodeJS.ProcessEnv = process.env): WorkerSettings {
  const parsed = WorkerEnvSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid environment: ${problems.join('; ')}`);
  }
  const env = parsed.data;
  // Two sources at once throws MetricsSourceConfigError, a ConfigurationError like ConfigError,
  // with the message `copilot assess` and `replay` give for the same variables.
  const metrics = selectMetricsSource(env);
  const storeTarget = storeFrom(env);
  return {
    env,
    engineConfig: engineConfigFrom(env.COPILOT_ENGINE_CONFIG),
    intervalMs: env.COPILOT_INTERVAL_SECONDS * 1000,
    metrics,
    storeTarget,
    staleness: stalenessOf(env),
  };
}
