import * as z from 'zod';
import {
  DEFAULT_DISPATCHER_MODEL,
  DEFAULT_RESEARCHER_MODEL,
  invocationId,
  ProfilePrefixSchema,
} from '../shared/explain/models.js';
import { resolveEngineConfig } from '../shared/health/config.js';
import { ClusterNameSchema } from '../shared/models/cluster.js';

/*
 * The deployment's configuration: what a platform team puts in `cdk.json` (or passes with `-c`),
 * validated once by zod before any construct is built, and the two presets it starts from. Only
 * `bin/app.ts` reads context; everything below is pure, so tests build the same configuration.
 */

const ArnSchema = (service: string, resource: RegExp, example: string) =>
  z
    .string()
    .regex(
      new RegExp(`^arn:aws[a-z-]*:${service}:[a-z0-9-]+:\\d{12}:${resource.source}$`),
      `expected an ARN like ${example}`,
    );

/** An Amazon Managed Prometheus workspace ARN; the query URL and the grant are derived from it. */
const AmpWorkspaceArnSchema = ArnSchema(
  'aps',
  /workspace\/ws-[A-Za-z0-9-]+/,
  'arn:aws:aps:eu-west-1:123456789012:workspace/ws-…',
);

/** Where one monitored cluster's metrics are read: exactly one source. */
export const MetricsSourceContextSchema = z.union([
  z.strictObject({ ampWorkspaceArn: AmpWorkspaceArnSchema }),
  z.strictObject({ prometheusUrl: z.url({ protocol: /^https?$/ }) }),
  z.strictObject({ scrapeUrls: z.array(z.url({ protocol: /^https?$/ })).min(1) }),
]);
export type MetricsSourceContext = z.infer<typeof MetricsSourceContextSchema>;

/** One monitored Temporal cluster: its name, metrics source, dialect and thresholds. */
export const MonitoredClusterContextSchema = z.strictObject({
  /** The name rows, workflow ids and the alarm dimension use. */
  name: ClusterNameSchema,
  metrics: MetricsSourceContextSchema,
  /** Metric-name dialect of the monitored server. */
  dialect: z.enum(['auto', 'tally', 'otel']).default('auto'),
  /** Engine configuration (thresholds, band), checked by the engine's own schema at synth. */
  engineConfig: z
    .record(z.string(), z.unknown())
    .optional()
    .superRefine((value, ctx) => {
      if (value === undefined) return;
      try {
        resolveEngineConfig(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    }),
  /** Loki base URL of the monitored cluster's logs. */
  lokiUrl: z.url({ protocol: /^https?$/ }).optional(),
});
export type MonitoredClusterContext = z.infer<typeof MonitoredClusterContextSchema>;

/** The monitored deployment's VPC, by id: nothing is looked up at synth. */
export const ExistingVpcContextSchema = z.strictObject({
  vpcId: z.string().regex(/^vpc-[0-9a-f]+$/),
  /** One per private subnet, in the same order. */
  availabilityZones: z.array(z.string().min(1)).min(1),
  privateSubnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]+$/)).min(1),
});
export type ExistingVpcContext = z.infer<typeof ExistingVpcContextSchema>;

const TaskSizeSchema = z.strictObject({
  cpu: z.union([z.literal(256), z.literal(512), z.literal(1024), z.literal(2048), z.literal(4096)]),
  memoryMiB: z.number().int().min(512).max(30720),
  desiredCount: z.number().int().min(0).max(10),
  /** Run on Fargate Spot (about 70 % cheaper, may be interrupted with two minutes' notice). */
  spot: z.boolean(),
});
export type TaskSize = z.infer<typeof TaskSizeSchema>;

/** What a preset decides. Every field can be overridden from context. */
export const PresetSchema = z.strictObject({
  network: z.strictObject({
    /** NAT gateways of a VPC the copilot creates (one per AZ for zone failures). */
    natGateways: z.number().int().min(1).max(3),
    /** Interface endpoints for ECR, Logs, Secrets Manager, AMP and Bedrock. */
    interfaceEndpoints: z.boolean(),
    maxAzs: z.number().int().min(2).max(3),
  }),
  temporal: TaskSizeSchema.extend({
    /** Temporal's own database: one RDS PostgreSQL instance, or Aurora Serverless v2. */
    database: z.enum(['rds', 'aurora']),
    /** The RDS instance class (`database: rds`), e.g. `t4g.micro`. */
    databaseInstanceType: z.string().regex(/^[a-z0-9]+\.[a-z0-9]+$/),
    /** Aurora Serverless v2 capacity of Temporal's own database, in ACUs (`database: aurora`). */
    databaseMinAcu: z.number().min(0.5).max(256),
    databaseMaxAcu: z.number().min(1).max(256),
    /** Serverless v2 readers in other AZs (failover targets). */
    databaseReaders: z.number().int().min(0).max(2),
    databaseBackupDays: z.number().int().min(1).max(35),
  }),
  worker: TaskSizeSchema,
  api: z.strictObject({
    /** Stage throttling: steady requests per second and burst. */
    throttleRate: z.number().int().min(1),
    throttleBurst: z.number().int().min(1),
  }),
  /**
   * ECS Container Insights (per-task metrics, `RunningTaskCount`). Billed as custom metrics; off,
   * the no-running-task alarms watch the free AWS/ECS service metrics instead.
   */
  containerInsights: z.boolean(),
  /** Days logs are kept (container, Lambda, access, flow logs). */
  logRetentionDays: z.union([
    z.literal(7),
    z.literal(14),
    z.literal(30),
    z.literal(90),
    z.literal(365),
  ]),
  /** What deleting the stack does to logs, secrets and Temporal's database. */
  retainOnDelete: z.boolean(),
});
export type Preset = z.infer<typeof PresetSchema>;

