import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiEnvSchema, parseLambdaApiEnv } from '../../lambda/common/env.js';
import { PRESETS } from '../../lib/config.js';
import { schemaFingerprint } from '../../lib/store-schema.js';
import { TEMPORAL_ADMIN_TOOLS_IMAGE, TEMPORAL_SERVER_IMAGE } from '../../lib/temporal-server.js';
import { silencePeriodSeconds } from '../../lib/watchdog.js';
import { WORKER_ENV_NAMES, WORKER_VARIABLES } from '../../lib/worker-environment.js';
import { MIGRATIONS } from '../../shared/store/migrations.js';
import { COPILOT_ROLES } from '../../shared/store/roles.js';
import { loadWorkerSettings } from '../../worker/config.js';
import { CLUSTER_DIMENSION, EVALUATIONS_STORED, METRIC_NAMESPACE } from '../../worker/metrics.js';
import {
  actionsOf,
  buildTestApp,
  configFromCdkJson,
  containerOf,
  removeOutdirs,
  roleStatements,
  type Statement,
  statements,
} from './support.js';

afterAll(removeOutdirs);

/** The one logical id of a resource type in a template (fails when there is not exactly one). */
function onlyId(t: Template, type: string, props?: Record<string, unknown>): string {
  const ids = Object.keys(t.findResources(type, props === undefined ? {} : { Properties: props }));
  expect(ids, type).toHaveLength(1);
  return ids[0] as string;
}

const dev = buildTestApp();
const devT = Template.fromStack(dev.copilot);
const devStoreT = Template.fromStack(dev.store);
const devConfig = configFromCdkJson();

const prod = buildTestApp(configFromCdkJson({ preset: 'prod' }));
const prodT = Template.fromStack(prod.copilot);

/** The worker's task role: the ECS task role of the worker's task definition. */
function workerTaskRole(t: Template): string {
  const task = Object.values(t.findResources('AWS::ECS::TaskDefinition')).find((d) =>
    (d.Properties.ContainerDefinitions as { Name: string }[]).some((c) => c.Name === 'Worker'),
  );
  const ref = task?.Properties.TaskRoleArn?.['Fn::GetAtt']?.[0];
  expect(ref, 'the worker task role').toBeTypeOf('string');
  return ref as string;
}

describe('network', () => {
  it('dev: a new VPC with one NAT gateway, private subnets, an S3 gateway endpoint and a flow log, no interface endpoints', () => {
    devT.resourceCountIs('AWS::EC2::VPC', 1);
    devT.resourceCountIs('AWS::EC2::NatGateway', 1);
    devT.resourceCountIs('AWS::EC2::FlowLog', 1);
    devT.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT' });
    const endpoints = Object.values(devT.findResources('AWS::EC2::VPCEndpoint'));
    expect(endpoints.map((e) => e.Properties.VpcEndpointType)).toEqual(['Gateway']);
  });

  it('prod: a NAT gateway per AZ and interface endpoints that admit only the worker and Temporal', () => {
    prodT.resourceCountIs('AWS::EC2::NatGateway', PRESETS.prod.network.natGateways);
    const interfaces = prodT.findResources('AWS::EC2::VPCEndpoint', {
      Properties: { VpcEndpointType: 'Interface' },
    });
    expect(Object.keys(interfaces)).toHaveLength(7);
    const workerSg = onlyId(prodT, 'AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^Copilot worker'),
    });
    const temporalSg = onlyId(prodT, 'AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^Temporal server'),
    });
    for (const endpoint of Object.values(interfaces)) {
      const sg = (endpoint.Properties.SecurityGroupIds as { 'Fn::GetAtt': [string] }[])[0]?.[
        'Fn::GetAtt'
      ][0];
      const group = prodT.toJSON().Resources[sg as string];
      expect(group.Properties.SecurityGroupIngress ?? []).toEqual([]);
      const ingress = Object.values(
        prodT.findResources('AWS::EC2::SecurityGroupIngress', {
          Properties: { GroupId: { 'Fn::GetAtt': [sg, 'GroupId'] } },
        }),
      ).map((r) => [r.Properties.SourceSecurityGroupId['Fn::GetAtt'][0], r.Properties.FromPort]);
      expect(ingress.sort()).toEqual([
        [temporalSg, 443],
        [workerSg, 443],
      ]);
    }
  });

  it('attaches to an existing VPC by id: no VPC, NAT or flow log created, tasks in its subnets', () => {
    const { copilot } = buildTestApp(
      configFromCdkJson({
        vpc: {
          vpcId: 'vpc-0123456789abcdef0',
          availabilityZones: ['eu-west-1a', 'eu-west-1b'],
          privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'],
        },
      }),
    );
    const t = Template.fromStack(copilot);
    for (const type of [
      'AWS::EC2::VPC',
      'AWS::EC2::NatGateway',
      'AWS::EC2::FlowLog',
      'AWS::EC2::Subnet',
    ])
      t.resourceCountIs(type, 0);
    t.resourcePropertiesCountIs(
      'AWS::ECS::Service',
      {
        NetworkConfiguration: {
          AwsvpcConfiguration: Match.objectLike({
            Subnets: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'],
          }),
        },
      },
      2,
    );
    t.hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: 'vpc-0123456789abcdef0' });
  });
});

