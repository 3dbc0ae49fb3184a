import { z } from 'zod';
import { ConfigurationError } from '../../shared/errors.js';
import { describeFirstIssue } from '../../shared/zod-issues.js';

/**
 * The API Lambda's environment, parsed once per cold start. Exactly one store variable; the API
 * key comes from `COPILOT_API_KEY` (local) or a Secrets Manager secret (Lambda) unless the
 * gateway authenticates with IAM (`COPILOT_API_AUTH=iam`).
 */
export const ApiEnvSchema = z
  .object({
    COPILOT_DATABASE_URL: z.string().min(1).optional(),
    COPILOT_DSQL_ENDPOINT: z.string().min(1).optional(),
    COPILOT_DSQL_USER: z.string().min(1).optional(),
    AWS_REGION: z.string().min(1).optional(),
    COPILOT_API_AUTH: z.enum(['api-key', 'iam', 'none']).default('api-key'),
    COPILOT_API_KEY: z
      .string()
      .min(16, 'COPILOT_API_KEY must be at least 16 characters')
      .optional(),
    COPILOT_API_KEY_SECRET_ARN: z.string().startsWith('arn:').optional(),
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
