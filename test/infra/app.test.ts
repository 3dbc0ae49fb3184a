import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DeploymentConfigError,
  PRESETS,
  readCopilotContext,
  resolveDeploymentConfig,
} from '../../lib/config.js';
import { buildTestApp, CDK_CONTEXT, configFromCdkJson, outdir, removeOutdirs } from './support.js';

const exec = promisify(execFile);
afterAll(removeOutdirs);

const cluster = {
  name: 'prod-eu',
  metrics: { ampWorkspaceArn: 'arn:aws:aps:eu-west-1:123456789012:workspace/ws-1' },
};

describe('deployment configuration', () => {
  it('applies the preset, then the overrides', () => {
    const config = resolveDeploymentConfig({
      preset: 'prod',
      clusters: [cluster],
      overrides: { worker: { desiredCount: 4 }, logRetentionDays: 30 },
    });
    expect(config.settings.worker).toEqual({ ...PRESETS.prod.worker, desiredCount: 4 });
    expect(config.settings.logRetentionDays).toBe(30);
    expect(config.settings.network).toEqual(PRESETS.prod.network);
    expect(config.intervalSeconds).toBe(30);
    expect(config.api.auth).toBe('api-key');
    expect(config.bedrock).toMatchObject({ explainer: 'bedrock', profile: 'us' });
  });

  it.each([
    [{ clusters: [] }, /copilot\.clusters: .*>=1 items/],
    [
      { clusters: [cluster, cluster] },
      /copilot\.clusters\.1\.name: cluster prod-eu is listed twice/,
    ],
    [
      { clusters: [{ name: 'x', metrics: { ampWorkspaceArn: 'arn:aws:s3:::bucket' } }] },
      /copilot\.clusters\.0\.metrics/,
    ],
    [
      {
        clusters: [
          { name: 'x', metrics: { prometheusUrl: 'http://p:9090', scrapeUrls: ['http://t:9090'] } },
        ],
      },
      /copilot\.clusters\.0\.metrics/,
    ],
    [
      { clusters: [{ ...cluster, engineConfig: { nonsense: 1 } }] },
      /copilot\.clusters\.0\.engineConfig/,
    ],
    [{ clusters: [cluster], preset: 'staging' }, /copilot\.preset/],
    [
      {
        clusters: [cluster],
        bedrock: { profile: 'apac', dispatcherModel: 'anthropic.claude-sonnet-4-5-20250929-v1:0' },
      },
      /copilot\.bedrock\.dispatcherModel: .*no "apac" inference profile/,
    ],
    [
      { clusters: [cluster], bedrock: { researcherModel: 'anthropic.claude-instant-v1' } },
      /copilot\.bedrock\.researcherModel: unknown Bedrock model/,
    ],
    [
      { clusters: [cluster], vpc: { vpcId: 'vpc-1', availabilityZones: [], privateSubnetIds: [] } },
      /copilot\.vpc/,
    ],
    [
      { clusters: [cluster], overrides: { temporal: { databaseMinAcu: 8, databaseMaxAcu: 2 } } },
      /databaseMinAcu 8 exceeds databaseMaxAcu 2/,
    ],
    [{ clusters: [cluster], workerSecrets: { COPILOT_CLUSTERS: 'not-an-arn' } }, /workerSecrets/],
    [{ clusters: [cluster], surprise: true }, /copilot: Unrecognized key/],
  ])('fails on %j', (raw, message) => {
    expect(() => resolveDeploymentConfig(raw)).toThrow(DeploymentConfigError);
    expect(() => resolveDeploymentConfig(raw)).toThrow(message);
  });

  it('reads the copilot object, then copilot:<key> values from the command line (JSON text parsed)', () => {
    const context: Record<string, unknown> = {
      copilot: { preset: 'dev', clusters: [cluster] },
      'copilot:preset': 'prod',
      'copilot:intervalSeconds': '15',
      'copilot:clusters': JSON.stringify([{ ...cluster, name: 'from-cli' }]),
    };
    const raw = readCopilotContext((k) => context[k]);
    expect(raw).toMatchObject({ preset: 'prod', intervalSeconds: 15 });
    expect(resolveDeploymentConfig(raw).clusters[0]?.name).toBe('from-cli');
    expect(() => readCopilotContext((k) => (k === 'copilot' ? '{not json' : undefined))).toThrow(
      /context copilot is not valid JSON/,
    );
    expect(() => readCopilotContext((k) => (k === 'copilot' ? [1] : undefined))).toThrow(
      /must be an object/,
    );
  });

  it("cdk.json's example resolves: the configuration CI synthesises", () => {
    const config = configFromCdkJson();
    expect(config.preset).toBe('dev');
    expect(config.clusters.length).toBeGreaterThan(1);
  });
});

