import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Effect, type IRole, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LAMBDA_ESBUILD_ARGS } from './lambda-bundling.js';

/** The repository root (this file is `lib/bundled-function.ts`). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The Lambda runtime of every copilot function. */
export const LAMBDA_RUNTIME = Runtime.NODEJS_22_X;

/**
 * esbuild must be installed (it is a dev dependency): without it NodejsFunction would quietly
 * build a Docker image to bundle in, and synth would need a Docker engine.
 */
function requireLocalEsbuild(): void {
  try {
    createRequire(import.meta.url).resolve('esbuild');
  } catch {
    throw new Error(
      'esbuild is not installed: run npm ci (the Lambda bundles are built with the local ' +
        'esbuild; Docker bundling is not used)',
    );
  }
}

export interface BundledFunctionProps {
  /** The handler file, relative to the repository root (e.g. `lambda/api.ts`). */
  readonly entry: string;
  /** The export of `entry` Lambda invokes. @default 'handler' */
  readonly handler?: string;
  readonly description: string;
  /** Exactly the variables the handler's environment schema reads. */
  readonly environment?: Record<string, string>;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default RetentionDays.ONE_WEEK */
  readonly logRetention?: RetentionDays;
  /** @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A Lambda function bundled from this repository's TypeScript with the local esbuild (ESM,
 * arm64, Node 22), with its own log group and its own role that may write to that log group and
 * nothing else until granted more (no managed policy).
 */
export class BundledFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: IRole;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: BundledFunctionProps) {
    super(scope, id);
    requireLocalEsbuild();
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_WEEK,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description}: writes its own logs, and what it is granted`,
    });
    role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.role = role;
    this.function = new NodejsFunction(this, 'Function', {
      entry: join(REPO_ROOT, props.entry),
      handler: props.handler ?? 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: LAMBDA_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      role,
      logGroup: this.logGroup,
      environment: props.environment ?? {},
      awsSdkConnectionReuse: false,
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        platform: 'node',
        mainFields: ['module', 'main'],
        // ESM has no `require`; some dependencies still call it.
        banner:
          "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
        minify: true,
        sourceMap: false,
        // Everything bundled, the AWS SDK included: the runtime's copy may lack a package we use
        // (@aws-sdk/dsql-signer) or differ in version.
        externalModules: [],
        // The credential chain for the environment's credentials only (lib/lambda-bundling.ts).
        esbuildArgs: { ...LAMBDA_ESBUILD_ARGS },
        forceDockerBundling: false,
      },
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions::AwsSolutions-L1',
      reason:
        'nodejs22.x is the runtime the deployment issue fixes and the code is built and tested ' +
        'for (Node 20 and 22 features only); moving to 24 is a one-line change once tested',
    });
  }
}
