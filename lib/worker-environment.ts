import type { Secret as EcsSecret } from 'aws-cdk-lib/aws-ecs';
import { COPILOT_ROLES } from '../shared/store/roles.js';
import {
  type MonitoredCluster,
  MonitoredClusterSchema,
  WorkerEnvSchema,
} from '../worker/config.js';
import { ExplainerEnvSchema } from '../worker/explain/config.js';
import type { MonitoredClusterContext } from './config.js';

/*
 * The worker container's environment, built from the worker's own schemas: `WorkerEnvSchema`
 * (worker/config.ts) and the explainer's `ExplainerEnvSchema` (worker/explain/config.ts) are the
 * one list of names. Every name they have must appear below, either with
 * the value the deployment gives it or with the reason it is left unset — TypeScript refuses this
 * table when the schema gains or loses a name, and test/infra checks the synthesised container
 * against it. The prior art's infrastructure kept setting names its code no longer read, and its
 * deployed worker started nothing (docs/lessons.md#infra-sets-what-the-code-reads).
 */

/** Every variable the worker reads: its own and its explainer's. */
export type WorkerEnvName =
  | keyof typeof WorkerEnvSchema.shape
  | keyof typeof ExplainerEnvSchema.shape;

/** All of them, from the schemas themselves. */
export const WORKER_ENV_NAMES = [
  ...new Set([...Object.keys(WorkerEnvSchema.shape), ...Object.keys(ExplainerEnvSchema.shape)]),
] as WorkerEnvName[];

/** What the deployment knows and the worker's environment is built from. */
export interface WorkerDeploymentValues {
  /** The copilot's Temporal frontend, `host:port`. */
  readonly temporalAddress: string;
  readonly temporalNamespace: string;
  readonly taskQueue: string;
  /** The monitored clusters, one observer each. */
  readonly clusters: readonly MonitoredClusterContext[];
  readonly intervalSeconds: number;
  readonly retentionDays: number;
  /** The copilot's DSQL cluster endpoint. */
  readonly dsqlEndpoint: string;
  readonly region: string;
  /** @default - no knowledge base: explanations use the local runbook index */
  readonly knowledgeBaseId?: string;
  readonly staleAfterIntervals: number;
  readonly staleAfterMinSeconds: number;
  /** Who explains state changes: Claude on Bedrock or the rules. */
  readonly explainer: 'bedrock' | 'rules';
  readonly dispatcherModel: string;
  readonly researcherModel: string;
  /** Inference-profile prefix as the explainer takes it (`us`, `eu`, …, `none`). */
  readonly bedrockProfile: string;
  /** @default - the explainer's default budget */
  readonly explainCallsPerHour?: number;
  /** @default - the explainer's default budget */
  readonly explainTokensPerHour?: number;
  /** @default - the explainer's default budget */
  readonly explainUsdPerDay?: number;
}

/** How one variable is set: a value from the deployment (undefined: not this time), or never. */
export type WorkerVariable =
  | { readonly value: (v: WorkerDeploymentValues) => string | undefined }
  | { readonly unset: string };

const replacedByClusters = {
  unset: 'COPILOT_CLUSTERS lists every monitored cluster with its own value',
} as const;

const optionalNumber = (n: number | undefined) => (n === undefined ? undefined : String(n));

/** The Amazon Managed Prometheus query URL of a workspace ARN. */
export function ampWorkspaceUrl(arn: string): string {
  const match = /^arn:aws[a-z-]*:aps:([a-z0-9-]+):\d{12}:workspace\/(ws-[A-Za-z0-9-]+)$/.exec(arn);
  if (match === null) throw new Error(`not an AMP workspace ARN: ${arn}`);
  return `https://aps-workspaces.${match[1]}.amazonaws.com/workspaces/${match[2]}`;
}

/** One COPILOT_CLUSTERS entry, in the worker's own schema. */
export function clusterEntry(cluster: MonitoredClusterContext): MonitoredCluster {
  const m = cluster.metrics;
  const source =
    'ampWorkspaceArn' in m
      ? { ampWorkspaceUrl: ampWorkspaceUrl(m.ampWorkspaceArn) }
      : 'prometheusUrl' in m
        ? { prometheusUrl: m.prometheusUrl }
        : { scrapeUrls: [...m.scrapeUrls] };
  return MonitoredClusterSchema.parse({
    name: cluster.name,
    ...source,
    dialect: cluster.dialect,
    ...(cluster.engineConfig === undefined ? {} : { engineConfig: cluster.engineConfig }),
    ...(cluster.lokiUrl === undefined ? {} : { lokiUrl: cluster.lokiUrl }),
  });
}

