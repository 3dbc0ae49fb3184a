import { fromEnv } from '@aws-sdk/credential-provider-env';
import type { AwsCredentialProvider } from '../../shared/aws/sigv4.js';

/**
 * What `@aws-sdk/credential-provider-node` becomes in a Lambda bundle (the esbuild alias in
 * `lib/lambda-bundling.ts`). Lambda hands a function its role's credentials in the environment
 * (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), the first place the default
 * chain looks; the rest of that chain (SSO, INI files, processes, web identity, IMDS and the STS
 * and SSO clients behind them, ~260 KiB minified) can never answer there. Every SDK client and
 * signer the handlers bundle asks for `defaultProvider`, so this one export replaces it for all.
 * Missing variables fail as the chain's first link does: a `CredentialsProviderError` naming them.
 */
export function defaultProvider(_init?: unknown): AwsCredentialProvider {
  return fromEnv();
}