describe('Temporal server', () => {
  const temporalSg = onlyId(devT, 'AWS::EC2::SecurityGroup', {
    GroupDescription: Match.stringLikeRegexp('^Temporal server'),
  });
  const workerSg = onlyId(devT, 'AWS::EC2::SecurityGroup', {
    GroupDescription: Match.stringLikeRegexp('^Copilot worker'),
  });

  it('admits the frontend port (7233) from the worker security group and from nothing else', () => {
    const ingress = Object.values(devT.findResources('AWS::EC2::SecurityGroupIngress')).filter(
      (r) =>
        r.Properties.GroupId['Fn::GetAtt']?.[0] === temporalSg &&
        r.Properties.FromPort <= 7233 &&
        r.Properties.ToPort >= 7233,
    );
    expect(ingress.map((r) => r.Properties.SourceSecurityGroupId)).toEqual([
      { 'Fn::GetAtt': [workerSg, 'GroupId'] },
    ]);
    // …and the group has no inline rule or CIDR source that could widen it.
    const group = devT.toJSON().Resources[temporalSg];
    expect(group.Properties.SecurityGroupIngress).toBeUndefined();
    const cidrs = Object.values(devT.findResources('AWS::EC2::SecurityGroupIngress')).filter(
      (r) => r.Properties.GroupId['Fn::GetAtt']?.[0] === temporalSg && r.Properties.CidrIp,
    );
    expect(cidrs).toEqual([]);
  });

  it('admits its ring ports (membership 6933-6939, internal gRPC 7234-7239) only from its own tasks', () => {
    const rings = Object.values(devT.findResources('AWS::EC2::SecurityGroupIngress'))
      .filter((r) => r.Properties.GroupId['Fn::GetAtt']?.[0] === temporalSg)
      .filter((r) => r.Properties.FromPort !== 7233)
      .map((r) => [r.Properties.FromPort, r.Properties.ToPort, r.Properties.SourceSecurityGroupId]);
    expect(rings).toEqual([
      [6933, 6939, { 'Fn::GetAtt': [temporalSg, 'GroupId'] }],
      [7234, 7239, { 'Fn::GetAtt': [temporalSg, 'GroupId'] }],
    ]);
  });

  it('runs on Fargate with no public IP, registered in Cloud Map as temporal.copilot.internal', () => {
    devT.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: {
        AwsvpcConfiguration: Match.objectLike({
          AssignPublicIp: 'DISABLED',
          SecurityGroups: [{ 'Fn::GetAtt': [temporalSg, 'GroupId'] }],
        }),
      },
      ServiceRegistries: [Match.objectLike({})],
    });
    devT.hasResourceProperties('AWS::ServiceDiscovery::PrivateDnsNamespace', {
      Name: 'copilot.internal',
    });
    devT.hasResourceProperties('AWS::ServiceDiscovery::Service', {
      Name: 'temporal',
      DnsConfig: Match.objectLike({ DnsRecords: [{ Type: 'A', TTL: 10 }] }),
    });
  });

  it('sets the schema up before the server starts, checks its health, then registers the namespace', () => {
    const server = containerOf(devT, 'Server');
    expect(server.definition.Image).toBe(TEMPORAL_SERVER_IMAGE);
    expect(server.definition.DependsOn).toEqual([
      { Condition: 'SUCCESS', ContainerName: 'SchemaSetup' },
    ]);
    expect(server.definition.HealthCheck).toMatchObject({
      Command: ['CMD-SHELL', expect.stringContaining('7233')],
      Retries: 4,
    });
    expect(server.secrets.sort()).toEqual(['POSTGRES_PWD', 'POSTGRES_USER']);
    const setup = containerOf(devT, 'SchemaSetup');
    expect(setup.definition).toMatchObject({ Image: TEMPORAL_ADMIN_TOOLS_IMAGE, Essential: false });
    const script = (setup.definition.Command as string[])[0] ?? '';
    expect(script).toMatch(/setup-schema -v 0\.0/);
    expect(script).toMatch(
      /update-schema -d \/etc\/temporal\/schema\/postgresql\/v12\/temporal\/versioned/,
    );
    expect(script).toMatch(
      /update-schema -d \/etc\/temporal\/schema\/postgresql\/v12\/visibility\/versioned/,
    );
    const ns = containerOf(devT, 'NamespaceSetup');
    expect(ns.definition.DependsOn).toEqual([{ Condition: 'HEALTHY', ContainerName: 'Server' }]);
    expect(ns.environment).toEqual({ TEMPORAL_NAMESPACE: 'default' });
  });

  it('pins its images to one server version, never latest', () => {
    expect(TEMPORAL_SERVER_IMAGE).toMatch(/^temporalio\/server:\d+\.\d+\.\d+$/);
    const version = TEMPORAL_SERVER_IMAGE.split(':')[1];
    expect(TEMPORAL_ADMIN_TOOLS_IMAGE.startsWith(`temporalio/admin-tools:${version}-`)).toBe(true);
  });

  it('dev keeps its state on one encrypted RDS PostgreSQL instance, reachable only from the server', () => {
    devT.resourceCountIs('AWS::RDS::DBCluster', 0);
    devT.resourceCountIs('AWS::RDS::DBInstance', 1);
    devT.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres',
      DBInstanceClass: `db.${PRESETS.dev.temporal.databaseInstanceType}`,
      StorageEncrypted: true,
      PubliclyAccessible: false,
      MultiAZ: false,
    });
    const dbSg = onlyId(devT, 'AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^Temporal database'),
    });
    const sources = Object.values(devT.findResources('AWS::EC2::SecurityGroupIngress'))
      .filter((r) => r.Properties.GroupId['Fn::GetAtt']?.[0] === dbSg)
      .map((r) => r.Properties.SourceSecurityGroupId);
    expect(sources).toEqual([{ 'Fn::GetAtt': [temporalSg, 'GroupId'] }]);
  });

  it('prod keeps it in Aurora PostgreSQL Serverless v2 with a reader, protected and snapshotted', () => {
    prodT.hasResource('AWS::RDS::DBCluster', {
      Properties: Match.objectLike({
        Engine: 'aurora-postgresql',
        StorageEncrypted: true,
        DeletionProtection: true,
        ServerlessV2ScalingConfiguration: {
          MinCapacity: PRESETS.prod.temporal.databaseMinAcu,
          MaxCapacity: PRESETS.prod.temporal.databaseMaxAcu,
        },
      }),
      DeletionPolicy: 'Snapshot',
    });
    prodT.resourceCountIs('AWS::RDS::DBInstance', 1 + PRESETS.prod.temporal.databaseReaders);
    const server = containerOf(prodT, 'Server');
    expect(server.definition.Environment).toContainEqual({
      Name: 'POSTGRES_SEEDS',
      Value: { 'Fn::GetAtt': [expect.stringMatching(/^TemporalDatabase/), 'Endpoint.Address'] },
    });
  });

  it('keeps the logs a week in dev and 90 days in prod', () => {
    devT.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    prodT.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('applies the preset to the knowledge-base stack too: dev deletes the knowledge base and its vectors, prod keeps them', () => {
    const [devKb, prodKb] = [dev.knowledgeBase, prod.knowledgeBase].map((stack) => {
      if (stack === undefined) throw new Error('no knowledge-base stack');
      return Template.fromStack(stack);
    });
    devKb?.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    prodKb?.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    for (const type of ['AWS::Bedrock::KnowledgeBase', 'AWS::S3Vectors::Index']) {
      devKb?.hasResource(type, { DeletionPolicy: 'Delete' });
      prodKb?.hasResource(type, { DeletionPolicy: 'Retain' });
    }
    // The corpus bucket is kept whatever the preset (it is the deploy's copy of docs/rag).
    devKb?.allResources('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
  });
});

describe('worker', () => {
  const worker = containerOf(devT, 'Worker');

  it('sets exactly the names the worker reads that the deployment gives a value', () => {
    const built = dev.copilot.worker.variables;
    const set = [...Object.keys(worker.environment), ...worker.secrets].sort();
    // The synthesised container is what the builder built…
    expect(set).toEqual([...Object.keys(built.environment), ...Object.keys(built.secrets)].sort());
    // …every name it sets is one the worker reads, and every name the worker reads is either set
    // or left unset on purpose: a name added on either side fails here.
    const unset = Object.keys(built.unset);
    expect([...set, ...unset].sort()).toEqual([...WORKER_ENV_NAMES].sort());
    expect(set.filter((n) => unset.includes(n))).toEqual([]);
    expect(Object.keys(WORKER_VARIABLES).sort()).toEqual([...WORKER_ENV_NAMES].sort());
    // Left unset only by decision, or because cdk.json's example configures no value for it.
    for (const [name, why] of Object.entries(built.unset))
      if (why === 'not configured for this deployment')
        expect('value' in WORKER_VARIABLES[name as keyof typeof WORKER_VARIABLES], name).toBe(true);
  });

  it("starts from its environment: the deployed variables pass the worker's own loader", () => {
    const settings = loadWorkerSettings(worker.environment);
    expect(settings.clusters.map((c) => c.name)).toEqual(devConfig.clusters.map((c) => c.name));
    expect(settings.clusters.map((c) => c.metrics)).toMatchObject([
      {
        kind: 'prometheus',
        url: expect.stringMatching(
          /^https:\/\/aps-workspaces\.eu-west-1\.amazonaws\.com\/workspaces\/ws-/,
        ),
        auth: { kind: 'sigv4' },
        dialect: { server: 'otel' },
      },
      { kind: 'prometheus', url: 'http://prometheus.staging.internal:9090' },
    ]);
    expect(settings.storeTarget).toEqual({
      dialect: 'dsql',
      endpoint: 'abcdefghijklmnopqrstuvwxyz.dsql.eu-west-1.on.aws',
      user: COPILOT_ROLES.worker.name,
      region: 'eu-west-1',
    });
    expect(settings.env.TEMPORAL_ADDRESS).toBe('temporal.copilot.internal:7233');
    expect(settings.intervalMs).toBe(devConfig.intervalSeconds * 1000);
  });

  it('logs in to the store as copilot_worker, never admin', () => {
    expect(worker.environment.COPILOT_DSQL_USER).toBe('copilot_worker');
  });

  it('its task role may do exactly: DbConnect on the store, QueryMetrics on the AMP workspace, InvokeModel on the configured models, Retrieve on the knowledge base', () => {
    const got = roleStatements(devT, workerTaskRole(devT));
    expect(got.flatMap(actionsOf).sort()).toEqual(
      [
        'aps:QueryMetrics',
        'bedrock:InvokeModel',
        'bedrock:InvokeModel',
        'bedrock:Retrieve',
        'dsql:DbConnect',
      ].sort(),
    );
    const by = (action: string) => got.filter((s) => actionsOf(s).includes(action));
    expect(by('dsql:DbConnect')[0]?.Resource).toEqual({
      'Fn::ImportValue': expect.stringMatching(/StateStoreCluster.*ResourceArn/),
    });
    const amp = devConfig.clusters.flatMap((c) =>
      'ampWorkspaceArn' in c.metrics ? [c.metrics.ampWorkspaceArn] : [],
    );
    expect(by('aps:QueryMetrics')[0]?.Resource).toEqual(amp[0]);
    const invoke = JSON.stringify(by('bedrock:InvokeModel'));
    const { dispatcherModel, researcherModel, profile } = devConfig.bedrock;
    for (const model of [dispatcherModel, researcherModel]) {
      expect(invoke).toContain(`:inference-profile/${profile}.${model}`);
      expect(invoke).toContain(`::foundation-model/${model}`);
    }
    // Nothing but the two configured models.
    expect(
      invoke
        .match(/foundation-model\/[^"]+/g)
        ?.map((m) => m.split('/')[1])
        .sort(),
    ).toEqual([dispatcherModel, dispatcherModel, researcherModel, researcherModel].sort());
    // The any-region model ARNs only through the configured inference profiles.
    const routed = by('bedrock:InvokeModel').find((s) => s.Condition !== undefined);
    expect(routed?.Condition).toMatchObject({
      StringEquals: { 'bedrock:InferenceProfileArn': expect.any(Array) },
    });
  });

  it('gets bedrock:Retrieve on the knowledge base, and COPILOT_KB_ID, when one is configured', () => {
    const { copilot } = buildTestApp(
      configFromCdkJson({
        bedrock: {
          dispatcherModel: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
          researcherModel: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
          profile: 'eu',
          knowledgeBaseId: 'ABCDEFGHIJ',
        },
      }),
    );
    const t = Template.fromStack(copilot);
    const got = roleStatements(t, workerTaskRole(t));
    const retrieve = got.filter((s) => actionsOf(s).includes('bedrock:Retrieve'));
    expect(JSON.stringify(retrieve[0]?.Resource)).toContain(':knowledge-base/ABCDEFGHIJ');
    expect(JSON.stringify(got)).toContain('inference-profile/eu.anthropic.claude-sonnet-4-5');
    expect(JSON.stringify(got)).not.toContain('opus');
    expect(containerOf(t, 'Worker').environment.COPILOT_KB_ID).toBe('ABCDEFGHIJ');
  });

  it('creates the runbook knowledge base in its own stack by default, and the worker retrieves from it', () => {
    const app = buildTestApp();
    expect(app.knowledgeBase?.stackName).toBe('TemporalSreCopilotKnowledgeBase');
    const kb = Template.fromStack(app.knowledgeBase as Stack);
    kb.resourceCountIs('AWS::Bedrock::KnowledgeBase', 1);
    kb.resourceCountIs('Custom::RunbookIngestion', 1);
    const t = Template.fromStack(app.copilot);
    const worker = containerOf(t, 'Worker');
    // The id crosses stacks as an import of the knowledge base's attribute.
    expect(worker.environment.COPILOT_KB_ID).toBe('KBDEPLOYED');
    const retrieve = roleStatements(t, workerTaskRole(t)).filter((s) =>
      actionsOf(s).includes('bedrock:Retrieve'),
    );
    expect(retrieve).toHaveLength(1);
    expect(JSON.stringify(retrieve[0]?.Resource)).toContain(
      'TemporalSreCopilotKnowledgeBase:ExportsOutput',
    );
  });

  it.each([
    ['knowledgeBase: none', { knowledgeBase: 'none' }],
    ['the rule-based explainer', { explainer: 'rules' }],
    ['an existing knowledge base id', { knowledgeBaseId: 'ABCDEFGHIJ' }],
  ])('creates no knowledge base stack with %s', (_name, bedrock) => {
    const app = buildTestApp(configFromCdkJson({ bedrock }));
    expect(app.knowledgeBase).toBeUndefined();
    expect(app.app.node.tryFindChild('TemporalSreCopilotKnowledgeBase')).toBeUndefined();
    const kbId = containerOf(Template.fromStack(app.copilot), 'Worker').environment.COPILOT_KB_ID;
    expect(kbId).toBe('knowledgeBaseId' in bedrock ? 'ABCDEFGHIJ' : undefined);
  });

  it('takes a variable from Secrets Manager when asked, and refuses a name the worker does not read', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:copilot-clusters-AbCdEf';
    const { copilot } = buildTestApp(
      configFromCdkJson({ workerSecrets: { COPILOT_CLUSTERS: arn } }),
    );
    const c = containerOf(Template.fromStack(copilot), 'Worker');
    expect(c.secrets).toEqual(['COPILOT_CLUSTERS']);
    expect(c.environment.COPILOT_CLUSTERS).toBeUndefined();
    expect(() =>
      buildTestApp(configFromCdkJson({ workerSecrets: { COPILOT_CLUSTERZ: arn } })),
    ).toThrow(/COPILOT_CLUSTERZ is not a variable the worker reads/);
  });

  it('runs with no public IP, a security group without ingress, and scales by desired count', () => {
    const sg = onlyId(devT, 'AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^Copilot worker'),
    });
    const ingress = Object.values(devT.findResources('AWS::EC2::SecurityGroupIngress')).filter(
      (r) => r.Properties.GroupId['Fn::GetAtt']?.[0] === sg,
    );
    expect(ingress).toEqual([]);
    prodT.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: PRESETS.prod.worker.desiredCount,
      NetworkConfiguration: {
        AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }),
      },
    });
  });

  it('dev runs both services on Fargate Spot, prod on demand', () => {
    devT.resourcePropertiesCountIs(
      'AWS::ECS::Service',
      { CapacityProviderStrategy: [{ CapacityProvider: 'FARGATE_SPOT', Weight: 1 }] },
      2,
    );
    prodT.resourcePropertiesCountIs(
      'AWS::ECS::Service',
      { CapacityProviderStrategy: Match.anyValue() },
      0,
    );
  });

  it('is built from the repository Dockerfile (an image asset, arm64)', () => {
    const image = JSON.stringify(worker.definition.Image);
    expect(image).toContain('cdk-hnb659fds-container-assets');
    devT.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Name: 'Worker' })],
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
    });
  });
});

