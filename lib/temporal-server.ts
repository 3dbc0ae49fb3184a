import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { CfnCluster } from 'aws-cdk-lib/aws-dsql';
import {
  type IConnectable,
  InstanceClass,
  InstanceSize,
  InstanceType,
  type IVpc,
  Peer,
  Port,
  SecurityGroup,
  type SubnetSelection,
} from 'aws-cdk-lib/aws-ec2';
import {
  ContainerDependencyCondition,
  ContainerImage,
  CpuArchitecture,
  Secret as EcsSecret,
  FargateService,
  FargateTaskDefinition,
  type ICluster,
  LogDrivers,
  OperatingSystemFamily,
  Protocol,
} from 'aws-cdk-lib/aws-ecs';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  AuroraPostgresEngineVersion,
  ClusterInstance,
  Credentials,
  DatabaseCluster,
  DatabaseClusterEngine,
  DatabaseInstance,
  DatabaseInstanceEngine,
  PostgresEngineVersion,
  StorageType,
} from 'aws-cdk-lib/aws-rds';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { DnsRecordType, PrivateDnsNamespace } from 'aws-cdk-lib/aws-servicediscovery';
import { Construct } from 'constructs';

/** The Temporal server image, pinned (the version the local dev server's CLI bundles). */
export const TEMPORAL_SERVER_IMAGE = 'temporalio/server:1.29.1';
/** Temporal's admin tools (temporal-sql-tool, the temporal CLI) of the same server version. */
export const TEMPORAL_ADMIN_TOOLS_IMAGE = 'temporalio/admin-tools:1.29.1-tctl-1.18.4-cli-1.5.0';
/** The frontend's gRPC port: the one port the worker may reach. */
export const TEMPORAL_FRONTEND_PORT = 7233;

/** What a persistence option needs from the server it is bound to. */
export interface TemporalPersistenceBindOptions {
  readonly vpc: IVpc;
  readonly subnets: SubnetSelection;
  /** The server's tasks: the database admits them and nothing else. */
  readonly server: IConnectable;
  /** Keep the database (snapshot, deletion protection) when the stack is deleted. */
  readonly retainOnDelete: boolean;
  readonly logRetention: RetentionDays;
}

/** A container run to completion before the server starts, in every task (schema setup). */
export interface TemporalSetupContainer {
  readonly image: ContainerImage;
  /** A shell script, run with `sh -c`. */
  readonly script: string;
  readonly environment: Record<string, string>;
  readonly secrets: Record<string, EcsSecret>;
}

/** How a persistence option configures the server's containers. */
export interface TemporalPersistenceConfig {
  /** @default - the server image of {@link TemporalServerProps} */
  readonly serverImage?: ContainerImage;
  readonly environment: Record<string, string>;
  readonly secrets: Record<string, EcsSecret>;
  /** @default - no setup container */
  readonly setup?: TemporalSetupContainer;
  /** Extra permissions of the server's task role (e.g. DSQL tokens). */
  readonly statements?: readonly PolicyStatement[];
}

/** Options of {@link TemporalPersistence.auroraPostgres}. */
export interface AuroraPostgresPersistenceOptions {
  /** @default 0.5 */
  readonly minCapacityAcu?: number;
  /** @default 2 */
  readonly maxCapacityAcu?: number;
  /**
   * Serverless v2 readers (failover targets in other AZs).
   * @default 0
   */
  readonly readers?: number;
  /** @default 7 */
  readonly backupRetentionDays?: number;
  /** @default AuroraPostgresEngineVersion.VER_16_10 */
  readonly engineVersion?: AuroraPostgresEngineVersion;
  /** @default TEMPORAL_ADMIN_TOOLS_IMAGE from Docker Hub */
  readonly adminToolsImage?: ContainerImage;
}

/** Options of {@link TemporalPersistence.dsql}. */
export interface DsqlPersistenceOptions {
  /** A Temporal server image with a DSQL persistence plugin (upstream Temporal has none). */
  readonly serverImage: ContainerImage;
  /**
   * The server's environment for the DSQL cluster created for it: the plugin's variable names
   * are the image's to define.
   */
  readonly environment: (cluster: { endpoint: string; region: string }) => Record<string, string>;
}

