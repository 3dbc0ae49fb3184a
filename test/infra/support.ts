import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { type BuildAppOptions, buildApp, type CopilotApp } from '../../lib/app.js';
import {
  type DeploymentConfig,
  readCopilotContext,
  resolveDeploymentConfig,
} from '../../lib/config.js';

/** `cdk.json`'s context: the feature flags and the `copilot` configuration `cdk synth` uses. */
export const CDK_CONTEXT = (
  JSON.parse(readFileSync(join(import.meta.dirname, '../../cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

const dirs: string[] = [];

/** A fresh output directory, removed by {@link removeOutdirs}. */
export function outdir(): string {
  const d = mkdtempSync(join(tmpdir(), 'copilot-cdk-'));
  dirs.push(d);
  return d;
}

export function removeOutdirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** The configuration `cdk synth` resolves from cdk.json, with `overrides` laid over the object. */
export function configFromCdkJson(overrides: Record<string, unknown> = {}): DeploymentConfig {
  const raw = readCopilotContext((key) => CDK_CONTEXT[key]);
  return resolveDeploymentConfig({ ...raw, ...overrides });
}

/** The app as `cdk synth` builds it: cdk.json's feature flags, then buildApp. */
export function buildTestApp(
  config: DeploymentConfig = configFromCdkJson(),
  options: BuildAppOptions = {},
): CopilotApp {
  return buildApp(new App({ outdir: outdir(), context: CDK_CONTEXT }), config, options);
}

export interface Statement {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
  Condition?: unknown;
}

/** Every IAM statement of a template's policies (and of its roles' inline policies), flattened. */
export function statements(t: Template): Statement[] {
  const fromPolicies = Object.values(t.findResources('AWS::IAM::Policy')).flatMap(
    (r) => (r.Properties.PolicyDocument.Statement as Statement[]) ?? [],
  );
  const fromRoles = Object.values(t.findResources('AWS::IAM::Role')).flatMap((r) =>
    ((r.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[]) ?? []).flatMap(
      (p) => p.PolicyDocument.Statement,
    ),
  );
  return [...fromPolicies, ...fromRoles];
}

/** The statements of the policies attached to the role with this logical id. */
export function roleStatements(t: Template, roleLogicalId: string): Statement[] {
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as { Ref?: string }[]).some((r) => r.Ref === roleLogicalId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

export const actionsOf = (s: Statement): string[] => [s.Action].flat();

/** Values a deployed stack would put where the template has intrinsic functions. */
const DEPLOYED = {
  region: 'eu-west-1',
  account: '123456789012',
  dsqlEndpoint: 'abcdefghijklmnopqrstuvwxyz.dsql.eu-west-1.on.aws',
  dsqlArn: 'arn:aws:dsql:eu-west-1:123456789012:cluster/abcdefghijklmnopqrstuvwxyz',
  secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ApiKey-AbCdEf',
  knowledgeBaseId: 'KBDEPLOYED',
};

/**
 * A template value as it would be once deployed: pseudo parameters, imports of the store's
 * endpoint and ARN and of the knowledge base's id, and references to secrets become plausible literals; anything else is
 * refused, so a test notices an intrinsic it did not expect.
 */
export function materialise(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) throw new Error(`unexpected ${String(value)}`);
  const v = value as Record<string, unknown>;
  if (v.Ref === 'AWS::Region') return DEPLOYED.region;
  if (v.Ref === 'AWS::AccountId') return DEPLOYED.account;
  if (v.Ref === 'AWS::Partition') return 'aws';
  if (typeof v.Ref === 'string' && /Secret|ApiKey/.test(v.Ref)) return DEPLOYED.secretArn;
  const imported = v['Fn::ImportValue'];
  if (typeof imported === 'string') {
    if (/Endpoint/.test(imported)) return DEPLOYED.dsqlEndpoint;
    if (/ResourceArn/.test(imported)) return DEPLOYED.dsqlArn;
    if (/KnowledgeBaseId/.test(imported)) return DEPLOYED.knowledgeBaseId;
  }
  const att = v['Fn::GetAtt'] as [string, string] | undefined;
  if (att !== undefined) return `<${att[0]}.${att[1]}>`;
  const join = v['Fn::Join'] as [string, unknown[]] | undefined;
  if (join !== undefined) return join[1].map(materialise).join(join[0]);
  throw new Error(`cannot materialise ${JSON.stringify(value)}`);
}

/** A container's environment (name → deployed value) and secret names, by container name. */
export function containerOf(
  t: Template,
  name: string,
): { environment: Record<string, string>; secrets: string[]; definition: Record<string, unknown> } {
  for (const task of Object.values(t.findResources('AWS::ECS::TaskDefinition'))) {
    const defs = task.Properties.ContainerDefinitions as Record<string, unknown>[];
    const def = defs.find((d) => d.Name === name);
    if (def === undefined) continue;
    const env = (def.Environment as { Name: string; Value: unknown }[] | undefined) ?? [];
    return {
      environment: Object.fromEntries(env.map((e) => [e.Name, materialise(e.Value)])),
      secrets: ((def.Secrets as { Name: string }[] | undefined) ?? []).map((s) => s.Name),
      definition: def,
    };
  }
  throw new Error(`no container ${name}`);
}
