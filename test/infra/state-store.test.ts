import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { afterAll, describe, expect, it } from 'vitest';
import { StateStore } from '../../lib/state-store.js';
import { buildTestApp, CDK_CONTEXT, outdir, removeOutdirs, statements } from './support.js';

afterAll(removeOutdirs);
const cliApp = () => new App({ outdir: outdir(), context: CDK_CONTEXT });

const clusterArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^StoreCluster'), 'ResourceArn'] };

describe('state store stack', () => {
  const { store } = buildTestApp();
  const t = Template.fromStack(store);

  it('is one DSQL cluster with deletion protection, kept when the stack goes', () => {
    t.resourceCountIs('AWS::DSQL::Cluster', 1);
    t.hasResource('AWS::DSQL::Cluster', {
      Properties: { DeletionProtectionEnabled: true },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it("keeps the cluster's logical id: a new one would replace the cluster and its data", () => {
    expect(Object.keys(t.findResources('AWS::DSQL::Cluster'))).toEqual([
      'StateStoreClusterFF885084',
    ]);
  });

  it('outputs the endpoint the worker and the API take as COPILOT_DSQL_ENDPOINT', () => {
    t.hasOutput('DsqlEndpoint', {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StateStoreCluster'), 'Endpoint'] },
    });
  });

  it('holds nothing but the cluster: no role, no policy, no function', () => {
    expect(
      Object.values(t.toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type),
    ).toEqual(['AWS::DSQL::Cluster']);
  });
});

describe('StateStore grants', () => {
  function withRole(grant: (s: StateStore, r: Role) => void): Template {
    const stack = new Stack(cliApp(), 'GrantTest');
    const s = new StateStore(stack, 'Store');
    const role = new Role(stack, 'Reader', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    });
    grant(s, role);
    return Template.fromStack(stack);
  }

  it('grantConnect allows dsql:DbConnect on this cluster only', () => {
    const t = withRole((s, r) => s.grantConnect(r));
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [{ Action: 'dsql:DbConnect', Effect: 'Allow', Resource: clusterArn }],
      },
    });
    // …and that statement is the role's only one.
    expect(statements(t)).toHaveLength(1);
  });

  it('grantAdminConnect allows dsql:DbConnectAdmin on this cluster only, and nothing else', () => {
    const t = withRole((s, r) => s.grantAdminConnect(r));
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [{ Action: 'dsql:DbConnectAdmin', Effect: 'Allow', Resource: clusterArn }],
      },
    });
    const actions = statements(t).flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(['dsql:DbConnectAdmin']);
    expect(JSON.stringify(statements(t))).not.toContain('*');
  });

  it('a role with no grant gets no DSQL permission at all', () => {
    const t = withRole(() => undefined);
    expect(statements(t)).toEqual([]);
  });
});
