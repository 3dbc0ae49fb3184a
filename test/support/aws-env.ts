import { vi } from 'vitest';

/** The variables through which the AWS SDK default chain finds credentials. */
const CREDENTIAL_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
] as const;

/**
 * Points every place the AWS SDK default chain looks for credentials at nothing: credential
 * variables unset, config and credentials files nonexistent, the instance metadata service off (so
 * nothing waits for one). Stubs `process.env` through `vi.stubEnv`, since the SDK reads it there;
 * `vi.unstubAllEnvs()` restores it.
 */
export function withoutAwsCredentials(): void {
  for (const name of CREDENTIAL_VARIABLES) vi.stubEnv(name, undefined);
  vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/aws-config');
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/aws-credentials');
  vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
}