/**
 * Where the copilot's Temporal server keeps its state. Choose with a static factory:
 * {@link TemporalPersistence.auroraPostgres} (the default: the official image on Aurora
 * PostgreSQL Serverless v2, schema set up by `temporal-sql-tool` before every server start),
 * {@link TemporalPersistence.rdsPostgres} (the same on one RDS instance: the dev preset's cost
 * choice) or {@link TemporalPersistence.dsql} (a DSQL-capable Temporal image you provide).
 */
export abstract class TemporalPersistence {
  static auroraPostgres(options: AuroraPostgresPersistenceOptions = {}): TemporalPersistence {
    return new AuroraPostgresPersistence(options);
  }

  /** The official image on one RDS for PostgreSQL instance: the cheapest supported store. */
  static rdsPostgres(options: RdsPostgresPersistenceOptions = {}): TemporalPersistence {
    return new RdsPostgresPersistence(options);
  }

  static dsql(options: DsqlPersistenceOptions): TemporalPersistence {
    return new DsqlPersistence(options);
  }

  /** Creates the database in `scope` and returns how the server reaches it. */
  abstract bind(
    scope: Construct,
    options: TemporalPersistenceBindOptions,
  ): TemporalPersistenceConfig;
}

const TEMPORAL_DB = 'temporal';
const VISIBILITY_DB = 'temporal_visibility';

/** The database's secret (username, password) and where it listens. */
interface PostgresEndpoint {
  readonly host: string;
  readonly port: string;
  readonly secret: ISecret;
}

/**
 * The server's and the setup container's configuration for any PostgreSQL: the official image's
 * variables, the password from Secrets Manager, and the schema steps of the auto-setup image.
 */
function postgresConfig(
  db: PostgresEndpoint,
  adminToolsImage: ContainerImage | undefined,
): TemporalPersistenceConfig {
  const tls = '--tls --tls-disable-host-verification';
  const tool = `temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" ${tls}`;
  const schemas = '/etc/temporal/schema/postgresql/v12';
  return {
    environment: {
      DB: 'postgres12',
      DB_PORT: db.port,
      POSTGRES_SEEDS: db.host,
      DBNAME: TEMPORAL_DB,
      VISIBILITY_DBNAME: VISIBILITY_DB,
      // TLS to the database; the image carries no RDS CA bundle, so the certificate is not pinned.
      SQL_TLS_ENABLED: 'true',
      SQL_HOST_VERIFICATION: 'false',
    },
    secrets: {
      POSTGRES_USER: EcsSecret.fromSecretsManager(db.secret, 'username'),
      POSTGRES_PWD: EcsSecret.fromSecretsManager(db.secret, 'password'),
    },
    setup: {
      image: adminToolsImage ?? ContainerImage.fromRegistry(TEMPORAL_ADMIN_TOOLS_IMAGE),
      // What the official auto-setup image does, minus its dev-only extras: create both
      // databases when missing, then bring each schema to the image's version. Every step is
      // idempotent, so it runs before every server start (and so on every deploy).
      script: [
        'set -eu',
        `${tool} --db "$DBNAME" create || echo "database $DBNAME exists"`,
        `${tool} --db "$VISIBILITY_DBNAME" create || echo "database $VISIBILITY_DBNAME exists"`,
        `${tool} --db "$DBNAME" setup-schema -v 0.0`,
        `${tool} --db "$DBNAME" update-schema -d ${schemas}/temporal/versioned`,
        `${tool} --db "$VISIBILITY_DBNAME" setup-schema -v 0.0`,
        `${tool} --db "$VISIBILITY_DBNAME" update-schema -d ${schemas}/visibility/versioned`,
      ].join('\n'),
      environment: {
        POSTGRES_SEEDS: db.host,
        DB_PORT: db.port,
        DBNAME: TEMPORAL_DB,
        VISIBILITY_DBNAME: VISIBILITY_DB,
      },
      secrets: {
        POSTGRES_USER: EcsSecret.fromSecretsManager(db.secret, 'username'),
        SQL_PASSWORD: EcsSecret.fromSecretsManager(db.secret, 'password'),
      },
    },
  };
}

/** The security group of Temporal's database: PostgreSQL from the server and nothing else. */
function databaseSecurityGroup(scope: Construct, bind: TemporalPersistenceBindOptions) {
  return new SecurityGroup(scope, 'DatabaseSecurityGroup', {
    vpc: bind.vpc,
    description: 'Temporal database: PostgreSQL from the Temporal server only',
    allowAllOutbound: false,
  });
}

