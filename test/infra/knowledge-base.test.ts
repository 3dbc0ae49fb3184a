import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { corpusHash, corpusObjects, readCorpus } from '../../shared/kb/corpus.js';
import { knowledgeBaseApp } from './kb-app.js';

const exec = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const tmp: string[] = [];
const scratch = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tmp.push(d);
  return d;
};
afterAll(() => {
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});

type Statement = {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
  Condition?: unknown;
};
function statementsOf(t: Template, logicalIdPrefix: string): Statement[] {
  return Object.entries(t.findResources('AWS::IAM::Policy'))
    .filter(([id]) => id.startsWith(logicalIdPrefix))
    .flatMap(([, r]) => r.Properties.PolicyDocument.Statement as Statement[]);
}
const getAtt = (prefix: string, attr: string) => ({
  'Fn::GetAtt': [Match.stringLikeRegexp(`^${prefix}`), attr],
});

const built = knowledgeBaseApp(scratch('copilot-kb-cdk-'));
const t = Template.fromStack(built.stack);
/** The one logical id of a resource type in a template. */
const idOf = (type: string, x: Template = t): string => {
  const ids = Object.keys(x.findResources(type));
  expect(ids, type).toHaveLength(1);
  return ids[0] ?? '';
};
const att = (type: string, attr: string) => ({ 'Fn::GetAtt': [idOf(type), attr] });
const KB = 'AWS::Bedrock::KnowledgeBase';