describe('store schema and roles', () => {
  it('runs the schema handler with the worker task role and the API role to map', () => {
    const apiRole = onlyId(devT, 'AWS::IAM::Role', {
      Description: Match.stringLikeRegexp('JSON API'),
    });
    devT.hasResourceProperties('Custom::CopilotStoreSchema', {
      Endpoint: { 'Fn::ImportValue': Match.stringLikeRegexp('Endpoint') },
      WorkerRoleArns: [{ 'Fn::GetAtt': [workerTaskRole(devT), 'Arn'] }],
      ApiRoleArns: [{ 'Fn::GetAtt': [apiRole, 'Arn'] }],
      Fingerprint: schemaFingerprint(),
    });
  });

  it('gives dsql:DbConnectAdmin to the schema handler alone', () => {
    const admins = statements(devT).filter((s) => actionsOf(s).includes('dsql:DbConnectAdmin'));
    expect(admins).toHaveLength(1);
    const handlerRole = onlyId(devT, 'AWS::IAM::Role', {
      Description: Match.stringLikeRegexp('applies the store migrations'),
    });
    expect(roleStatements(devT, handlerRole).flatMap(actionsOf).sort()).toEqual(
      ['dsql:DbConnectAdmin', 'logs:CreateLogStream', 'logs:PutLogEvents'].sort(),
    );
  });

  it('starts the worker only after the roles exist', () => {
    const schema = onlyId(devT, 'Custom::CopilotStoreSchema');
    const workerService = Object.entries(devT.findResources('AWS::ECS::Service')).find(([id]) =>
      id.startsWith('WorkerService'),
    );
    expect(workerService?.[1].DependsOn).toContain(schema);
  });

  it('changes its fingerprint when a migration or a role statement changes', () => {
    const now = schemaFingerprint();
    expect(now).toMatch(/^[0-9a-f]{32}$/);
    expect(schemaFingerprint()).toBe(now);
    const added = [...MIGRATIONS, { version: 999, name: 'x', statement: () => 'SELECT 1' }];
    expect(schemaFingerprint(added)).not.toBe(now);
    expect(schemaFingerprint(MIGRATIONS, ['GRANT SELECT ON evaluations TO copilot_api'])).not.toBe(
      now,
    );
  });
});

