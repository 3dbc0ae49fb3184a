import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Aws,
  CfnOutput,
  CustomResource,
  Duration,
  Names,
  RemovalPolicy,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import { CfnDataSource, CfnKnowledgeBase } from 'aws-cdk-lib/aws-bedrock';
import {
  Grant,
  type IGrantable,
  PolicyStatement,
  Role,
  ServicePrincipal,
} from 'aws-cdk-lib/aws-iam';
import type { CfnFunction, IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  type IBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { CfnIndex, CfnVectorBucket } from 'aws-cdk-lib/aws-s3vectors';
import { LogLevel } from 'aws-cdk-lib/aws-stepfunctions';
import { Provider } from 'aws-cdk-lib/custom-resources';
import { Construct, type IConstruct } from 'constructs';
import { CHUNKING, corpusHash, corpusObjects, readCorpus } from '../shared/kb/corpus.js';
import { BundledFunction } from './bundled-function.js';

const ROOT = join(import.meta.dirname, '..');

/** Titan Text Embeddings V2 at 1,024 float32 dimensions: the index must match it exactly. */
export const EMBEDDING_MODEL_ID = 'amazon.titan-embed-text-v2:0';
export const EMBEDDING_DIMENSIONS = 1024;
/**
 * Bedrock writes each chunk's text and its own metadata under these keys. S3 Vectors allows only
 * 2 KB of filterable metadata per vector, so both must be non-filterable or ingestion fails on
 * large chunks (a hierarchical parent chunk is several KB).
 */
export const NON_FILTERABLE_KEYS = ['AMAZON_BEDROCK_TEXT', 'AMAZON_BEDROCK_METADATA'] as const;

/** Acknowledges cdk-nag findings on `scope`, each with its reason. */
function acknowledge(scope: IConstruct, findings: Record<string, string>): void {
  for (const [id, reason] of Object.entries(findings))
    Validations.of(scope).acknowledge({ id: `AwsSolutions::${id}`, reason });
}

export interface RunbookKnowledgeBaseProps {
  /**
   * The runbook corpus: a directory of markdown files with front matter (checked at synth).
   * @default the repository's `docs/rag`
   */
  readonly corpusDir?: string;
  /**
   * What happens to the knowledge base, its data source (and vectors), the vector bucket and
   * index when the stack is deleted. The corpus bucket and its access logs are always kept.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * How long the ingestion functions' and the Provider's logs are kept.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * Where the corpus bucket's server access logs go.
   * @default - a new encrypted, TLS-only bucket in this construct
   */
  readonly accessLogsBucket?: IBucket;
  /**
   * How long a deploy waits for the ingestion job before it fails (the job itself goes on).
   * @default Duration.minutes(30)
   */
  readonly ingestionTimeout?: Duration;
  /**
   * Add the stack outputs `copilot kb --stack` reads (CopilotKnowledgeBaseId,
   * CopilotKbDataSourceId, CopilotKbSourceBucket, CopilotKbConsoleFunction). One construct per
   * stack can have them.
   * @default true
   */
  readonly outputs?: boolean;
}

/**
 * The runbook knowledge base: the corpus bucket (filled from `docs/rag` on deploy, a metadata
 * sidecar per runbook), an S3 Vectors bucket and index, a Bedrock Knowledge Base with Titan Text
 * Embeddings V2 and its S3 data source (hierarchical chunking, docs/knowledge-base.md), ingestion
 * as a custom resource on every corpus change, and a Lambda for ad hoc ingestion from the console.
 */
export class RunbookKnowledgeBase extends Construct {
  readonly knowledgeBaseId: string;
  readonly knowledgeBaseArn: string;
  readonly dataSourceId: string;
  readonly sourceBucket: IBucket;
  readonly vectorBucketArn: string;
  readonly indexArn: string;
  /** Invoke from the Lambda console: `{}`, `{"jobId": "…"}`, `{"wait": true}`. */
  readonly consoleFunction: IFunction;
  /** SHA-256 of the corpus objects, the ingestion resource's property. */
  readonly corpusHash: string;
  /** The Bedrock service role of the knowledge base. */
  readonly serviceRole: Role;

  constructor(scope: Construct, id: string, props: RunbookKnowledgeBaseProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const removal = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
    const corpusDir = props.corpusDir ?? join(ROOT, 'docs/rag');

    // The corpus is read and checked at synth: a broken runbook fails `cdk synth`, not a deploy.
    const objects = corpusObjects(readCorpus(corpusDir));
    this.corpusHash = corpusHash(objects);
    const staged = mkdtempSync(join(tmpdir(), 'copilot-kb-corpus-'));
    for (const o of objects) writeFileSync(join(staged, o.key), o.body);

    const logs =
      props.accessLogsBucket ??
      new Bucket(this, 'AccessLogs', {
        encryption: BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
        versioned: true,
        lifecycleRules: [
          { expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) },
        ],
        removalPolicy: RemovalPolicy.RETAIN,
      });
    if (props.accessLogsBucket === undefined)
      Validations.of(logs).acknowledge({
        id: 'AwsSolutions::AwsSolutions-S1',
        reason:
          'this is the access-log bucket of the corpus bucket; logging it into itself would loop',
      });

    const source = new Bucket(this, 'SourceBucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 'kb-source/',
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.sourceBucket = source;

    const upload = new BucketDeployment(this, 'Corpus', {
      sources: [Source.asset(staged)],
      destinationBucket: source,
      // A runbook removed from docs/rag is removed from the bucket, so the next job deletes it.
      prune: true,
      memoryLimit: 256,
      // Its handler's logs kept as long as the others (CDK's own default is two years).
      logGroup: new LogGroup(this, 'CorpusDeployLogs', {
        retention: logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });

    // The deployment's handler is CDK's singleton at stack scope (shared by deployments of the
    // same memory size); its findings are acknowledged there, each for what it is.
    const sourceId = stack.getLogicalId(source.node.defaultChild as CfnBucket);
    const deployer = upload.handlerRole.node.scope;
    if (deployer !== undefined)
      acknowledge(deployer, {
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
          'CDK BucketDeployment handler: the managed basic execution role only writes its own logs',
        'AwsSolutions-IAM5[Action::s3:GetBucket*]':
          'CDK BucketDeployment grants: read the staged corpus asset and the corpus bucket only',
        'AwsSolutions-IAM5[Action::s3:GetObject*]':
          'CDK BucketDeployment grants: read the staged corpus asset and the corpus bucket only',
        'AwsSolutions-IAM5[Action::s3:List*]':
          'CDK BucketDeployment grants: list the asset and corpus buckets to sync and prune',
        'AwsSolutions-IAM5[Action::s3:Abort*]':
          'CDK BucketDeployment grants: abort its own multipart uploads into the corpus bucket',
        'AwsSolutions-IAM5[Action::s3:DeleteObject*]':
          'CDK BucketDeployment grants: prune runbooks removed from docs/rag from the corpus bucket',
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]':
          'CDK BucketDeployment reads the staged corpus zip from the bootstrap asset bucket',
        [`AwsSolutions-IAM5[Resource::<${sourceId}.Arn>/*]`]:
          'CDK BucketDeployment writes and prunes runbook objects in the corpus bucket only',
        'AwsSolutions-L1':
          'the runtime of the CDK BucketDeployment handler is chosen by aws-cdk-lib, not by us',
      });

    const vectorBucket = new CfnVectorBucket(this, 'VectorBucket', {
      encryptionConfiguration: { sseType: 'AES256' },
    });
    vectorBucket.applyRemovalPolicy(removal);
    const index = new CfnIndex(this, 'Index', {
      vectorBucketArn: vectorBucket.attrVectorBucketArn,
      dataType: 'float32',
      dimension: EMBEDDING_DIMENSIONS,
      distanceMetric: 'cosine',
      metadataConfiguration: { nonFilterableMetadataKeys: [...NON_FILTERABLE_KEYS] },
    });
    index.applyRemovalPolicy(removal);
    this.vectorBucketArn = vectorBucket.attrVectorBucketArn;
    this.indexArn = index.attrIndexArn;

    const modelArn = stack.formatArn({
      service: 'bedrock',
      account: '',
      resource: 'foundation-model',
      resourceName: EMBEDDING_MODEL_ID,
    });
    const role = new Role(this, 'ServiceRole', {
      description: 'Bedrock Knowledge Base service role: read the corpus, embed, write vectors',
      assumedBy: new ServicePrincipal('bedrock.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'bedrock',
              resource: 'knowledge-base',
              resourceName: '*',
            }),
          },
        },
      }),
    });
    this.serviceRole = role;
    role.addToPolicy(
      new PolicyStatement({
        sid: 'EmbedWithTitanV2',
        actions: ['bedrock:InvokeModel'],
        resources: [modelArn],
      }),
    );
    role.addToPolicy(
      new PolicyStatement({
        sid: 'ListCorpus',
        actions: ['s3:ListBucket'],
        resources: [source.bucketArn],
        conditions: { StringEquals: { 'aws:ResourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    role.addToPolicy(
      new PolicyStatement({
        sid: 'ReadCorpus',
        actions: ['s3:GetObject'],
        resources: [source.arnForObjects('*')],
        conditions: { StringEquals: { 'aws:ResourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    role.addToPolicy(
      new PolicyStatement({
        sid: 'ReadWriteVectors',
        actions: [
          's3vectors:GetIndex',
          's3vectors:PutVectors',
          's3vectors:GetVectors',
          's3vectors:DeleteVectors',
          's3vectors:QueryVectors',
        ],
        resources: [index.attrIndexArn],
      }),
    );
    Validations.of(role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${sourceId}.Arn>/*]`,
      reason: 'Bedrock reads every runbook object of the corpus bucket, and only that bucket',
    });

    const kb = new CfnKnowledgeBase(this, 'Resource', {
      name: Names.uniqueResourceName(this, { maxLength: 100, separator: '-' }),
      description: 'Temporal SRE Copilot runbooks (docs/rag)',
      roleArn: role.roleArn,
      knowledgeBaseConfiguration: {
        type: 'VECTOR',
        vectorKnowledgeBaseConfiguration: {
          embeddingModelArn: modelArn,
          embeddingModelConfiguration: {
            bedrockEmbeddingModelConfiguration: {
              dimensions: EMBEDDING_DIMENSIONS,
              embeddingDataType: 'FLOAT32',
            },
          },
        },
      },
      storageConfiguration: {
        type: 'S3_VECTORS',
        s3VectorsConfiguration: { indexArn: index.attrIndexArn },
      },
    });
    kb.applyRemovalPolicy(removal);
    // Bedrock checks the role can reach the index and model when the knowledge base is created.
    kb.node.addDependency(role);
    this.knowledgeBaseId = kb.attrKnowledgeBaseId;
    this.knowledgeBaseArn = kb.attrKnowledgeBaseArn;

    const dataSource = new CfnDataSource(this, 'DataSource', {
      knowledgeBaseId: kb.attrKnowledgeBaseId,
      name: 'runbooks',
      description: 'docs/rag runbooks and their .metadata.json sidecars',
      dataSourceConfiguration: { type: 'S3', s3Configuration: { bucketArn: source.bucketArn } },
      dataDeletionPolicy: removal === RemovalPolicy.RETAIN ? 'RETAIN' : 'DELETE',
      vectorIngestionConfiguration: {
        chunkingConfiguration: {
          chunkingStrategy: CHUNKING.strategy,
          hierarchicalChunkingConfiguration: {
            levelConfigurations: [
              { maxTokens: CHUNKING.parentMaxTokens },
              { maxTokens: CHUNKING.childMaxTokens },
            ],
            overlapTokens: CHUNKING.overlapTokens,
          },
        },
      },
    });
    dataSource.applyRemovalPolicy(removal);
    this.dataSourceId = dataSource.attrDataSourceId;

    const ingestionActions = [
      'bedrock:StartIngestionJob',
      'bedrock:GetIngestionJob',
      'bedrock:ListIngestionJobs',
    ];
    const fn = (
      fnId: string,
      entry: string,
      handler: string,
      description: string,
      timeout: Duration,
      environment: Record<string, string>,
    ) => {
      // The copilot's own bundling, runtime and role: a role that writes only its log group,
      // no managed policy (lib/bundled-function.ts), plus the ingestion calls on this KB.
      const f = new BundledFunction(this, fnId, {
        entry: `lambda/${entry}`,
        handler,
        description: `Runbook knowledge base: ${description}`,
        memorySize: 256,
        timeout,
        environment,
        logRetention,
      });
      f.function.addToRolePolicy(
        new PolicyStatement({ actions: ingestionActions, resources: [kb.attrKnowledgeBaseArn] }),
      );
      return f.function;
    };

    const timeout = props.ingestionTimeout ?? Duration.minutes(30);
    const onEvent = fn(
      'IngestionOnEvent',
      'kb-ingestion.ts',
      'onEvent',
      'starts an ingestion job when the corpus changed (deploy)',
      Duration.minutes(1),
      {
        KB_INGESTION_MAX_WAIT_SECONDS: String(timeout.toSeconds()),
      },
    );
    const isComplete = fn(
      'IngestionIsComplete',
      'kb-ingestion.ts',
      'isComplete',
      'reports whether the ingestion job of a deploy has finished',
      Duration.minutes(1),
      {
        KB_INGESTION_MAX_WAIT_SECONDS: String(timeout.toSeconds()),
      },
    );
    const provider = new Provider(this, 'IngestionProvider', {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      queryInterval: Duration.seconds(30),
      // A little longer than the handler's own budget, so its message (with the job id) wins.
      totalTimeout: timeout.plus(Duration.minutes(5)),
      logGroup: new LogGroup(this, 'IngestionProviderLogs', {
        retention: logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: {
        destination: new LogGroup(this, 'IngestionWaiterLogs', {
          retention: logRetention,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
        level: LogLevel.ALL,
        includeExecutionData: false,
      },
    });
    const arnOf = (c: Construct | undefined) =>
      c === undefined ? '' : stack.getLogicalId(c.node.defaultChild as CfnFunction);
    const frameworkFn = (name: string) => provider.node.tryFindChild(name) as Construct | undefined;
    acknowledge(provider, {
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
        'CDK Provider framework functions: the managed basic execution role only writes their logs',
      [`AwsSolutions-IAM5[Resource::<${arnOf(onEvent)}.Arn>:*]`]:
        'the Provider framework invokes any version of our onEvent function, and only it',
      [`AwsSolutions-IAM5[Resource::<${arnOf(isComplete)}.Arn>:*]`]:
        'the Provider framework invokes any version of our isComplete function, and only it',
      [`AwsSolutions-IAM5[Resource::<${arnOf(frameworkFn('framework-isComplete'))}.Arn>:*]`]:
        'the waiter state machine invokes any version of the framework isComplete function, and only it',
      [`AwsSolutions-IAM5[Resource::<${arnOf(frameworkFn('framework-onTimeout'))}.Arn>:*]`]:
        'the waiter state machine invokes any version of the framework onTimeout function, and only it',
      'AwsSolutions-IAM5[Resource::*]':
        'Step Functions log delivery (logs:CreateLogDelivery and friends) has no resource-level permissions',
      'AwsSolutions-SF2':
        'the Provider framework waiter state machine exposes no tracing option; it only polls isComplete',
    });
    const ingestion = new CustomResource(this, 'Ingestion', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::RunbookIngestion',
      properties: {
        KnowledgeBaseId: kb.attrKnowledgeBaseId,
        DataSourceId: dataSource.attrDataSourceId,
        CorpusHash: this.corpusHash,
      },
    });
    // Ingest only once the corpus is in the bucket.
    ingestion.node.addDependency(upload);

    this.consoleFunction = fn(
      'ConsoleIngestion',
      'kb-console.ts',
      'handler',
      'starts or reports an ingestion job (Lambda console test events)',
      Duration.minutes(5),
      {
        COPILOT_KB_ID: kb.attrKnowledgeBaseId,
        COPILOT_KB_DATA_SOURCE_ID: dataSource.attrDataSourceId,
      },
    );

    if (props.outputs ?? true) {
      const out = (key: string, value: string, description: string) =>
        new CfnOutput(this, key, { value, description }).overrideLogicalId(key);
      out(
        'CopilotKnowledgeBaseId',
        kb.attrKnowledgeBaseId,
        'COPILOT_KB_ID: the runbook knowledge base',
      );
      out(
        'CopilotKbDataSourceId',
        dataSource.attrDataSourceId,
        'the knowledge base S3 data source',
      );
      out(
        'CopilotKbSourceBucket',
        source.bucketName,
        'the runbook corpus bucket (copilot kb sync)',
      );
      out(
        'CopilotKbConsoleFunction',
        this.consoleFunction.functionName,
        'ad hoc ingestion from the Lambda console',
      );
    }
  }

  /** Lets `grantee` query the runbooks (`bedrock:Retrieve`) of this knowledge base only. */
  grantRetrieve(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ['bedrock:Retrieve'],
      resourceArns: [this.knowledgeBaseArn],
    });
  }

  /** Lets `grantee` start, read and list ingestion jobs of this knowledge base (`copilot kb`). */
  grantIngestion(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: [
        'bedrock:StartIngestionJob',
        'bedrock:GetIngestionJob',
        'bedrock:ListIngestionJobs',
      ],
      resourceArns: [this.knowledgeBaseArn],
    });
  }
}