/**
 * `dev`: cost first — one NAT gateway, no interface endpoints, Fargate Spot, the smallest tasks,
 * Temporal's database on one RDS t4g.micro instance, no Container Insights, a week of logs,
 * everything but the state store deleted with the stack. `prod`: a NAT gateway per AZ and interface endpoints (AWS traffic
 * stays in the VPC), on-demand Fargate, two workers, Temporal on Aurora Serverless v2 with a
 * reader in another AZ, deletion protection and snapshots, 90 days of logs.
 */
export const PRESETS: Readonly<Record<'dev' | 'prod', Preset>> = {
  dev: {
    network: { natGateways: 1, interfaceEndpoints: false, maxAzs: 2 },
    temporal: {
      cpu: 512,
      memoryMiB: 1024,
      desiredCount: 1,
      spot: true,
      database: 'rds',
      databaseInstanceType: 't4g.micro',
      databaseMinAcu: 0.5,
      databaseMaxAcu: 2,
      databaseReaders: 0,
      databaseBackupDays: 1,
    },
    worker: { cpu: 512, memoryMiB: 1024, desiredCount: 1, spot: true },
    api: { throttleRate: 20, throttleBurst: 40 },
    containerInsights: false,
    logRetentionDays: 7,
    retainOnDelete: false,
  },
  prod: {
    network: { natGateways: 2, interfaceEndpoints: true, maxAzs: 2 },
    temporal: {
      cpu: 1024,
      memoryMiB: 2048,
      desiredCount: 1,
      spot: false,
      database: 'aurora',
      databaseInstanceType: 't4g.micro',
      databaseMinAcu: 0.5,
      databaseMaxAcu: 4,
      databaseReaders: 1,
      databaseBackupDays: 7,
    },
    worker: { cpu: 1024, memoryMiB: 2048, desiredCount: 2, spot: false },
    api: { throttleRate: 50, throttleBurst: 100 },
    containerInsights: true,
    logRetentionDays: 90,
    retainOnDelete: true,
  },
};

const DeepPartialPresetSchema = z.strictObject({
  network: PresetSchema.shape.network.partial().optional(),
  temporal: PresetSchema.shape.temporal.partial().optional(),
  worker: PresetSchema.shape.worker.partial().optional(),
  api: PresetSchema.shape.api.partial().optional(),
  logRetentionDays: PresetSchema.shape.logRetentionDays.optional(),
  containerInsights: z.boolean().optional(),
  retainOnDelete: z.boolean().optional(),
});

