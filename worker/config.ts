import { existsSync, readFileSync } from 'node:fs';
import * as z from 'zod';
import { ConfigurationError } from '../shared/errors.js';
import { type EngineConfigInput, resolveEngineConfig } from '../shared/health/config.js';
import { ClusterNameSchema } from '../shared/models/cluster.js';
import {
  StalenessEnvSchema,
  type StalenessPolicy,
  stalenessOf,
} from '../shared/models/freshness.js';
import { type AnyStoreTarget, storeTargetFromEnv } from '../shared/store/target.js';
import { describeFirstIssue } from '../shared/zod-issues.js';
import { type ExplainerConfig, parseExplainerEnv } from './explain/config.js';
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
  /**
   * The monitored clusters, as JSON: a list of {@link MonitoredClusterSchema} entries (name,
   * metrics source, dialect, engine configuration, Loki). Set, it replaces the single-cluster
   * variables (COPILOT_CLUSTER, PROMETHEUS_URL, AMP_WORKSPACE_URL, COPILOT_SCRAPE_URLS,
   * COPILOT_METRICS_DIALECT, COPILOT_ENGINE_CONFIG, LOKI_URL): setting both is refused.
   */
  COPILOT_CLUSTERS: z.string().min(1).optional(),
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

/**
 * One entry of COPILOT_CLUSTERS. Exactly one metrics source per cluster, checked by the selector
 * every process uses (`worker/sources/select.ts`), so the same conflicts are refused. Unknown keys
 * are refused too: a misspelt `prometheusURL` must not leave a cluster without its source.
 *
 * @example {"name":"prod-eu","ampWorkspaceUrl":"https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1","engineConfig":{"band":{"initial":"mid-scale"}}}
 */
export const MonitoredClusterSchema = z.strictObject({
  /** Rows and workflow ids are keyed by it. */
  name: ClusterNameSchema,
  /** A Prometheus-compatible base URL (Prometheus, Mimir). */
  prometheusUrl: z.url().optional(),
  /** An Amazon Managed Prometheus workspace URL (SigV4, region from the host or AWS_REGION). */
  ampWorkspaceUrl: z.url().optional(),
  /** Temporal `/metrics` endpoints scraped directly. */
  scrapeUrls: z.array(z.string().min(1)).min(1).optional(),
  /** `auto` (detect from metric names), `tally` or `otel`. */
  dialect: z.enum(['auto', 'tally', 'otel']).default('auto'),
  /** The engine configuration for this cluster (`EngineConfigInputSchema`); defaults when absent. */
  engineConfig: z.record(z.string(), z.unknown()).optional(),
  /** Loki base URL of this cluster's logs; absent, no log watcher for it. */
  lokiUrl: z.url().optional(),
});
export type MonitoredCluster = z.input<typeof MonitoredClusterSchema>;

/** What the worker runs for one monitored cluster. */
export interface ClusterSettings {
  readonly name: string;
  /** The metrics source to open with `openMetricsSource` (worker/sources/select.ts). */
  readonly metrics: MetricsTarget;
  readonly engineConfig: EngineConfigInput;
  /** Loki base URL; unset disables the log watcher for this cluster. */
  readonly lokiUrl?: string;
}

export interface WorkerSettings {
  readonly env: WorkerEnv;
  /**
   * The monitored clusters, in the order configured: COPILOT_CLUSTERS, or the one cluster the
   * single-cluster variables describe. Never empty; names are unique.
   */
  readonly clusters: readonly ClusterSettings[];
  /** One cadence for every cluster. */
  readonly intervalMs: number;
  /** The store to open with `openStoreTarget` (shared/store/target.ts). */
  readonly storeTarget: AnyStoreTarget;
  /**
   * When the newest stored evaluation is too old to resume from (and, in `copilot dev`, to serve
   * as current): the readers' rule, from the same variables the API reads.
   */
  readonly staleness: StalenessPolicy;
  /** Who explains and with what (worker/explain/config.ts): the rules unless Bedrock is asked for. */
  readonly explainer: ExplainerConfig;
}

/** The store the environment names; COPILOT_DATA_DIR has a default, so there always is one. */
function storeFrom(env: WorkerEnv): AnyStoreTarget {
  // Two stores at once throws StoreConfigError, a ConfigurationError like ConfigError.
  const target = storeTargetFromEnv(env);
  if (target === undefined)
    throw new ConfigError('COPILOT_DATA_DIR is blank: set it to a directory');
  return target;
}

/** Validates an engine configuration now: a bad one stops start-up, not a cycle. */
function checkedEngineConfig(value: unknown, where: string): EngineConfigInput {
  try {
    resolveEngineConfig(value);
  } catch (error) {
    throw new ConfigError(`${where}: ${(error as Error).message}`);
  }
  return value as EngineConfigInput;
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
  return checkedEngineConfig(value, 'COPILOT_ENGINE_CONFIG');
}

