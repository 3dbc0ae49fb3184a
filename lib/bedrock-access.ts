import { Arn, ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import { Grant, type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct, type IConstruct } from 'constructs';

/**
 * A Bedrock Knowledge Base the explainers retrieve runbooks from. The knowledge-base construct
 * (`lib/knowledge-base.ts`) satisfies it; so does {@link knowledgeBaseFromId} for one made
 * elsewhere.
 */
export interface KnowledgeBaseReference {
  readonly knowledgeBaseId: string;
  readonly knowledgeBaseArn: string;
}

/** A knowledge base in this stack's account and region, by id. */
export function knowledgeBaseFromId(scope: IConstruct, id: string): KnowledgeBaseReference {
  return {
    knowledgeBaseId: id,
    knowledgeBaseArn: Stack.of(scope).formatArn({
      service: 'bedrock',
      resource: 'knowledge-base',
      resourceName: id,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    }),
  };
}

/** Which Claude models the explainers may call, and through which inference profile. */
export interface BedrockModelAccess {
  /** Model ids without a profile prefix, e.g. `anthropic.claude-sonnet-4-5-20250929-v1:0`. */
  readonly models: readonly string[];
  /**
   * Cross-region inference profile (`us`, `eu`, `global`…, as `COPILOT_BEDROCK_PROFILE` takes
   * it), or `none` to call the models in this region directly.
   */
  readonly profile: string;
}

/** The ARNs `bedrock:InvokeModel` is granted on. */
export interface BedrockModelArns {
  /** The inference profiles in this account and region (empty without a prefix). */
  readonly inferenceProfiles: string[];
  /** The foundation models in this region (a direct call). */
  readonly regionalModels: string[];
  /**
   * The foundation models in any region, which a cross-region profile routes to; granted only
   * through those profiles (`bedrock:InferenceProfileArn` condition).
   */
  readonly routedModels: string[];
}

export function bedrockModelArns(scope: IConstruct, access: BedrockModelAccess): BedrockModelArns {
  const stack = Stack.of(scope);
  const model = (region: string, id: string) =>
    Arn.format({
      partition: stack.partition,
      service: 'bedrock',
      region,
      account: '',
      resource: 'foundation-model',
      resourceName: id,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  const prefix = access.profile === 'none' ? '' : `${access.profile}.`;
  return {
    inferenceProfiles:
      prefix === ''
        ? []
        : access.models.map((id) =>
            stack.formatArn({
              service: 'bedrock',
              resource: 'inference-profile',
              resourceName: `${prefix}${id}`,
              arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
            }),
          ),
    regionalModels: access.models.map((id) => model(stack.region, id)),
    routedModels: prefix === '' ? [] : access.models.map((id) => model('*', id)),
  };
}

/**
 * `bedrock:InvokeModel` (what Converse needs) on exactly the configured models: their inference
 * profiles, the models in this region, and the models in the regions a profile routes to — the
 * last only when the call goes through one of those profiles.
 */
export function grantBedrockInvoke(
  grantee: IGrantable,
  scope: IConstruct,
  access: BedrockModelAccess,
): Grant {
  if (access.models.length === 0) throw new Error('grantBedrockInvoke needs at least one model');
  const arns = bedrockModelArns(scope, { ...access, models: [...new Set(access.models)] });
  const grant = Grant.addToPrincipal({
    grantee,
    actions: ['bedrock:InvokeModel'],
    resourceArns: [...arns.inferenceProfiles, ...arns.regionalModels],
  });
  if (arns.routedModels.length > 0) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['bedrock:InvokeModel'],
        resources: arns.routedModels,
        conditions: { StringEquals: { 'bedrock:InferenceProfileArn': arns.inferenceProfiles } },
      }),
    );
    if (Construct.isConstruct(grantee.grantPrincipal))
      Validations.of(grantee.grantPrincipal).acknowledge(
        ...[...new Set(access.models)].map((id) => ({
          id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/${id}]`,
          reason:
            `a cross-region inference profile (${access.profile}) routes ${id} to ` +
            'any region of its geography; the region is the only wildcard, and the statement ' +
            'applies only to calls made through the configured profiles (bedrock:InferenceProfileArn)',
        })),
      );
  }
  return grant;
}

/** `bedrock:Retrieve` on one knowledge base. */
export function grantKnowledgeBaseRetrieve(
  grantee: IGrantable,
  knowledgeBase: KnowledgeBaseReference,
): Grant {
  return Grant.addToPrincipal({
    grantee,
    actions: ['bedrock:Retrieve'],
    resourceArns: [knowledgeBase.knowledgeBaseArn],
  });
}