describe('API', () => {
  const fn = onlyId(devT, 'AWS::Lambda::Function', {
    Description: Match.stringLikeRegexp('JSON API'),
  });
  const lambda = devT.toJSON().Resources[fn];
  const env = Object.fromEntries(
    Object.entries(lambda.Properties.Environment.Variables as Record<string, unknown>).map(
      ([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)],
    ),
  );

  it('is one bundled Node 22 arm64 Lambda behind an HTTP API $default route', () => {
    expect(lambda.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
    devT.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    devT.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    // API-key mode: the gateway lets requests through and the Lambda checks x-api-key.
    devT.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: '$default',
      AuthorizationType: 'NONE',
    });
  });

  it('sets only names of ApiEnvSchema, and they parse as the Lambda parses them', () => {
    const names = Object.keys(ApiEnvSchema.shape);
    for (const name of Object.keys(env)) expect(names).toContain(name);
    const vars = lambda.Properties.Environment.Variables as Record<string, unknown>;
    const deployed = Object.fromEntries(
      Object.entries(vars).map(([k, v]) => [
        k,
        typeof v === 'string'
          ? v
          : JSON.stringify(v).includes('Endpoint')
            ? 'abcdefghijklmnopqrstuvwxyz.dsql.eu-west-1.on.aws'
            : 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ApiKey-AbCdEf',
      ]),
    );
    const parsed = parseLambdaApiEnv({ ...deployed, AWS_REGION: 'eu-west-1' });
    expect(parsed).toMatchObject({
      COPILOT_DSQL_USER: COPILOT_ROLES.api.name,
      COPILOT_API_AUTH: 'api-key',
      COPILOT_API_KEY_SECRET_ARN: expect.stringMatching(/^arn:aws:secretsmanager:/),
    });
  });

  it('throttles its stage and writes JSON access logs', () => {
    devT.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: PRESETS.dev.api.throttleRate,
        ThrottlingBurstLimit: PRESETS.dev.api.throttleBurst,
      },
      AccessLogSettings: {
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
      },
    });
  });

  it('reads the key from Secrets Manager, generated and never in the template', () => {
    devT.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true },
    });
    const apiRole = onlyId(devT, 'AWS::IAM::Role', {
      Description: Match.stringLikeRegexp('JSON API'),
    });
    expect(roleStatements(devT, apiRole).flatMap(actionsOf).sort()).toEqual(
      [
        'dsql:DbConnect',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
      ].sort(),
    );
  });

  it('outputs its HTTPS URL and the key secret', () => {
    // The HTTP API's endpoint attribute is its https:// URL.
    const api = onlyId(devT, 'AWS::ApiGatewayV2::Api');
    devT.hasOutput('ApiUrl', { Value: { 'Fn::GetAtt': [api, 'ApiEndpoint'] } });
    devT.hasOutput('ApiKeySecretArn', { Value: Match.anyValue() });
  });

  it('in IAM mode: API Gateway checks SigV4, no key secret exists, and the Lambda is told so', () => {
    const { copilot } = buildTestApp(configFromCdkJson({ api: { auth: 'iam' } }));
    const t = Template.fromStack(copilot);
    t.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: '$default',
      AuthorizationType: 'AWS_IAM',
    });
    t.resourcePropertiesCountIs(
      'AWS::SecretsManager::Secret',
      { GenerateSecretString: { PasswordLength: 48 } },
      0,
    );
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ COPILOT_API_AUTH: 'iam' }) },
    });
    t.hasOutput('ApiInvokeArn', { Value: Match.anyValue() });
  });
});

