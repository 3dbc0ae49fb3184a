import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpStage,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { ApiEnv } from '../lambda/common/env.js';
import { COPILOT_ROLES } from '../shared/store/roles.js';
import { BundledFunction } from './bundled-function.js';
import type { StateStore } from './state-store.js';

/** How callers authenticate. */
export enum ApiAuthentication {
  /** `x-api-key`, compared by the Lambda with a Secrets Manager secret. */
  API_KEY = 'api-key',
  /** SigV4 (`execute-api`), checked by API Gateway before the Lambda runs. */
  IAM = 'iam',
}

/** The staleness rule the API applies, the same the worker applies. */
export interface StalenessSettings {
  /** @default 3 */
  readonly intervals?: number;
  /** @default 60 */
  readonly minSeconds?: number;
}

export interface CopilotApiProps {
  /** The store the API reads, as `copilot_api`. */
  readonly store: StateStore;
  /** @default ApiAuthentication.API_KEY */
  readonly authentication?: ApiAuthentication;
  /** @default 20 requests per second */
  readonly throttleRateLimit?: number;
  /** @default 40 requests */
  readonly throttleBurstLimit?: number;
  /** @default 3 intervals, at least 60 seconds */
  readonly staleness?: StalenessSettings;
  /** @default RetentionDays.ONE_WEEK */
  readonly logRetention?: RetentionDays;
  /** What deleting the stack does to the logs and the key. @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The JSON API Grafana reads: an HTTP API (payload v2, HTTPS only) whose `$default` route sends
 * every request to one Lambda (`lambda/api.ts`, the handler the local server runs), which logs
 * in to the store as `copilot_api` (read-only) with `dsql:DbConnect` tokens. Authentication is an
 * API key in Secrets Manager, checked by the Lambda, or IAM, checked by API Gateway. The stage
 * is throttled and writes JSON access logs.
 */
export class CopilotApi extends Construct {
  readonly api: HttpApi;
  readonly handler: BundledFunction;
  readonly stage: HttpStage;
  /** The secret holding the key Grafana sends as `x-api-key` (API-key mode). */
  readonly apiKeySecret?: Secret;
  /** The HTTPS base URL (no trailing slash). */
  readonly url: string;
  /** The Lambda's environment: exactly names of `ApiEnvSchema`. */
  readonly environment: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: CopilotApiProps) {
    super(scope, id);
    const auth = props.authentication ?? ApiAuthentication.API_KEY;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    const logRetention = props.logRetention ?? RetentionDays.ONE_WEEK;
    const staleIntervals = props.staleness?.intervals ?? 3;
    const staleMinSeconds = props.staleness?.minSeconds ?? 60;

    if (auth === ApiAuthentication.API_KEY) {
      this.apiKeySecret = new Secret(this, 'ApiKey', {
        description: 'Temporal SRE Copilot: the x-api-key Grafana sends to the JSON API',
        generateSecretString: { passwordLength: 48, excludePunctuation: true },
        removalPolicy,
      });
      Validations.of(this.apiKeySecret).acknowledge({
        id: 'AwsSolutions::AwsSolutions-SMG4',
        reason:
          'rotating the key without updating Grafana would lock the dashboards out, so it is ' +
          'rotated by hand (README: put a new value, then update the Infinity data source); the ' +
          'Lambda rereads it within 5 minutes',
      });
    }

    const environment = {
      COPILOT_DSQL_ENDPOINT: props.store.endpoint,
      COPILOT_DSQL_USER: COPILOT_ROLES.api.name,
      COPILOT_API_AUTH: auth,
      COPILOT_STALE_AFTER_INTERVALS: String(staleIntervals),
      COPILOT_STALE_AFTER_MIN_SECONDS: String(staleMinSeconds),
      ...(this.apiKeySecret === undefined
        ? {}
        : { COPILOT_API_KEY_SECRET_ARN: this.apiKeySecret.secretArn }),
    } satisfies { [K in keyof ApiEnv]?: string };
    this.environment = environment;

    this.handler = new BundledFunction(this, 'Handler', {
      entry: 'lambda/api.ts',
      description: 'Temporal SRE Copilot: JSON API for Grafana (read-only)',
      environment,
      // API Gateway gives up at 30 s; the handler answers 503 after 8 s without the store.
      timeout: Duration.seconds(29),
      logRetention,
      removalPolicy,
    });
    props.store.grantConnect(this.handler.role);
    this.apiKeySecret?.grantRead(this.handler.role);

    const authorizer: IHttpRouteAuthorizer | undefined =
      auth === ApiAuthentication.IAM ? new HttpIamAuthorizer() : undefined;
    this.api = new HttpApi(this, 'Api', {
      description: 'Temporal SRE Copilot: JSON API for Grafana',
      createDefaultStage: false,
      defaultIntegration: new HttpLambdaIntegration('Lambda', this.handler.function),
      ...(authorizer === undefined ? {} : { defaultAuthorizer: authorizer }),
    });
    if (auth === ApiAuthentication.API_KEY)
      Validations.of(this.api).acknowledge({
        id: 'AwsSolutions::AwsSolutions-APIG4',
        reason:
          'authorization is the x-api-key check in the Lambda (constant-time compare with the ' +
          'Secrets Manager key; COPILOT_API_AUTH=none is refused in Lambda); an HTTP API has no ' +
          'API keys of its own, and Grafana outside AWS cannot sign SigV4 without AWS credentials',
      });

    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: logRetention, removalPolicy });
    this.stage = new HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: {
        rateLimit: props.throttleRateLimit ?? 20,
        burstLimit: props.throttleBurstLimit ?? 40,
      },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            method: '$context.httpMethod',
            path: '$context.path',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    this.url = this.api.apiEndpoint;
  }

  /** Lets `grantee` call the API with SigV4 (IAM mode): `execute-api:Invoke` on its routes. */
  grantInvoke(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [this.api.arnForExecuteApi('GET', '/*', '$default')],
    });
  }
}
