import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, IgnoreMode, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { SecurityGroup, type SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import {
  ContainerImage,
  CpuArchitecture,
  type Secret as EcsSecret,
  FargateService,
  FargateTaskDefinition,
  type ICluster,
  LogDrivers,
  OperatingSystemFamily,
} from 'aws-cdk-lib/aws-ecs';
import { Grant, type IRole } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { REPO_ROOT } from './bundled-function.js';
import {
  buildWorkerEnvironment,
  type WorkerDeploymentValues,
  type WorkerEnvironment,
} from './worker-environment.js';

/** What never goes into the worker image's build context (nor into the asset hash). */
export const WORKER_IMAGE_EXCLUDES = [
  '.git',
  'node_modules',
  'cdk.out',
  'coverage',
  '.copilot',
  '.cache',
];

/**
 * The worker image, built by `cdk deploy` from the repository's `Dockerfile` (synth only hashes
 * the files; no Docker is needed until deploy).
 *
 * @throws Error when the Dockerfile is missing.
 */
export function workerImageFromRepository(
  architecture: CpuArchitecture = CpuArchitecture.ARM64,
): ContainerImage {
  if (!existsSync(join(REPO_ROOT, 'Dockerfile')))
    throw new Error(`no Dockerfile at ${REPO_ROOT}: the worker image is built from it`);
  return ContainerImage.fromAsset(REPO_ROOT, {
    file: 'Dockerfile',
    platform: architecture === CpuArchitecture.X86_64 ? Platform.LINUX_AMD64 : Platform.LINUX_ARM64,
    exclude: WORKER_IMAGE_EXCLUDES,
    ignoreMode: IgnoreMode.DOCKER,
  });
}

export interface WorkerServiceProps {
  readonly cluster: ICluster;
  /** Private subnets for the tasks. */
  readonly subnets: SubnetSelection;
  /** The worker image (`workerImageFromRepository()` in the app). */
  readonly image: ContainerImage;
  /** What the environment is built from (see `lib/worker-environment.ts`). */
  readonly values: WorkerDeploymentValues;
  /**
   * Variables to take from Secrets Manager instead, by worker variable name.
   * @default - none
   */
  readonly secrets?: Partial<Record<string, EcsSecret>>;
  /** @default 512 */
  readonly cpu?: number;
  /** @default 1024 */
  readonly memoryLimitMiB?: number;
  /**
   * Worker tasks. Every task polls the same task queue, so observers and activities spread over
   * them; raise it for more clusters.
   * @default 1
   */
  readonly desiredCount?: number;
  /** Run on Fargate Spot. @default false */
  readonly spot?: boolean;
  /** Must match the image's platform. @default CpuArchitecture.ARM64 */
  readonly cpuArchitecture?: CpuArchitecture;
  /** @default RetentionDays.ONE_WEEK */
  readonly logRetention?: RetentionDays;
  /** Keep the logs when the stack is deleted. @default false */
  readonly retainOnDelete?: boolean;
}

/**
 * The copilot worker on ECS Fargate: one service whose tasks run every monitored cluster's
 * observer (COPILOT_CLUSTERS), scaled by desired count. Its environment is exactly the names the
 * worker reads; its task role starts with no permission and is granted each one by name
 * (`grantQueryMetrics`, the store's `grantConnect`, Bedrock). It listens on nothing.
 */
export class WorkerService extends Construct {
  readonly service: FargateService;
  readonly taskRole: IRole;
  readonly securityGroup: SecurityGroup;
  /** The container's variables as built from the worker's schema. */
  readonly variables: WorkerEnvironment;

  constructor(scope: Construct, id: string, props: WorkerServiceProps) {
    super(scope, id);
    this.variables = buildWorkerEnvironment(props.values, props.secrets ?? {});
    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_WEEK,
      removalPolicy: props.retainOnDelete === true ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const task = new FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu ?? 512,
      memoryLimitMiB: props.memoryLimitMiB ?? 1024,
      runtimePlatform: {
        cpuArchitecture: props.cpuArchitecture ?? CpuArchitecture.ARM64,
        operatingSystemFamily: OperatingSystemFamily.LINUX,
      },
    });
    this.taskRole = task.taskRole;
    Validations.of(task).acknowledge({
      id: 'AwsSolutions::AwsSolutions-ECS2',
      reason:
        "the plain environment is the worker's configuration (endpoints, cluster list, cadence), " +
        'built from its env schema; anything secret is passed through the secrets prop, from ' +
        'Secrets Manager',
    });
    task.addContainer('Worker', {
      image: props.image,
      essential: true,
      environment: this.variables.environment,
      secrets: this.variables.secrets,
      // The worker prints EMF metric lines on stdout; awslogs ships them to CloudWatch Logs,
      // which turns them into the EvaluationsStored metric the watchdog alarms on.
      logging: LogDrivers.awsLogs({ logGroup, streamPrefix: 'worker' }),
      // SIGTERM lets in-flight activities finish before the task goes.
      stopTimeout: Duration.seconds(60),
    });
    const executionRole = task.executionRole;
    if (executionRole !== undefined)
      Validations.of(executionRole).acknowledge({
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason:
          'ecr:GetAuthorizationToken, which the task needs to pull the worker image, has no ' +
          'resource-level permissions; the image pull itself is granted on the asset repository only',
      });
    this.securityGroup = new SecurityGroup(this, 'SecurityGroup', {
      vpc: props.cluster.vpc,
      description:
        'Copilot worker: no inbound; outbound to Temporal, the store, AWS APIs and the monitored sources',
      allowAllOutbound: true,
    });
    this.service = new FargateService(this, 'Service', {
      cluster: props.cluster,
      taskDefinition: task,
      desiredCount: props.desiredCount ?? 1,
      assignPublicIp: false,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      ...(props.spot === true
        ? { capacityProviderStrategies: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] }
        : {}),
    });
  }

  /**
   * `aps:QueryMetrics` on these AMP workspaces: the source's instant and range queries
   * (`/api/v1/query`, `/api/v1/query_range`) are the only AMP calls it makes.
   */
  grantQueryMetrics(workspaceArns: readonly string[]): Grant | undefined {
    if (workspaceArns.length === 0) return undefined;
    return Grant.addToPrincipal({
      grantee: this.taskRole,
      actions: ['aps:QueryMetrics'],
      resourceArns: [...workspaceArns],
    });
  }
}
