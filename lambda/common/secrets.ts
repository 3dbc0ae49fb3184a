import { type AwsCredentialProvider, createSigV4Signer } from '../../shared/aws/sigv4.js';
import type { ApiKeyProvider } from './auth.js';

/** Secrets Manager did not return a usable secret string. */
export class SecretFetchError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SecretFetchError';
  }
}

/** Options of {@link secretsManagerApiKey}. */
export interface SecretsManagerKeyOptions {
  readonly secretArn: string;
  /** @default the region in the ARN */
  readonly region?: string;
  /** @default `https://secretsmanager.<region>.amazonaws.com` */
  readonly endpoint?: string;
  /** @default the AWS SDK default credential chain (the Lambda role) */
  readonly credentials?: AwsCredentialProvider;
  /** How long a fetched key is reused, so rotation takes effect without a redeploy. @default 300 000 */
  readonly ttlMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * An {@link ApiKeyProvider} reading `SecretString` of a Secrets Manager secret with one signed
 * `GetSecretValue` call (the JSON 1.1 protocol), signed by the project's SigV4 signer
 * (`shared/aws/sigv4.ts`, the one AMP queries use) instead of `@aws-sdk/client-secrets-manager`. The key is cached for
 * `ttlMs`; a failed fetch is not cached. A secret that is JSON with an `apiKey` field is read
 * from that field; any other string is the key itself.
 */
export function secretsManagerApiKey(options: SecretsManagerKeyOptions): ApiKeyProvider {
  const region = options.region ?? options.secretArn.split(':')[3];
  if (region === undefined || region === '')
    throw new SecretFetchError(`no region in secret ARN ${options.secretArn}`);
  const endpoint = new URL(options.endpoint ?? `https://secretsmanager.${region}.amazonaws.com`);
  const sign = createSigV4Signer(endpoint, {
    service: 'secretsmanager',
    region,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  });
  const ttl = options.ttlMs ?? 300_000;
  const now = options.now ?? Date.now;
  let cached: { key: string; at: number } | null = null;

  async function fetchKey(): Promise<string> {
    const body = JSON.stringify({ SecretId: options.secretArn });
    const headers = await sign({
      method: 'POST',
      url: endpoint,
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'secretsmanager.GetSecretValue',
      },
      body,
    });
    const response = await fetch(endpoint, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(5_000),
    });
    const text = await response.text();
    if (!response.ok)
      throw new SecretFetchError(
        `GetSecretValue ${options.secretArn} failed: HTTP ${response.status}`,
      );
    let secret: unknown;
    try {
      secret = (JSON.parse(text) as { SecretString?: unknown }).SecretString;
    } catch (error) {
      throw new SecretFetchError('GetSecretValue returned invalid JSON', { cause: error });
    }
    if (typeof secret !== 'string' || secret === '')
      throw new SecretFetchError(`secret ${options.secretArn} has no SecretString`);
    try {
      const parsed = JSON.parse(secret) as { apiKey?: unknown };
      if (typeof parsed.apiKey === 'string' && parsed.apiKey !== '') return parsed.apiKey;
    } catch {
      // A plain string secret is the key itself.
    }
    return secret;
  }

  return async () => {
    if (cached !== null && now() - cached.at < ttl) return cached.key;
    const key = await fetchKey();
    cached = { key, at: now() };
    return key;
  };
}
