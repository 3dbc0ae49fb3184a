import { CfnOutput, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { InstanceType as Ec2InstanceType } from 'aws-cdk-lib/aws-ec2';
import {
  Cluster,
  type ContainerImage,
  ContainerInsights,
  Secret as EcsSecret,
} from 'aws-cdk-lib/aws-ecs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import {
  grantBedrockInvoke,
  grantKnowledgeBaseRetrieve,
  type KnowledgeBaseReference,
  knowledgeBaseFromId,
} from './bedrock-access.js';
import type { DeploymentConfig } from './config.js';
import { ApiAuthentication, CopilotApi } from './copilot-api.js';
import { CopilotNetwork } from './network.js';
import type { StateStore } from './state-store.js';
import { StoreSchema } from './store-schema.js';
import { TemporalPersistence, TemporalServer } from './temporal-server.js';
import { Watchdog } from './watchdog.js';
import { WorkerService } from './worker-service.js';

export interface CopilotStackProps extends StackProps {
  /** The copilot's state store (its own stack). */
  readonly store: StateStore;
  /** The validated deployment configuration (`resolveDeploymentConfig`). */
  readonly config: DeploymentConfig;
  /** The worker image (`workerImageFromRepository()`). */
  readonly workerImage: ContainerImage;
  /**
   * The runbook knowledge base the explainers retrieve from.
   * @default - the one `config.bedrock.knowledgeBaseId` names, or none
   */
  readonly knowledgeBase?: KnowledgeBaseReference;
  /**
   * Worker variables to read from Secrets Manager instead of plain values, by name; each value
   * is a secret ARN.
   * @default - none
   */
  readonly workerSecretArns?: Readonly<Record<string, string>>;
}

/**
 * Everything that computes, composed: the network, an ECS cluster with the copilot's Temporal
 * server and the worker, the JSON API, the store's schema and database roles (applied on
 * deploy), and the alarms that watch the copilot itself. The state store lives in its own stack
 * and is taken through its grants.
 */
export class CopilotStack extends Stack {
  readonly network: CopilotNetwork;
  readonly cluster: Cluster;
  readonly temporal: TemporalServer;
  readonly worker: WorkerService;
  readonly api: CopilotApi;
  readonly schema: StoreSchema;
  readonly watchdog: Watchdog;