describe('watchdog', () => {
  const alarms = devT.findResources('AWS::CloudWatch::Alarm');

  it('alarms per monitored cluster when no evaluation was stored for 3 intervals', () => {
    // The alarm reads what the worker emits (the template's names are worker/metrics.ts's).
    for (const cluster of devConfig.clusters)
      devT.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: METRIC_NAMESPACE,
        MetricName: EVALUATIONS_STORED,
        Dimensions: [{ Name: CLUSTER_DIMENSION, Value: cluster.name }],
        Statistic: 'Sum',
        Period: silencePeriodSeconds(devConfig.intervalSeconds),
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        TreatMissingData: 'breaching',
      });
    expect(silencePeriodSeconds(30)).toBe(120);
    expect(silencePeriodSeconds(60)).toBe(180);
    expect(() => silencePeriodSeconds(0)).toThrow(/intervalSeconds/);
  });

  it('alarms when the worker or the Temporal server has no running task, and on API 5xx', () => {
    expect(Object.keys(alarms)).toHaveLength(3 + devConfig.clusters.length);
    // dev: no Container Insights; the services' own CPUUtilization goes silent with no task.
    for (const [t, metric] of [
      [devT, { Namespace: 'AWS/ECS', MetricName: 'CPUUtilization', Statistic: 'SampleCount' }],
      [
        prodT,
        {
          Namespace: 'ECS/ContainerInsights',
          MetricName: 'RunningTaskCount',
          Statistic: 'Minimum',
        },
      ],
    ] as const) {
      t.resourcePropertiesCountIs(
        'AWS::CloudWatch::Alarm',
        {
          ...metric,
          Dimensions: Match.arrayWith([Match.objectLike({ Name: 'ServiceName' })]),
          ComparisonOperator: 'LessThanThreshold',
          Threshold: 1,
          TreatMissingData: 'breaching',
        },
        2,
      );
    }
    devT.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    devT.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'disabled' }],
    });
    prodT.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });

  it('notifies one KMS-encrypted topic on alarm and on recovery', () => {
    const topic = onlyId(devT, 'AWS::SNS::Topic');
    for (const alarm of Object.values(alarms)) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topic }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: topic }]);
    }
    devT.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    devT.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });
});

