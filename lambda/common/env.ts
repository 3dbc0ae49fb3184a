import { isIPv4 } from 'node:net';
import * as z from 'zod';
import { ConfigurationError } from '../../shared/errors.js';
import {
  StalenessEnvSchema,
  type StalenessPolicy,
  stalenessOf,
} from '../../shared/models/freshness.js';
import { describeFirstIssue } from '../../shared/zod-issues.js';

// One rule for a key wherever it is checked: the Lambda's environment and the local server.
const API_KEY_MIN_LENGTH = 16;
const ApiKeySchema = z
  .string()
  .min(API_KEY_MIN_LENGTH, `COPILOT_API_KEY must be at least ${API_KEY_MIN_LENGTH} characters`);

/**
 * The API Lambda's environment, parsed once per cold start. Exactly one store variable; the API
 * key comes from `COPILOT_API_KEY` (local) or a Secrets Manager secret (Lambda) unless the
 * gateway authenticates with IAM (`COPILOT_API_AUTH=iam`).
 */
export const ApiEnvSchema = z
  .object({
    ...StalenessEnvSchema.shape,
    COPILOT_DATABASE_URL: z.string().min(1).optional(),
    COPILOT_DSQL_ENDPOINT: z.string().min(1).optional(),
    COPILOT_DSQL_USER: z.string().min(1).optional(),
    AWS_REGION: z.string().min(1).optional(),
    COPILOT_API_AUTH: z.enum(['api-key', 'iam', 'none']).default('api-key'),
    COPILOT_API_KEY: ApiKeySchema.optional(),
    COPILOT_API_KEY_SECRET_ARN: z.string().startsWith('arn:').optional(),
    // The AWS SDK's own per-service endpoint variable, honoured by our signed GetSecretValue: an
    // interface endpoint's DNS name, or a local server speaking Secrets Manager in tests.
    AWS_ENDPOINT_URL_SECRETS_MANAGER: z.url({ protocol: /^https?$/ }).optional(),
  })
  .superRefine((env, ctx) => {
    const stores = [env.COPILOT_DATABASE_URL, env.COPILOT_DSQL_ENDPOINT].filter(
      (v) => v !== undefined,
    );
    if (stores.length !== 1)
      ctx.addIssue({
        code: 'custom',
        message: 'set exactly one of COPILOT_DATABASE_URL and COPILOT_DSQL_ENDPOINT',
      });
    if (
      env.COPILOT_API_AUTH === 'api-key' &&
      env.COPILOT_API_KEY === undefined &&
      env.COPILOT_API_KEY_SECRET_ARN === undefined
    )
      ctx.addIssue({
        code: 'custom',
        message:
          'COPILOT_API_AUTH=api-key needs COPILOT_API_KEY or COPILOT_API_KEY_SECRET_ARN (or set COPILOT_API_AUTH=iam)',
      });
  });
export type ApiEnv = z.infer<typeof ApiEnvSchema>;

/** The environment does not configure the API; names the variable. */
export class ApiConfigError extends ConfigurationError {
  constructor(message: string) {
    super(message);
    this.name = 'ApiConfigError';
  }
}

/** Parses the API's environment; the first problem becomes one {@link ApiConfigError}. */
export function parseApiEnv(env: NodeJS.ProcessEnv): ApiEnv {
  const parsed = ApiEnvSchema.safeParse(env);
  if (!parsed.success)
    throw new ApiConfigError(`invalid API configuration: ${describeFirstIssue(parsed.error)}`);
  return parsed.data;
}

/**
 * The API Lambda's environment: {@link parseApiEnv}, and `COPILOT_API_AUTH=none` refused. Behind
 * API Gateway the API is on the internet, so it needs a key or IAM; only the local server, on
 * loopback, may run open (and it does not read COPILOT_API_AUTH).
 */
export function parseLambdaApiEnv(env: NodeJS.ProcessEnv): ApiEnv {
  const parsed = parseApiEnv(env);
  if (parsed.COPILOT_API_AUTH === 'none')
    throw new ApiConfigError(
      'invalid API configuration: COPILOT_API_AUTH=none is refused in Lambda, where the API is ' +
        'public: use api-key (with COPILOT_API_KEY_SECRET_ARN or COPILOT_API_KEY) or iam',
    );
  return parsed;
}

/**
 * Whether `host` reaches this machine only (127.0.0.0/8, ::1, `localhost`): the one place the
 * local server may run without a key. `0.0.0.0`, `::` and any other name are reachable from
 * elsewhere.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice('::ffff:'.length) : h;
  return isIPv4(v4) && v4.startsWith('127.');
}

/**
 * Checks the local server's authentication before it listens: a key, when there is one, is at
 * least 16 characters (the Lambda's rule); without one every route is open, which only a
 * loopback host allows.
 *
 * @throws ApiConfigError naming COPILOT_API_KEY.
 */
export function checkLocalApiAuth(host: string, apiKey: string | undefined): void {
  if (apiKey !== undefined) {
    const parsed = ApiKeySchema.safeParse(apiKey);
    if (!parsed.success)
      throw new ApiConfigError(
        `${parsed.error.issues[0]?.message ?? 'COPILOT_API_KEY is invalid'} (it has ${apiKey.length})`,
      );
    return;
  }
  if (!isLoopbackHost(host))
    throw new ApiConfigError(
      `set COPILOT_API_KEY (at least ${API_KEY_MIN_LENGTH} characters) to serve the API on ${host}: ` +
        'beyond loopback every caller must send it in x-api-key',
    );
}

/**
 * The staleness rule of a local server (`copilot api`, `copilot dev`) from the environment, the
 * same variables the Lambda reads.
 *
 * @throws ApiConfigError naming the variable.
 */
export function localStaleness(env: NodeJS.ProcessEnv): StalenessPolicy {
  const parsed = StalenessEnvSchema.safeParse(env);
  if (!parsed.success)
    throw new ApiConfigError(`invalid API configuration: ${describeFirstIssue(parsed.error)}`);
  return stalenessOf(parsed.data);
}

/**
 * The local server's key from the environment (`copilot api`, `copilot dev`): COPILOT_API_KEY,
 * blank meaning unset, checked by {@link checkLocalApiAuth} for `host`.
 */
export function localApiKey(
  env: { readonly COPILOT_API_KEY?: string | undefined },
  host: string,
): string | undefined {
  const key = env.COPILOT_API_KEY?.trim() || undefined;
  checkLocalApiAuth(host, key);
  return key;
}