/** The acknowledgements every PostgreSQL option shares, each with its reason. */
function acknowledgePostgres(database: Construct, secret: Construct, retain: boolean): void {
  Validations.of(database).acknowledge(
    {
      id: 'AwsSolutions::AwsSolutions-RDS6',
      reason:
        "Temporal's SQL persistence authenticates with a user and password (no IAM token " +
        'support); the password is generated into Secrets Manager and injected as an ECS secret',
    },
    ...(retain
      ? []
      : [
          {
            id: 'AwsSolutions::AwsSolutions-RDS10',
            reason:
              "the dev preset deletes the stack with its database (it holds only the copilot's " +
              'own Temporal state, rebuilt on the next deploy); the prod preset turns deletion ' +
              'protection on',
          },
        ]),
  );
  Validations.of(secret).acknowledge({
    id: 'AwsSolutions::AwsSolutions-SMG4',
    reason:
      'the Temporal server reads the database password once at start-up; a scheduled rotation ' +
      'would break running tasks until they restart, so rotate by hand and redeploy (README)',
  });
}

class AuroraPostgresPersistence extends TemporalPersistence {
  constructor(private readonly options: AuroraPostgresPersistenceOptions) {
    super();
  }

  bind(scope: Construct, bind: TemporalPersistenceBindOptions): TemporalPersistenceConfig {
    const o = this.options;
    const min = o.minCapacityAcu ?? 0.5;
    const max = o.maxCapacityAcu ?? 2;
    if (min > max)
      throw new Error(`minCapacityAcu ${min} exceeds maxCapacityAcu ${max}: lower the minimum`);
    const database = new DatabaseCluster(scope, 'Database', {
      engine: DatabaseClusterEngine.auroraPostgres({
        version: o.engineVersion ?? AuroraPostgresEngineVersion.VER_16_10,
      }),
      credentials: Credentials.fromGeneratedSecret('temporal'),
      writer: ClusterInstance.serverlessV2('Writer'),
      readers: Array.from({ length: o.readers ?? 0 }, (_, i) =>
        ClusterInstance.serverlessV2(`Reader${i + 1}`, { scaleWithWriter: true }),
      ),
      serverlessV2MinCapacity: min,
      serverlessV2MaxCapacity: max,
      vpc: bind.vpc,
      vpcSubnets: bind.subnets,
      securityGroups: [databaseSecurityGroup(scope, bind)],
      storageEncrypted: true,
      deletionProtection: bind.retainOnDelete,
      backup: { retention: Duration.days(o.backupRetentionDays ?? 7) },
      // No log export: it would add CDK's log-retention Lambda, and the server logs every
      // persistence error itself.
      removalPolicy: bind.retainOnDelete ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
    });
    database.connections.allowDefaultPortFrom(bind.server, 'PostgreSQL from the Temporal server');
    const secret = database.secret;
    if (secret === undefined) throw new Error('the Aurora cluster has no generated secret');
    // `database.secret` is the attachment; the secret itself is the cluster's `Secret` child.
    const secretResource = database.node.findChild('Secret');
    (
      secretResource as unknown as { applyRemovalPolicy(p: RemovalPolicy): void }
    ).applyRemovalPolicy(bind.retainOnDelete ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
    acknowledgePostgres(database, secretResource, bind.retainOnDelete);
    return postgresConfig(
      {
        host: database.clusterEndpoint.hostname,
        port: Token.asString(database.clusterEndpoint.port),
        secret,
      },
      o.adminToolsImage,
    );
  }
}

/** Options of {@link TemporalPersistence.rdsPostgres}. */
export interface RdsPostgresPersistenceOptions {
  /** @default t4g.micro (2 vCPU burstable, 1 GiB) */
  readonly instanceType?: InstanceType;
  /** @default 20 */
  readonly allocatedStorageGiB?: number;
  /** A standby in a second AZ. @default false */
  readonly multiAz?: boolean;
  /** @default 1 */
  readonly backupRetentionDays?: number;
  /** @default PostgresEngineVersion.VER_16 */
  readonly engineVersion?: PostgresEngineVersion;
  /** @default TEMPORAL_ADMIN_TOOLS_IMAGE from Docker Hub */
  readonly adminToolsImage?: ContainerImage;
}

class RdsPostgresPersistence extends TemporalPersistence {
  constructor(private readonly options: RdsPostgresPersistenceOptions) {
    super();
  }