describe('cdk-nag', () => {
  it('fails synth on a finding: the AwsSolutions pack is wired, not decorative', () => {
    const bad = buildTestApp();
    new Bucket(bad.copilot, 'UnloggedBucket');
    const report = new AwsSolutionsChecks(bad.app).validateScope(bad.app);
    expect(report.success).toBe(false);
    expect(report.violations.map((v) => v.ruleName)).toContain('AwsSolutions-S1');
    expect(() => bad.app.synth()).toThrow(/AwsSolutions-S1/);
  });

  it('every acknowledgement in lib/ gives a reason of substance', () => {
    const files = [
      'copilot-api.ts',
      'temporal-server.ts',
      'worker-service.ts',
      'store-schema.ts',
      'bundled-function.ts',
      'bedrock-access.ts',
    ];
    for (const file of files) {
      const text = readFileSync(join(import.meta.dirname, '../../lib', file), 'utf8');
      const acks = text.split('acknowledge(').slice(1);
      expect(acks.length, file).toBeGreaterThan(0);
      for (const ack of acks) {
        // The reason's own words, quotes and concatenation removed.
        const reason = /reason:([\s\S]*?)(?:,\s*\}|\n\s*\})/.exec(ack)?.[1] ?? '';
        const words = reason
          .replace(/['"`+\n]/g, ' ')
          .replace(/\s+/g, ' ')
          .trim();
        expect(words.length, `${file}: ${ack.slice(0, 120)}`).toBeGreaterThan(60);
      }
    }
  });
});

describe('cdk synth', () => {
  it('synthesises the three stacks offline with the real CLI, AwsSolutions clean', async () => {
    const out = outdir();
    const r = await exec('npx', ['cdk', 'synth', '--quiet', '--no-notices', '-o', out], {
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' },
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(r.stderr).not.toMatch(/ERROR/);
    const read = (name: string) =>
      JSON.parse(readFileSync(join(out, `${name}.template.json`), 'utf8')) as {
        Resources: Record<string, { Type: string }>;
      };
    // The CLI adds its AWS::CDK::Metadata resource to each stack.
    const types = (name: string) =>
      Object.values(read(name).Resources)
        .map((x) => x.Type)
        .filter((t) => t !== 'AWS::CDK::Metadata');
    expect(types('TemporalSreCopilotStore')).toEqual(['AWS::DSQL::Cluster']);
    // The runbook knowledge base, created by default, with its ingestion on deploy.
    for (const type of [
      'AWS::Bedrock::KnowledgeBase',
      'AWS::Bedrock::DataSource',
      'AWS::S3Vectors::Index',
      'Custom::RunbookIngestion',
    ])
      expect(types('TemporalSreCopilotKnowledgeBase')).toContain(type);
    const compute = types('TemporalSreCopilot');
    for (const type of [
      'AWS::ECS::Service',
      // dev (cdk.json's preset): Temporal on one RDS instance.
      'AWS::RDS::DBInstance',
      'AWS::ApiGatewayV2::Api',
      'Custom::CopilotStoreSchema',
      'AWS::CloudWatch::Alarm',
    ])
      expect(compute).toContain(type);
    const report = JSON.parse(readFileSync(join(out, 'validation-report.json'), 'utf8')) as {
      pluginReports: {
        pluginName: string;
        conclusion: string;
        violations: unknown[];
        suppressedViolations: { ruleName: string; acknowledgedId: string; reason: string }[];
      }[];
    };
    // Zero unacknowledged findings; every acknowledgement carries its reason into the report.
    expect(report.pluginReports.map((p) => [p.pluginName, p.conclusion, p.violations])).toEqual([
      ['AwsSolutions', 'success', []],
    ]);
    for (const s of report.pluginReports[0]?.suppressedViolations ?? [])
      expect(s.reason.length, s.acknowledgedId).toBeGreaterThan(60);
    // The worker image and both Lambda bundles are assets of the compute stack.
    const assets = JSON.parse(
      readFileSync(join(out, 'TemporalSreCopilot.assets.json'), 'utf8'),
    ) as {
      dockerImages: Record<string, { source: { directory: string; dockerFile?: string } }>;
      files: Record<string, unknown>;
    };
    expect(
      Object.values(assets.dockerImages).map((d) => d.source.dockerFile ?? 'Dockerfile'),
    ).toEqual(['Dockerfile']);
    expect(CDK_CONTEXT.copilot).toBeDefined();
  });
});