/** The table: every name of `WorkerEnvSchema`, and how the deployment sets it. */
export const WORKER_VARIABLES: { readonly [K in WorkerEnvName]: WorkerVariable } = {
  COPILOT_STALE_AFTER_INTERVALS: { value: (v) => String(v.staleAfterIntervals) },
  COPILOT_STALE_AFTER_MIN_SECONDS: { value: (v) => String(v.staleAfterMinSeconds) },
  TEMPORAL_ADDRESS: { value: (v) => v.temporalAddress },
  TEMPORAL_NAMESPACE: { value: (v) => v.temporalNamespace },
  TEMPORAL_TASK_QUEUE: { value: (v) => v.taskQueue },
  TEMPORAL_API_KEY: {
    unset: 'the copilot runs its own Temporal server in the VPC: there is no Temporal Cloud key',
  },
  TEMPORAL_TLS: {
    unset: 'plain gRPC inside the VPC, to a frontend that admits only the worker security group',
  },
  COPILOT_CLUSTERS: { value: (v) => JSON.stringify(v.clusters.map(clusterEntry)) },
  COPILOT_CLUSTER: replacedByClusters,
  COPILOT_INTERVAL_SECONDS: { value: (v) => String(v.intervalSeconds) },
  COPILOT_RETENTION_DAYS: { value: (v) => String(v.retentionDays) },
  COPILOT_ENGINE_CONFIG: replacedByClusters,
  PROMETHEUS_URL: replacedByClusters,
  AMP_WORKSPACE_URL: replacedByClusters,
  COPILOT_SCRAPE_URLS: replacedByClusters,
  COPILOT_METRICS_DIALECT: replacedByClusters,
  LOKI_URL: replacedByClusters,
  COPILOT_DATABASE_URL: { unset: 'the store is Aurora DSQL (COPILOT_DSQL_ENDPOINT)' },
  COPILOT_DSQL_ENDPOINT: { value: (v) => v.dsqlEndpoint },
  // The custom database role the schema resource maps the task role to: never admin.
  COPILOT_DSQL_USER: { value: () => COPILOT_ROLES.worker.name },
  COPILOT_DATA_DIR: {
    unset: 'no embedded store on Fargate: COPILOT_DSQL_ENDPOINT names the store',
  },
  COPILOT_KB_ID: { value: (v) => v.knowledgeBaseId },
  AWS_REGION: { value: (v) => v.region },
  COPILOT_EXPLAINER: { value: (v) => v.explainer },
  COPILOT_BEDROCK_REGION: { unset: 'Bedrock is called in the stack region (AWS_REGION)' },
  COPILOT_BEDROCK_ENDPOINT: {
    unset: 'the regional endpoint (private DNS points it at the VPC endpoint when there is one)',
  },
  COPILOT_BEDROCK_DISPATCHER_MODEL: { value: (v) => v.dispatcherModel },
  COPILOT_BEDROCK_RESEARCHER_MODEL: { value: (v) => v.researcherModel },
  COPILOT_BEDROCK_PROFILE: { value: (v) => v.bedrockProfile },
  COPILOT_BEDROCK_TIMEOUT_MS: { unset: "the explainer's default per-call timeout" },
  COPILOT_EXPLAIN_CALLS_PER_HOUR: { value: (v) => optionalNumber(v.explainCallsPerHour) },
  COPILOT_EXPLAIN_TOKENS_PER_HOUR: { value: (v) => optionalNumber(v.explainTokensPerHour) },
  COPILOT_EXPLAIN_USD_PER_DAY: { value: (v) => optionalNumber(v.explainUsdPerDay) },
  COPILOT_KB_ENDPOINT: {
    unset: 'the regional endpoint (private DNS points it at the VPC endpoint when there is one)',
  },
  COPILOT_RUNBOOKS_DIR: { unset: 'the runbook corpus where the image keeps it (its default)' },
};

/** The worker container's variables: plain values, Secrets Manager references, and the rest. */
export interface WorkerEnvironment {
  readonly environment: Record<string, string>;
  readonly secrets: Record<string, EcsSecret>;
  /** Names left unset, with why (or "not configured" for a value the deployment lacks). */
  readonly unset: Record<string, string>;
}

/**
 * Builds the worker's environment from {@link WORKER_VARIABLES}. A secret given for a name
 * replaces its value (e.g. a COPILOT_CLUSTERS holding credentials in its URLs).
 *
 * @throws Error when a secret names a variable the worker does not read.
 */
export function buildWorkerEnvironment(
  values: WorkerDeploymentValues,
  secrets: Partial<Record<string, EcsSecret>> = {},
): WorkerEnvironment {
  for (const name of Object.keys(secrets))
    if (!(WORKER_ENV_NAMES as string[]).includes(name))
      throw new Error(
        `worker secret ${name} is not a variable the worker reads (WorkerEnvSchema in worker/config.ts)`,
      );
  const environment: Record<string, string> = {};
  const secretRefs: Record<string, EcsSecret> = {};
  const unset: Record<string, string> = {};
  for (const name of WORKER_ENV_NAMES) {
    const secret = secrets[name];
    if (secret !== undefined) {
      secretRefs[name] = secret;
      continue;
    }
    const how = WORKER_VARIABLES[name] as WorkerVariable | undefined;
    if (how === undefined)
      throw new Error(
        `the worker reads ${name}, which lib/worker-environment.ts does not decide: give it a ` +
          'value or the reason it stays unset in WORKER_VARIABLES',
      );
    if ('unset' in how) {
      unset[name] = how.unset;
      continue;
    }
    const value = how.value(values);
    if (value === undefined) unset[name] = 'not configured for this deployment';
    else environment[name] = value;
  }
  return { environment, secrets: secretRefs, unset };
}