  bind(scope: Construct, bind: TemporalPersistenceBindOptions): TemporalPersistenceConfig {
    const o = this.options;
    const multiAz = o.multiAz ?? false;
    // Not 'Database': switching presets must replace the resource, not change a logical id's type.
    const database = new DatabaseInstance(scope, 'DatabaseInstance', {
      engine: DatabaseInstanceEngine.postgres({
        version: o.engineVersion ?? PostgresEngineVersion.VER_16,
      }),
      instanceType: o.instanceType ?? InstanceType.of(InstanceClass.T4G, InstanceSize.MICRO),
      credentials: Credentials.fromGeneratedSecret('temporal'),
      allocatedStorage: o.allocatedStorageGiB ?? 20,
      storageType: StorageType.GP3,
      storageEncrypted: true,
      multiAz,
      vpc: bind.vpc,
      vpcSubnets: bind.subnets,
      securityGroups: [databaseSecurityGroup(scope, bind)],
      deletionProtection: bind.retainOnDelete,
      backupRetention: Duration.days(o.backupRetentionDays ?? 1),
      publiclyAccessible: false,
      removalPolicy: bind.retainOnDelete ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
    });
    database.connections.allowDefaultPortFrom(bind.server, 'PostgreSQL from the Temporal server');
    const secret = database.secret;
    if (secret === undefined) throw new Error('the RDS instance has no generated secret');
    const secretResource = database.node.findChild('Secret');
    (
      secretResource as unknown as { applyRemovalPolicy(p: RemovalPolicy): void }
    ).applyRemovalPolicy(bind.retainOnDelete ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
    acknowledgePostgres(database, secretResource, bind.retainOnDelete);
    Validations.of(database).acknowledge({
      id: 'AwsSolutions::AwsSolutions-RDS11',
      reason:
        "PostgreSQL's standard port: the instance is in private subnets and its security group " +
        'admits the Temporal server alone, so another port number would hide nothing',
    });
    if (!multiAz)
      Validations.of(database).acknowledge({
        id: 'AwsSolutions::AwsSolutions-RDS3',
        reason:
          "a single-AZ instance is the dev preset's cost choice for the copilot's own Temporal " +
          'state (rebuilt on redeploy); the prod preset runs Aurora with a reader in another AZ',
      });
    return postgresConfig(
      {
        host: database.instanceEndpoint.hostname,
        port: Token.asString(database.instanceEndpoint.port),
        secret,
      },
      o.adminToolsImage,
    );
  }
}

class DsqlPersistence extends TemporalPersistence {
  constructor(private readonly options: DsqlPersistenceOptions) {
    super();
  }