describe('RunbookKnowledgeBase: vector store and knowledge base', () => {
  it('indexes 1,024-dimension float32 vectors by cosine, with the Bedrock text and metadata non-filterable', () => {
    t.resourceCountIs('AWS::S3Vectors::Index', 1);
    t.hasResourceProperties('AWS::S3Vectors::Index', {
      DataType: 'float32',
      Dimension: 1024,
      DistanceMetric: 'cosine',
      MetadataConfiguration: {
        NonFilterableMetadataKeys: ['AMAZON_BEDROCK_TEXT', 'AMAZON_BEDROCK_METADATA'],
      },
      VectorBucketArn: getAtt('KnowledgeBaseVectorBucket', 'VectorBucketArn'),
    });
    t.hasResourceProperties('AWS::S3Vectors::VectorBucket', {
      EncryptionConfiguration: { SseType: 'AES256' },
    });
  });

  it('embeds with Titan Text Embeddings V2 at 1,024 float32 dimensions and stores in that S3 Vectors index', () => {
    t.hasResourceProperties('AWS::Bedrock::KnowledgeBase', {
      RoleArn: getAtt('KnowledgeBaseServiceRole', 'Arn'),
      KnowledgeBaseConfiguration: {
        Type: 'VECTOR',
        VectorKnowledgeBaseConfiguration: {
          EmbeddingModelArn: {
            'Fn::Join': [
              '',
              Match.arrayWith([':bedrock:', '::foundation-model/amazon.titan-embed-text-v2:0']),
            ],
          },
          EmbeddingModelConfiguration: {
            BedrockEmbeddingModelConfiguration: { Dimensions: 1024, EmbeddingDataType: 'FLOAT32' },
          },
        },
      },
      StorageConfiguration: {
        Type: 'S3_VECTORS',
        S3VectorsConfiguration: { IndexArn: getAtt('KnowledgeBaseIndex', 'IndexArn') },
      },
    });
  });

  it('chunks the S3 data source hierarchically: 1,500-token parents, 300-token children, 60 overlap', () => {
    t.hasResourceProperties('AWS::Bedrock::DataSource', {
      KnowledgeBaseId: att(KB, 'KnowledgeBaseId'),
      DataDeletionPolicy: 'RETAIN',
      DataSourceConfiguration: {
        Type: 'S3',
        S3Configuration: { BucketArn: getAtt('KnowledgeBaseSourceBucket', 'Arn') },
      },
      VectorIngestionConfiguration: {
        ChunkingConfiguration: {
          ChunkingStrategy: 'HIERARCHICAL',
          HierarchicalChunkingConfiguration: {
            LevelConfigurations: [{ MaxTokens: 1500 }, { MaxTokens: 300 }],
            OverlapTokens: 60,
          },
        },
      },
    });
  });

  it('keeps the stateful resources by default, under stable logical ids', () => {
    for (const type of [
      'AWS::Bedrock::KnowledgeBase',
      'AWS::Bedrock::DataSource',
      'AWS::S3Vectors::Index',
      'AWS::S3Vectors::VectorBucket',
    ])
      t.hasResource(type, { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    const ids = (type: string) => Object.keys(t.findResources(type));
    // Renaming a construct would replace these (and re-embed everything): keep the ids.
    expect({
      kb: ids('AWS::Bedrock::KnowledgeBase'),
      dataSource: ids('AWS::Bedrock::DataSource'),
      index: ids('AWS::S3Vectors::Index'),
      vectorBucket: ids('AWS::S3Vectors::VectorBucket'),
    }).toEqual({
      kb: ['KnowledgeBaseB1C941BD'],
      dataSource: ['KnowledgeBaseDataSource867D63C8'],
      index: ['KnowledgeBaseIndex98340A05'],
      vectorBucket: ['KnowledgeBaseVectorBucket47C8914A'],
    });
  });
});

describe('RunbookKnowledgeBase: corpus bucket and upload', () => {
  it('encrypts, versions, blocks public access, logs access and refuses plain HTTP', () => {
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
        ],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: {
        DestinationBucketName: { Ref: Match.stringLikeRegexp('^KnowledgeBaseAccessLogs') },
        LogFilePrefix: 'kb-source/',
      },
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: Match.stringLikeRegexp('^KnowledgeBaseSourceBucket') },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('uploads the corpus (pruning removed runbooks) before ingesting it, with the corpus hash as a property', () => {
    const hash = corpusHash(corpusObjects(readCorpus(join(ROOT, 'docs/rag'))));
    t.hasResourceProperties('Custom::CDKBucketDeployment', {
      DestinationBucketName: { Ref: Match.stringLikeRegexp('^KnowledgeBaseSourceBucket') },
      Prune: true,
    });
    const ingestion = t.findResources('Custom::RunbookIngestion');
    expect(Object.keys(ingestion)).toHaveLength(1);
    const [resource] = Object.values(ingestion);
    expect(resource?.Properties).toMatchObject({
      KnowledgeBaseId: att(KB, 'KnowledgeBaseId'),
      CorpusHash: hash,
    });
    expect(JSON.stringify(resource?.DependsOn)).toMatch(/KnowledgeBaseCorpusCustomResource/);
  });

  it('changes the corpus-hash property, and the uploaded asset, when one runbook changes', () => {
    const dir = scratch('copilot-kb-corpus-copy-');
    cpSync(join(ROOT, 'docs/rag'), dir, { recursive: true });
    const before = Template.fromStack(knowledgeBaseApp(scratch('copilot-kb-cdk-'), dir).stack);
    const file = join(dir, 'persistence-latency.md');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('## Symptoms', '## Symptoms\n\nAlso: check GC.'),
    );
    const after = Template.fromStack(knowledgeBaseApp(scratch('copilot-kb-cdk-'), dir).stack);
    const prop = (x: Template) =>
      Object.values(x.findResources('Custom::RunbookIngestion'))[0]?.Properties.CorpusHash;
    const asset = (x: Template) =>
      JSON.stringify(
        Object.values(x.findResources('Custom::CDKBucketDeployment'))[0]?.Properties
          .SourceObjectKeys,
      );
    expect(prop(after)).not.toBe(prop(before));
    expect(asset(after)).not.toBe(asset(before));
    // Unchanged corpus, unchanged property: no needless ingestion on every deploy.
    expect(prop(Template.fromStack(knowledgeBaseApp(scratch('copilot-kb-cdk-'), dir).stack))).toBe(
      prop(after),
    );
  });

  it('fails synth on a broken runbook, naming it', () => {
    const dir = scratch('copilot-kb-corpus-bad-');
    cpSync(join(ROOT, 'docs/rag'), dir, { recursive: true });
    const file = join(dir, 'retention-storms.md');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('critical.throughput', 'critical.thruput'),
    );
    expect(() => knowledgeBaseApp(scratch('copilot-kb-cdk-'), dir)).toThrow(
      /retention-storms\.md: gates: unknown gate id critical\.thruput/,
    );
  });
});