describe('least privilege across the app', () => {
  /** Actions IAM offers no resource ARN for: `*` is the only resource they take. */
  const NO_RESOURCE_ARN = new Set(['ecr:GetAuthorizationToken']);

  it('no statement has a "*" resource where an ARN exists', () => {
    for (const t of [devT, devStoreT, prodT]) {
      const starred = statements(t).filter((s: Statement) =>
        [s.Resource].flat().some((r) => r === '*'),
      );
      for (const s of starred)
        expect(
          actionsOf(s).every((a) => NO_RESOURCE_ARN.has(a)),
          JSON.stringify(s),
        ).toBe(true);
    }
  });

  it('no policy grants a service-wide action such as dsql:* or bedrock:*', () => {
    for (const s of statements(devT))
      for (const a of actionsOf(s)) expect(a, JSON.stringify(s)).not.toMatch(/:\*$|^\*$/);
  });
});

describe('the Lambda bundles the app deploys', () => {
  // Markers of the SDK's default credential chain that survive minification: the web identity,
  // container and SSO sources. lib/lambda-bundling.ts replaces the chain with the environment's
  // credentials (Lambda's own), which is most of what keeps the API bundle under 300 KB.
  const CHAIN = /AWS_WEB_IDENTITY_TOKEN_FILE|AWS_CONTAINER_CREDENTIALS_FULL_URI|sso_start_url/;

  it('carry no credential source but the environment, in every stack', () => {
    const outdir = dev.app.outdir;
    const stacks = [dev.copilot, dev.store, ...(dev.knowledgeBase ? [dev.knowledgeBase] : [])];
    const bundles: string[] = [];
    for (const stack of stacks)
      for (const r of Object.values(
        Template.fromStack(stack).findResources('AWS::Lambda::Function'),
      )) {
        const key = (r.Properties.Code as { S3Key?: unknown }).S3Key;
        const hash = typeof key === 'string' ? /^([0-9a-f]{64})\.zip$/.exec(key)?.[1] : undefined;
        const file = hash === undefined ? undefined : join(outdir, `asset.${hash}`, 'index.mjs');
        // Only our esbuild bundles (the CDK's own provider frameworks ship index.js).
        if (file !== undefined && existsSync(file)) bundles.push(readFileSync(file, 'utf8'));
      }
    // The API, the schema setup, and the knowledge base's ingestion and console functions.
    expect(bundles.length).toBeGreaterThanOrEqual(4);
    for (const b of bundles) expect(CHAIN.test(b)).toBe(false);
  });
});

