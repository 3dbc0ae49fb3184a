import { createHash } from 'node:crypto';
import { CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { type IRole, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Provider } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { MIGRATIONS, type Migration, migrationChecksum } from '../shared/store/migrations.js';
import { COPILOT_ROLE_KEYS, createRoleStatement, grantStatements } from '../shared/store/roles.js';
import { BundledFunction } from './bundled-function.js';
import type { StateStore } from './state-store.js';

/**
 * A digest of everything the schema resource applies: every migration's checksum (DSQL
 * rendering) and every role statement. It changes exactly when a deploy carries something the
 * cluster may lack, and a changed property is what makes CloudFormation run the handler again.
 */
export function schemaFingerprint(
  migrations: readonly Migration[] = MIGRATIONS,
  roleStatements: readonly string[] = COPILOT_ROLE_KEYS.flatMap((role) => [
    createRoleStatement(role),
    ...grantStatements(role),
  ]),
): string {
  const hash = createHash('sha256');
  for (const m of migrations) hash.update(`${m.version}:${migrationChecksum(m, 'dsql')}\n`);
  for (const s of roleStatements) hash.update(`${s}\n`);
  return hash.digest('hex').slice(0, 32);
}

export interface StoreSchemaProps {
  readonly store: StateStore;
  /** IAM roles that log in as `copilot_worker` (the worker's task role). */
  readonly workerRoles: readonly IRole[];
  /** IAM roles that log in as `copilot_api` (the API Lambda's role). */
  readonly apiRoles: readonly IRole[];
  /** @default RetentionDays.ONE_WEEK */
  readonly logRetention?: RetentionDays;
  /** What deleting the stack does to the handler's logs. @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The store's schema and database roles, applied on deploy: a custom resource (Provider
 * framework) whose handler (`lambda/schema-setup.ts`) connects to the copilot's DSQL cluster as
 * `admin`, applies the missing migrations, and converges `copilot_worker` and `copilot_api` with
 * their grants and `AWS IAM GRANT` mappings to the given roles. The only principal with
 * `dsql:DbConnectAdmin` is this handler's role. Deleting the resource drops the roles; the data
 * stays.
 */
export class StoreSchema extends Construct {
  readonly resource: CustomResource;
  /** The handler's role: `dsql:DbConnectAdmin` on the store, its own logs, nothing else. */
  readonly handlerRole: IRole;

  constructor(scope: Construct, id: string, props: StoreSchemaProps) {
    super(scope, id);
    if (props.workerRoles.length === 0 || props.apiRoles.length === 0)
      throw new Error('StoreSchema needs at least one worker role and one API role to map');
    const retention = props.logRetention ?? RetentionDays.ONE_WEEK;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    const handler = new BundledFunction(this, 'Handler', {
      entry: 'lambda/schema-setup.ts',
      description: 'Temporal SRE Copilot: applies the store migrations and database roles',
      // A DSQL index build (CREATE INDEX ASYNC) is awaited; the longest Lambda run allowed.
      timeout: Duration.minutes(15),
      logRetention: retention,
      removalPolicy,
    });
    props.store.grantAdminConnect(handler.role);
    this.handlerRole = handler.role;

    const frameworkLogs = new LogGroup(this, 'ProviderLogs', { retention, removalPolicy });
    const frameworkRole = new Role(this, 'ProviderRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Temporal SRE Copilot: custom resource framework (invokes the schema handler)',
    });
    frameworkRole.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [frameworkLogs.logGroupArn],
      }),
    );
    const provider = new Provider(this, 'Provider', {
      onEventHandler: handler.function,
      frameworkOnEventRole: frameworkRole,
      logGroup: frameworkLogs,
    });
    const handlerId = Stack.of(this).getLogicalId(
      handler.function.node.defaultChild as CfnFunction,
    );
    Validations.of(frameworkRole).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${handlerId}.Arn>:*]`,
      reason:
        'the CDK Provider framework lets its relay function invoke the schema handler and its ' +
        'versions (ARN:*); that handler is the only function it can invoke',
    });

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::CopilotStoreSchema',
      properties: {
        Endpoint: props.store.endpoint,
        Region: Stack.of(this).region,
        WorkerRoleArns: props.workerRoles.map((r) => r.roleArn),
        ApiRoleArns: props.apiRoles.map((r) => r.roleArn),
        Fingerprint: schemaFingerprint(),
      },
    });
  }
}