/** The `copilot` context object of `cdk.json`. */
export const DeploymentContextSchema = z
  .strictObject({
    /** Which preset to start from. */
    preset: z.enum(['dev', 'prod']).default('dev'),
    /** Fields of the preset to change. */
    overrides: DeepPartialPresetSchema.default({}),
    /** The Temporal clusters to observe: one observer each, all in one worker service. */
    clusters: z.array(MonitoredClusterContextSchema).min(1),
    /** Observation cadence of every cluster, seconds. */
    intervalSeconds: z.number().int().min(5).max(3600).default(30),
    /** Attach to this VPC instead of creating one. */
    vpc: ExistingVpcContextSchema.optional(),
    api: z
      .strictObject({
        /** `api-key`: x-api-key checked by the Lambda; `iam`: SigV4 checked by API Gateway. */
        auth: z.enum(['api-key', 'iam']).default('api-key'),
      })
      .default({ auth: 'api-key' }),
    bedrock: z
      .strictObject({
        /** `bedrock`: Claude explains state changes; `rules`: the rule-based explainer only. */
        explainer: z.enum(['bedrock', 'rules']).default('bedrock'),
        dispatcherModel: z.string().default(DEFAULT_DISPATCHER_MODEL),
        researcherModel: z.string().default(DEFAULT_RESEARCHER_MODEL),
        /** Cross-region inference profile (`us`, `eu`, `global`…), or `none` for in-region. */
        profile: ProfilePrefixSchema.default('us'),
        /**
         * An existing Bedrock Knowledge Base id for runbooks (`bedrock:Retrieve`). Unset, the
         * app creates one from `docs/rag` (`knowledgeBase: 'create'`) in its own stack.
         */
        knowledgeBaseId: z
          .string()
          .regex(/^[0-9A-Za-z]{10}$/)
          .optional(),
        /**
         * `create`: a runbook knowledge base in the `TemporalSreCopilotKnowledgeBase` stack,
         * ingested on every deploy that changes the corpus (when no id is given and Bedrock
         * explains); `none`: the worker grounds in the runbooks its image carries.
         */
        knowledgeBase: z.enum(['create', 'none']).default('create'),
        /** Model calls per cluster per hour before the rules answer alone. */
        callsPerHour: z.number().int().min(0).optional(),
        /** Tokens per cluster per hour before the rules answer alone. */
        tokensPerHour: z.number().int().min(0).optional(),
        /** Dollars per cluster per day before the rules answer alone. */
        usdPerDay: z.number().min(0).optional(),
      })
      .superRefine((b, issues) => {
        for (const key of ['dispatcherModel', 'researcherModel'] as const)
          try {
            // The explainer's own table: an unknown model or profile fails synth, not a deploy.
            invocationId(b[key], b.profile);
          } catch (error) {
            issues.addIssue({ code: 'custom', path: [key], message: (error as Error).message });
          }
      })
      .default({
        explainer: 'bedrock',
        dispatcherModel: DEFAULT_DISPATCHER_MODEL,
        researcherModel: DEFAULT_RESEARCHER_MODEL,
        profile: 'us',
        knowledgeBase: 'create',
      }),
    /** An address the alarms mail (an SNS email subscription to confirm). */
    alarmEmail: z.email().optional(),
    /**
     * Worker variables read from Secrets Manager instead (e.g. a COPILOT_CLUSTERS whose URLs
     * carry credentials): variable name → secret ARN (complete, with its suffix).
     */
    workerSecrets: z
      .record(
        z.string().regex(/^[A-Z][A-Z0-9_]*$/),
        z
          .string()
          .regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/),
      )
      .default({}),
  })
  .superRefine((ctx, issues) => {
    const seen = new Set<string>();
    for (const [i, c] of ctx.clusters.entries()) {
      if (seen.has(c.name))
        issues.addIssue({
          code: 'custom',
          path: ['clusters', i, 'name'],
          message: `cluster ${c.name} is listed twice`,
        });
      seen.add(c.name);
    }
  });
export type DeploymentContext = z.infer<typeof DeploymentContextSchema>;

/** The deployment as the constructs take it: the context with its preset applied. */
export interface DeploymentConfig extends Omit<DeploymentContext, 'overrides'> {
  readonly settings: Preset;
}

/** The configuration is unusable; the message names every problem with its path. */
export class DeploymentConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeploymentConfigError';
  }
}

/**
 * Validates the `copilot` context and applies its preset and overrides.
 *
 * @throws DeploymentConfigError listing each problem as `path: message`.
 */
export function resolveDeploymentConfig(raw: unknown): DeploymentConfig {
  const parsed = DeploymentContextSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${['copilot', ...i.path.map(String)].join('.')}: ${i.message}`,
    );
    throw new DeploymentConfigError(`invalid cdk context: ${problems.join('; ')}`);
  }
  const { overrides, ...context } = parsed.data;
  const base = PRESETS[context.preset];
  const settings = PresetSchema.parse({
    ...base,
    ...overrides,
    network: { ...base.network, ...overrides.network },
    temporal: { ...base.temporal, ...overrides.temporal },
    worker: { ...base.worker, ...overrides.worker },
    api: { ...base.api, ...overrides.api },
  });
  if (settings.temporal.databaseMinAcu > settings.temporal.databaseMaxAcu)
    throw new DeploymentConfigError(
      `invalid cdk context: copilot.overrides.temporal: databaseMinAcu ${settings.temporal.databaseMinAcu} exceeds databaseMaxAcu ${settings.temporal.databaseMaxAcu}`,
    );
  return { ...context, settings };
}

/** Context keys under `copilot:` that override the object's fields from the command line. */
export const CONTEXT_OVERRIDE_KEYS = [
  'preset',
  'clusters',
  'intervalSeconds',
  'vpc',
  'api',
  'bedrock',
  'alarmEmail',
  'workerSecrets',
  'overrides',
] as const;

/**
 * The raw `copilot` context from a lookup function (`node.tryGetContext`): the `copilot` object
 * (or its JSON text), with `copilot:<key>` values (`cdk synth -c copilot:preset=prod`) laid over
 * it. Values given as JSON text on the command line are parsed.
 */
export function readCopilotContext(lookup: (key: string) => unknown): Record<string, unknown> {
  const parse = (value: unknown, key: string): unknown => {
    if (typeof value !== 'string') return value;
    const text = value.trim();
    if (!/^[[{"]|^-?\d/.test(text)) return value;
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new DeploymentConfigError(
        `context ${key} is not valid JSON: ${(error as Error).message}`,
      );
    }
  };
  const base = parse(lookup('copilot'), 'copilot') ?? {};
  if (typeof base !== 'object' || base === null || Array.isArray(base))
    throw new DeploymentConfigError('context copilot must be an object');
  const merged: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const key of CONTEXT_OVERRIDE_KEYS) {
    const value = lookup(`copilot:${key}`);
    if (value !== undefined) merged[key] = parse(value, `copilot:${key}`);
  }
  return merged;
}