  bind(scope: Construct, bind: TemporalPersistenceBindOptions): TemporalPersistenceConfig {
    const cluster = new CfnCluster(scope, 'DsqlCluster', {
      deletionProtectionEnabled: bind.retainOnDelete,
    });
    cluster.applyRemovalPolicy(bind.retainOnDelete ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
    // DSQL's endpoint is public (IAM tokens, TLS): PostgreSQL out to it.
    bind.server.connections.allowToAnyIpv4(Port.tcp(5432), 'DSQL (PostgreSQL wire, TLS)');
    const region = Stack.of(scope).region;
    return {
      serverImage: this.options.serverImage,
      environment: this.options.environment({ endpoint: cluster.attrEndpoint, region }),
      secrets: {},
      statements: [
        // The server owns its schema on this cluster, so it signs admin tokens for it alone.
        new PolicyStatement({
          actions: ['dsql:DbConnectAdmin'],
          resources: [cluster.attrResourceArn],
        }),
      ],
    };
  }
}

export interface TemporalServerProps {
  /** The ECS cluster the service runs in (its VPC is used). */
  readonly cluster: ICluster;
  /** Private subnets for the tasks and the database. */
  readonly subnets: SubnetSelection;
  /** @default TemporalPersistence.auroraPostgres() */
  readonly persistence?: TemporalPersistence;
  /** @default TEMPORAL_SERVER_IMAGE from Docker Hub */
  readonly serverImage?: ContainerImage;
  /** Used to register the namespace. @default TEMPORAL_ADMIN_TOOLS_IMAGE from Docker Hub */
  readonly adminToolsImage?: ContainerImage;
  /**
   * The namespace the copilot's workflows run in, registered after each start when missing.
   * @default 'default'
   */
  readonly namespace?: string;
  /**
   * Workflow history retention of that namespace, in days.
   * @default 3
   */
  readonly namespaceRetentionDays?: number;
  /**
   * History shards. Fixed when the database is first set up; four are plenty for a copilot.
   * @default 4
   */
  readonly historyShards?: number;
  /**
   * The private DNS domain the server is registered in (Cloud Map).
   * @default 'copilot.internal'
   */
  readonly discoveryDomain?: string;
  /** @default 512 */
  readonly cpu?: number;
  /** @default 1024 */
  readonly memoryLimitMiB?: number;
  /** @default 1 */
  readonly desiredCount?: number;
  /**
   * Run on Fargate Spot (the cluster must have the Fargate capacity providers).
   * @default false
   */
  readonly spot?: boolean;
  /** @default CpuArchitecture.ARM64 (the images are multi-architecture) */
  readonly cpuArchitecture?: CpuArchitecture;
  /** @default RetentionDays.ONE_WEEK */
  readonly logRetention?: RetentionDays;
  /**
   * Keep the database (snapshot, deletion protection) and the logs when the stack is deleted.
   * @default false
   */
  readonly retainOnDelete?: boolean;
}

/**
 * The copilot's own Temporal server on ECS Fargate: one task runs all four services (frontend,
 * history, matching, worker), reachable only inside the VPC under a Cloud Map name, its frontend
 * admitted only from what {@link allowFrontendFrom} names. Before the server starts, a setup
 * container brings its database schema up to date; after it is healthy, a second one registers
 * the copilot's namespace. A separate Temporal, so a copilot failure cannot touch the monitored
 * cluster.
 */
export class TemporalServer extends Construct {
  readonly service: FargateService;
  readonly securityGroup: SecurityGroup;
  /** `host:port` of the frontend, what the worker's `TEMPORAL_ADDRESS` takes. */
  readonly address: string;
  readonly namespace: string;

  constructor(scope: Construct, id: string, props: TemporalServerProps) {
    super(scope, id);
    const vpc = props.cluster.vpc;
    const retain = props.retainOnDelete ?? false;
    const logRetention = props.logRetention ?? RetentionDays.ONE_WEEK;
    this.namespace = props.namespace ?? 'default';
    const retentionDays = props.namespaceRetentionDays ?? 3;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(this.namespace))
      throw new Error(`namespace "${this.namespace}" is not a valid Temporal namespace name`);
    if (!Number.isInteger(retentionDays) || retentionDays < 1)
      throw new Error(`namespaceRetentionDays must be a whole number >= 1, got ${retentionDays}`);

    this.securityGroup = new SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description:
        'Temporal server: frontend from the copilot worker only; ring ports among its tasks',
      allowAllOutbound: false,
    });
    // Out: HTTPS (image pulls from Docker Hub and ECR, logs, secrets), the database (added by the
    // persistence), the ring among its own tasks. DNS goes to the VPC resolver, which no
    // security group filters.
    this.securityGroup.addEgressRule(Peer.anyIpv4(), Port.tcp(443), 'HTTPS: images, logs, secrets');
    // Membership (6933-6939) and the internal gRPC ports (7234-7239) between the server's own
    // tasks: a deployment runs old and new tasks side by side in one ring. Not the frontend.
    this.securityGroup.connections.allowInternally(
      Port.tcpRange(6933, 6939),
      'Temporal membership',
    );
    this.securityGroup.connections.allowInternally(
      Port.tcpRange(7234, 7239),
      'Temporal internal gRPC',
    );

    const persistence = (props.persistence ?? TemporalPersistence.auroraPostgres()).bind(this, {
      vpc,
      subnets: props.subnets,
      server: this.securityGroup,
      retainOnDelete: retain,
      logRetention,
    });