describe('stateful resources keep their logical ids', () => {
  const templates = { dev: devT, prod: prodT };
  it.each([
    ['dev', 'AWS::RDS::DBInstance', 'TemporalDatabaseInstance8BE68D7A'],
    ['prod', 'AWS::RDS::DBCluster', 'TemporalDatabase34E05CF6'],
    ['dev', 'AWS::SecretsManager::Secret', 'ApiApiKey8A01341B'],
    ['dev', 'AWS::KMS::Key', 'WatchdogTopicKeyFB681861'],
  ] as const)('%s: %s is %s (a new id would replace it)', (preset, type, id) => {
    expect(Object.keys(templates[preset].findResources(type))).toContain(id);
  });

  it('the RDS instance and the Aurora cluster never share a logical id (presets can be switched)', () => {
    const rds = Object.keys(devT.findResources('AWS::RDS::DBInstance'));
    const aurora = Object.keys(prodT.findResources('AWS::RDS::DBCluster'));
    expect(rds.filter((id) => aurora.includes(id))).toEqual([]);
  });

  it('the store cluster lives in its own stack under a pinned id', () => {
    expect(Object.keys(devStoreT.findResources('AWS::DSQL::Cluster'))).toEqual([
      'StateStoreClusterFF885084',
    ]);
  });
});