  constructor(scope: Construct, id: string, props: CopilotStackProps) {
    super(scope, id, props);
    const { config, store } = props;
    const s = config.settings;
    const logRetention = s.logRetentionDays as RetentionDays;
    const removalPolicy = s.retainOnDelete ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.network = new CopilotNetwork(this, 'Network', {
      ...(config.vpc === undefined ? {} : { existingVpc: config.vpc }),
      natGateways: s.network.natGateways,
      interfaceEndpoints: config.vpc === undefined && s.network.interfaceEndpoints,
      maxAzs: s.network.maxAzs,
      logRetention,
      removalPolicy,
    });
    this.cluster = new Cluster(this, 'Cluster', {
      vpc: this.network.vpc,
      containerInsightsV2: s.containerInsights
        ? ContainerInsights.ENABLED
        : ContainerInsights.DISABLED,
      enableFargateCapacityProviders: true,
    });
    if (!s.containerInsights)
      Validations.of(this.cluster).acknowledge({
        id: 'AwsSolutions::AwsSolutions-ECS4',
        reason:
          "the dev preset's cost choice: Container Insights bills each of its per-cluster, " +
          'per-service and per-task metrics; the no-running-task alarms watch the free AWS/ECS ' +
          'service metrics instead (the prod preset turns it on)',
      });

    this.temporal = new TemporalServer(this, 'Temporal', {
      cluster: this.cluster,
      subnets: this.network.privateSubnets,
      persistence:
        s.temporal.database === 'aurora'
          ? TemporalPersistence.auroraPostgres({
              minCapacityAcu: s.temporal.databaseMinAcu,
              maxCapacityAcu: s.temporal.databaseMaxAcu,
              readers: s.temporal.databaseReaders,
              backupRetentionDays: s.temporal.databaseBackupDays,
            })
          : TemporalPersistence.rdsPostgres({
              instanceType: new Ec2InstanceType(s.temporal.databaseInstanceType),
              backupRetentionDays: s.temporal.databaseBackupDays,
            }),
      cpu: s.temporal.cpu,
      memoryLimitMiB: s.temporal.memoryMiB,
      desiredCount: s.temporal.desiredCount,
      spot: s.temporal.spot,
      logRetention,
      retainOnDelete: s.retainOnDelete,
    });

    const knowledgeBase =
      props.knowledgeBase ??
      (config.bedrock.knowledgeBaseId === undefined
        ? undefined
        : knowledgeBaseFromId(this, config.bedrock.knowledgeBaseId));
    const workerSecrets = Object.fromEntries(
      Object.entries(props.workerSecretArns ?? {}).map(([name, arn]) => [
        name,
        EcsSecret.fromSecretsManager(
          Secret.fromSecretCompleteArn(this, `WorkerSecret${name}`, arn),
        ),
      ]),
    );
    this.worker = new WorkerService(this, 'Worker', {
      cluster: this.cluster,
      subnets: this.network.privateSubnets,
      image: props.workerImage,
      values: {
        temporalAddress: this.temporal.address,
        temporalNamespace: this.temporal.namespace,
        taskQueue: 'copilot',
        clusters: config.clusters,
        intervalSeconds: config.intervalSeconds,
        retentionDays: 30,
        dsqlEndpoint: store.endpoint,
        region: this.region,
        ...(knowledgeBase === undefined ? {} : { knowledgeBaseId: knowledgeBase.knowledgeBaseId }),
        staleAfterIntervals: 3,
        staleAfterMinSeconds: 60,
        explainer: config.bedrock.explainer,
        dispatcherModel: config.bedrock.dispatcherModel,
        researcherModel: config.bedrock.researcherModel,
        bedrockProfile: config.bedrock.profile,
        ...(config.bedrock.callsPerHour === undefined
          ? {}
          : { explainCallsPerHour: config.bedrock.callsPerHour }),
        ...(config.bedrock.tokensPerHour === undefined
          ? {}
          : { explainTokensPerHour: config.bedrock.tokensPerHour }),
        ...(config.bedrock.usdPerDay === undefined
          ? {}
          : { explainUsdPerDay: config.bedrock.usdPerDay }),
      },
      secrets: workerSecrets,
      cpu: s.worker.cpu,
      memoryLimitMiB: s.worker.memoryMiB,
      desiredCount: s.worker.desiredCount,
      spot: s.worker.spot,
      logRetention,
      retainOnDelete: s.retainOnDelete,
    });
    this.temporal.allowFrontendFrom(this.worker.securityGroup, 'Temporal frontend from the worker');
    this.network.allowEndpointsFrom(this.worker.securityGroup);
    this.network.allowEndpointsFrom(this.temporal.securityGroup);
    store.grantConnect(this.worker.taskRole);
    this.worker.grantQueryMetrics(
      config.clusters.flatMap((c) =>
        'ampWorkspaceArn' in c.metrics ? [c.metrics.ampWorkspaceArn] : [],
      ),
    );
    if (config.bedrock.explainer === 'bedrock')
      grantBedrockInvoke(this.worker.taskRole, this, {
        models: [config.bedrock.dispatcherModel, config.bedrock.researcherModel],
        profile: config.bedrock.profile,
      });
    if (knowledgeBase !== undefined)
      grantKnowledgeBaseRetrieve(this.worker.taskRole, knowledgeBase);

    this.api = new CopilotApi(this, 'Api', {
      store,
      authentication: config.api.auth === 'iam' ? ApiAuthentication.IAM : ApiAuthentication.API_KEY,
      throttleRateLimit: s.api.throttleRate,
      throttleBurstLimit: s.api.throttleBurst,
      staleness: { intervals: 3, minSeconds: 60 },
      logRetention,
      removalPolicy,
    });

    this.schema = new StoreSchema(this, 'StoreSchema', {
      store,
      workerRoles: [this.worker.taskRole],
      apiRoles: [this.api.handler.role],
      logRetention,
      removalPolicy,
    });
    // The roles must exist before anything logs in as them.
    this.worker.service.node.addDependency(this.schema.resource);
    this.api.handler.function.node.addDependency(this.schema.resource);

    this.watchdog = new Watchdog(this, 'Watchdog', {
      worker: this.worker.service,
      temporal: this.temporal.service,
      api: this.api.api,
      clusters: config.clusters.map((c) => ({
        name: c.name,
        intervalSeconds: config.intervalSeconds,
      })),
      ...(config.alarmEmail === undefined ? {} : { alarmEmail: config.alarmEmail }),
      removalPolicy,
      containerInsights: s.containerInsights,
    });

    new CfnOutput(this, 'ApiUrl', {
      description: 'The JSON API for Grafana Infinity (HTTPS base URL)',
      value: this.api.url,
    });
    if (this.api.apiKeySecret !== undefined)
      new CfnOutput(this, 'ApiKeySecretArn', {
        description: 'The secret holding the x-api-key value Grafana sends',
        value: this.api.apiKeySecret.secretArn,
      });
    else
      new CfnOutput(this, 'ApiInvokeArn', {
        description: 'Grant execute-api:Invoke on this to the identity Grafana signs with',
        value: this.api.api.arnForExecuteApi('GET', '/*', '$default'),
      });
    new CfnOutput(this, 'TemporalAddress', {
      description: "The copilot's own Temporal frontend (inside the VPC only)",
      value: this.temporal.address,
    });
    new CfnOutput(this, 'WorkerServiceName', {
      description: 'The worker ECS service (scale with its desired count)',
      value: this.worker.service.serviceName,
    });
    new CfnOutput(this, 'ClusterName', {
      description: 'The ECS cluster of the Temporal server and the worker',
      value: this.cluster.clusterName,
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'SNS topic of the copilot-watching alarms',
      value: this.watchdog.topic.topicArn,
    });
  }
}