    const logGroup = new LogGroup(this, 'Logs', {
      retention: logRetention,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const task = new FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu ?? 512,
      memoryLimitMiB: props.memoryLimitMiB ?? 1024,
      runtimePlatform: {
        cpuArchitecture: props.cpuArchitecture ?? CpuArchitecture.ARM64,
        operatingSystemFamily: OperatingSystemFamily.LINUX,
      },
    });
    for (const statement of persistence.statements ?? []) task.addToTaskRolePolicy(statement);
    Validations.of(task).acknowledge({
      id: 'AwsSolutions::AwsSolutions-ECS2',
      reason:
        'the plain environment holds configuration only (database host and names, shard count, ' +
        'namespace); the database user and password come from Secrets Manager as ECS secrets',
    });

    const adminTools =
      props.adminToolsImage ?? ContainerImage.fromRegistry(TEMPORAL_ADMIN_TOOLS_IMAGE);
    const server = task.addContainer('Server', {
      image:
        persistence.serverImage ??
        props.serverImage ??
        ContainerImage.fromRegistry(TEMPORAL_SERVER_IMAGE),
      essential: true,
      environment: {
        ...persistence.environment,
        NUM_HISTORY_SHARDS: String(props.historyShards ?? 4),
        LOG_LEVEL: 'warn',
      },
      secrets: persistence.secrets,
      portMappings: [
        { containerPort: TEMPORAL_FRONTEND_PORT, protocol: Protocol.TCP, name: 'frontend' },
      ],
      // The server binds to the task's address (the image's entrypoint resolves it), so the
      // check does too. nc is busybox's, in every Temporal server image.
      healthCheck: {
        command: [
          'CMD-SHELL',
          `nc -z "$(getent hosts "$(hostname)" | awk '{print $1}')" ${TEMPORAL_FRONTEND_PORT} || exit 1`,
        ],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 4,
        startPeriod: Duration.seconds(60),
      },
      logging: LogDrivers.awsLogs({ logGroup, streamPrefix: 'server' }),
      stopTimeout: Duration.seconds(30),
    });

    if (persistence.setup !== undefined) {
      const setup = task.addContainer('SchemaSetup', {
        image: persistence.setup.image,
        essential: false,
        entryPoint: ['sh', '-c'],
        command: [persistence.setup.script],
        environment: persistence.setup.environment,
        secrets: persistence.setup.secrets,
        logging: LogDrivers.awsLogs({ logGroup, streamPrefix: 'schema' }),
      });
      server.addContainerDependencies({
        container: setup,
        condition: ContainerDependencyCondition.SUCCESS,
      });
    }

    const register = task.addContainer('NamespaceSetup', {
      image: adminTools,
      essential: false,
      entryPoint: ['sh', '-c'],
      command: [
        [
          'set -eu',
          `addr="$(getent hosts "$(hostname)" | awk '{print $1}'):${TEMPORAL_FRONTEND_PORT}"`,
          'until temporal operator cluster health --address "$addr" | grep -q SERVING; do sleep 2; done',
          'temporal operator namespace describe --address "$addr" -n "$TEMPORAL_NAMESPACE" >/dev/null 2>&1 ||',
          `  temporal operator namespace create --address "$addr" -n "$TEMPORAL_NAMESPACE" --retention ${retentionDays * 24}h`,
        ].join('\n'),
      ],
      environment: { TEMPORAL_NAMESPACE: this.namespace },
      logging: LogDrivers.awsLogs({ logGroup, streamPrefix: 'namespace' }),
    });
    register.addContainerDependencies({
      container: server,
      condition: ContainerDependencyCondition.HEALTHY,
    });

    const domain = props.discoveryDomain ?? 'copilot.internal';
    const discovery = new PrivateDnsNamespace(this, 'Discovery', {
      name: domain,
      vpc,
      description: 'Temporal SRE Copilot: private service names',
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
      cloudMapOptions: {
        cloudMapNamespace: discovery,
        name: 'temporal',
        dnsRecordType: DnsRecordType.A,
        dnsTtl: Duration.seconds(10),
      },
      ...(props.spot === true
        ? { capacityProviderStrategies: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] }
        : {}),
    });
    this.address = `temporal.${domain}:${TEMPORAL_FRONTEND_PORT}`;
  }

  /** Admits `peer` to the frontend's gRPC port, and nothing else. */
  allowFrontendFrom(peer: IConnectable, description = 'Temporal frontend'): void {
    this.securityGroup.connections.allowFrom(peer, Port.tcp(TEMPORAL_FRONTEND_PORT), description);
  }
}
