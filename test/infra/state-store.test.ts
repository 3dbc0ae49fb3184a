import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app.js';
import { StateStore } from '../../lib/state-store.js';

const exec = promisify(execFile);
const outdirs: string[] = [];
const outdir = () => {
  const d = mkdtempSync(join(tmpdir(), 'copilot-cdk-'));
  outdirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of outdirs) rmSync(d, { recursive: true, force: true });
});

/** Every IAM statement in a template, flattened. */
function statements(t: Template): Array<{ Action: unknown; Resource: unknown; Effect: string }> {
  return Object.values(t.findResources('AWS::IAM::Policy')).flatMap(
    (r) => (r.Properties.PolicyDocument.Statement as never[]) ?? [],
  );
}

/** The app as `cdk synth` builds it: with the feature flags `cdk.json` sets. */
const CONTEXT = (
  JSON.parse(readFileSync(join(import.meta.dirname, '../../cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;
const cliApp = () => new App({ outdir: outdir(), context: CONTEXT });

const clusterArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^StoreCluster'), 'ResourceArn'] };

describe('state store stack', () => {
  const { app, store } = buildApp(cliApp());
  const t = Template.fromStack(store);

  it('is one DSQL cluster with deletion protection, kept when the stack goes', () => {
    t.resourceCountIs('AWS::DSQL::Cluster', 1);
    t.hasResource('AWS::DSQL::Cluster', {
      Properties: { DeletionProtectionEnabled: true },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('outputs the endpoint the worker and the API take as COPILOT_DSQL_ENDPOINT', () => {
    t.hasOutput('DsqlEndpoint', {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StateStoreCluster'), 'Endpoint'] },
    });
  });

  it('passes the AwsSolutions checks with nothing acknowledged', () => {
    expect(new AwsSolutionsChecks(app).validateScope(app)).toEqual({
      success: true,
      violations: [],
    });
  });

  it('fails synth on a finding: the nag pack is wired, not decorative', () => {
    const bad = buildApp(cliApp());
    new Bucket(bad.store, 'UnloggedBucket');
    const report = new AwsSolutionsChecks(bad.app).validateScope(bad.app);
    expect(report.success).toBe(false);
    expect(report.violations.map((v) => v.ruleName)).toContain('AwsSolutions-S1');
    expect(() => bad.app.synth()).toThrow(/AwsSolutions/);
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

describe('cdk synth', () => {
  it('synthesises the app offline with the real CLI, nag included', async () => {
    const out = outdir();
    const r = await exec('npx', ['cdk', 'synth', '--quiet', '--no-notices', '-o', out], {
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' },
    });
    expect(r.stderr).not.toMatch(/ERROR/);
    const template = JSON.parse(
      readFileSync(join(out, 'TemporalSreCopilotStore.template.json'), 'utf8'),
    ) as { Resources: Record<string, { Type: string }> };
    expect(Object.values(template.Resources).map((r) => r.Type)).toContain('AWS::DSQL::Cluster');
    const report = JSON.parse(readFileSync(join(out, 'validation-report.json'), 'utf8')) as {
      pluginReports: unknown[];
    };
    expect(report.pluginReports).toEqual([]);
  });
});