/** The variables COPILOT_CLUSTERS replaces; any of them beside it is refused. */
export const SINGLE_CLUSTER_VARIABLES = [
  'COPILOT_CLUSTER',
  'PROMETHEUS_URL',
  'AMP_WORKSPACE_URL',
  'COPILOT_SCRAPE_URLS',
  'COPILOT_METRICS_DIALECT',
  'COPILOT_ENGINE_CONFIG',
  'LOKI_URL',
] as const;

const isSet = (raw: string | undefined): boolean => raw !== undefined && raw.trim() !== '';

/** The one cluster the single-cluster variables describe (the source may be `none`: `copilot dev`). */
function singleCluster(env: WorkerEnv): ClusterSettings {
  // Two sources at once throws MetricsSourceConfigError, a ConfigurationError like ConfigError,
  // with the message `copilot assess` and `replay` give for the same variables.
  const metrics = selectMetricsSource(env);
  return {
    name: env.COPILOT_CLUSTER,
    metrics,
    engineConfig: engineConfigFrom(env.COPILOT_ENGINE_CONFIG),
    ...(env.LOKI_URL === undefined ? {} : { lokiUrl: env.LOKI_URL }),
  };
}

const SOURCE_KEYS = ['prometheusUrl', 'ampWorkspaceUrl', 'scrapeUrls'] as const;

/** COPILOT_CLUSTERS, parsed and every entry's source chosen; errors name the entry. */
function clusterList(raw: string, env: WorkerEnv): ClusterSettings[] {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new ConfigError(`COPILOT_CLUSTERS is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = z.array(MonitoredClusterSchema).min(1).safeParse(value);
  if (!parsed.success) throw new ConfigError(describeFirstIssue(parsed.error, 'COPILOT_CLUSTERS'));
  const seen = new Set<string>();
  return parsed.data.map((entry, i) => {
    const where = `COPILOT_CLUSTERS[${i}] (${entry.name})`;
    if (seen.has(entry.name)) throw new ConfigError(`${where}: the name is listed twice`);
    seen.add(entry.name);
    const sources = SOURCE_KEYS.filter((k) => entry[k] !== undefined);
    // `copilot dev` may observe its own server when nothing is set; a listed cluster must say
    // where its metrics are, and only one place.
    if (sources.length !== 1)
      throw new ConfigError(
        `${where}: ${sources.length === 0 ? 'needs' : 'set only'} one of ${SOURCE_KEYS.join(', ')}`,
      );
    let metrics: MetricsTarget;
    try {
      // The entry in the selector's own terms: the same checks as the single-cluster variables.
      metrics = selectMetricsSource({
        PROMETHEUS_URL: entry.prometheusUrl,
        AMP_WORKSPACE_URL: entry.ampWorkspaceUrl,
        COPILOT_SCRAPE_URLS: entry.scrapeUrls?.join(','),
        COPILOT_METRICS_DIALECT: entry.dialect,
        AWS_REGION: env.AWS_REGION,
      });
    } catch (error) {
      throw new ConfigError(`${where}: ${(error as Error).message}`);
    }
    return {
      name: entry.name,
      metrics,
      engineConfig: checkedEngineConfig(entry.engineConfig ?? {}, `${where} engineConfig`),
      ...(entry.lokiUrl === undefined ? {} : { lokiUrl: entry.lokiUrl }),
    };
  });
}

/** The monitored clusters: COPILOT_CLUSTERS, or the single-cluster variables as a one-entry list. */
function clustersFrom(env: WorkerEnv, source: NodeJS.ProcessEnv): ClusterSettings[] {
  if (env.COPILOT_CLUSTERS === undefined) return [singleCluster(env)];
  // Raw values: COPILOT_CLUSTER and the dialect have defaults, so only what was set counts.
  const both = SINGLE_CLUSTER_VARIABLES.filter((name) => isSet(source[name]));
  if (both.length > 0)
    throw new ConfigError(
      `COPILOT_CLUSTERS lists every cluster with its own source and engine configuration: ` +
        `unset ${both.join(', ')} (or unset COPILOT_CLUSTERS to watch one cluster)`,
    );
  return clusterList(env.COPILOT_CLUSTERS, env);
}

/** Parses the environment once; throws {@link ConfigError} naming each bad variable. */
export function loadWorkerSettings(source: NodeJS.ProcessEnv = process.env): WorkerSettings {
  const parsed = WorkerEnvSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid environment: ${problems.join('; ')}`);
  }
  const env = parsed.data;
  const clusters = clustersFrom(env, source);
  const storeTarget = storeFrom(env);
  return {
    env,
    clusters,
    intervalMs: env.COPILOT_INTERVAL_SECONDS * 1000,
    storeTarget,
    staleness: stalenessOf(env),
    // Unknown models, profiles without the model, Bedrock without a region: refused here, at
    // start-up (ConfigurationError, exit 2), not at the first state change.
    explainer: parseExplainerEnv(source),
  };
}