describe('RunbookKnowledgeBase: least privilege', () => {
  it('lets Bedrock (this account, knowledge bases only) embed with Titan V2, read the corpus and use the index', () => {
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'bedrock.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: { 'aws:SourceArn': Match.objectLike({ 'Fn::Join': Match.anyValue() }) },
            },
          },
        ],
      },
    });
    const statements = statementsOf(t, 'KnowledgeBaseServiceRoleDefaultPolicy');
    expect(statements.map((s) => [s.Action].flat().sort())).toEqual([
      ['bedrock:InvokeModel'],
      ['s3:ListBucket'],
      ['s3:GetObject'],
      [
        's3vectors:DeleteVectors',
        's3vectors:GetIndex',
        's3vectors:GetVectors',
        's3vectors:PutVectors',
        's3vectors:QueryVectors',
      ],
    ]);
    expect(JSON.stringify(statements[0]?.Resource)).toContain(
      'foundation-model/amazon.titan-embed-text-v2:0',
    );
    const source = {
      'Fn::GetAtt': [
        Object.keys(t.findResources('AWS::S3::Bucket')).find((id) =>
          id.startsWith('KnowledgeBaseSourceBucket'),
        ),
        'Arn',
      ],
    };
    expect(statements[1]?.Resource).toEqual(source);
    expect(statements[2]?.Resource).toEqual({
      'Fn::Join': ['', [source, '/*']],
    });
    expect(statements[3]?.Resource).toEqual(att('AWS::S3Vectors::Index', 'IndexArn'));
    expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
  });

  it('lets each ingestion function write its own logs and start, read and list jobs of this knowledge base, nothing else', () => {
    for (const fn of ['IngestionOnEvent', 'IngestionIsComplete', 'ConsoleIngestion']) {
      const statements = statementsOf(t, `KnowledgeBase${fn}RoleDefaultPolicy`);
      expect(statements, fn).toEqual([
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [expect.stringMatching(`^KnowledgeBase${fn}Logs`), 'Arn'] },
        },
        {
          Effect: 'Allow',
          Action: [
            'bedrock:GetIngestionJob',
            'bedrock:ListIngestionJobs',
            'bedrock:StartIngestionJob',
          ],
          Resource: att(KB, 'KnowledgeBaseArn'),
        },
      ]);
    }
    // No managed policy on them (the basic execution role's logs:* on every log group).
    for (const [id, role] of Object.entries(t.findResources('AWS::IAM::Role')))
      if (/^KnowledgeBase(IngestionOnEvent|IngestionIsComplete|ConsoleIngestion)Role/.test(id))
        expect(role.Properties.ManagedPolicyArns, id).toBeUndefined();
  });

  it('passes the console function the ids it reads, and the deploy wait budget to the handlers', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs22.x',
      Environment: {
        Variables: Match.objectLike({
          COPILOT_KB_ID: att(KB, 'KnowledgeBaseId'),
          COPILOT_KB_DATA_SOURCE_ID: getAtt('KnowledgeBaseDataSource', 'DataSourceId'),
        }),
      },
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.isComplete',
      Environment: { Variables: Match.objectLike({ KB_INGESTION_MAX_WAIT_SECONDS: '1800' }) },
    });
  });

  it('grantRetrieve allows bedrock:Retrieve on this knowledge base, and nothing else', () => {
    const { stack, kb } = knowledgeBaseApp(scratch('copilot-kb-cdk-'));
    const worker = new Role(stack, 'Worker', {
      assumedBy: new ServicePrincipal('ecs-tasks.amazonaws.com'),
    });
    kb.grantRetrieve(worker);
    const statements = statementsOf(Template.fromStack(stack), 'WorkerDefaultPolicy');
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 'bedrock:Retrieve',
        Resource: att(KB, 'KnowledgeBaseArn'),
      },
    ]);
  });

  it('outputs the ids copilot kb --stack reads', () => {
    t.hasOutput('CopilotKnowledgeBaseId', { Value: att(KB, 'KnowledgeBaseId') });
    t.hasOutput('CopilotKbDataSourceId', {
      Value: getAtt('KnowledgeBaseDataSource', 'DataSourceId'),
    });
    t.hasOutput('CopilotKbSourceBucket', {
      Value: { Ref: Match.stringLikeRegexp('^KnowledgeBaseSourceBucket') },
    });
    t.hasOutput('CopilotKbConsoleFunction', {
      Value: { Ref: Match.stringLikeRegexp('^KnowledgeBaseConsoleIngestion') },
    });
  });
});

describe('cdk-nag and cdk synth', () => {
  it('synthesises with the AwsSolutions pack: every finding fixed or acknowledged with a reason', () => {
    const { app } = knowledgeBaseApp(scratch('copilot-kb-cdk-'));
    expect(() => app.synth()).not.toThrow();
  });

  it('fails synth on a finding nobody acknowledged: the pack is wired, not decorative', () => {
    const { app, stack } = knowledgeBaseApp(scratch('copilot-kb-cdk-'));
    new Bucket(Stack.of(stack), 'UnloggedBucket');
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
  });

  it('runs `cdk synth` offline with the real CLI, nag included', async () => {
    const out = scratch('copilot-kb-synth-');
    const r = await exec(
      'npx',
      [
        'cdk',
        'synth',
        '--app',
        'npx tsx test/infra/kb-app.ts',
        '--quiet',
        '--no-notices',
        '-o',
        out,
      ],
      { cwd: ROOT, env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' } },
    );
    expect(r.stderr).not.toMatch(/ERROR/);
    const template = JSON.parse(
      readFileSync(join(out, 'CopilotKnowledgeBaseTest.template.json'), 'utf8'),
    ) as {
      Resources: Record<string, { Type: string }>;
    };
    const types = Object.values(template.Resources).map((x) => x.Type);
    expect(types).toEqual(
      expect.arrayContaining([
        'AWS::Bedrock::KnowledgeBase',
        'AWS::S3Vectors::Index',
        'Custom::RunbookIngestion',
      ]),
    );
  });
});
