import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { ApiKeyProvider } from './auth.js';

/** Secrets Manager did not return a usable secret string. */
export class SecretFetchError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SecretFetchError';
  }
}

/** Credentials as the AWS SDK providers return them. */
export type CredentialProvider = () => Promise<{
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}>;

/** Options of {@link secretsManagerApiKey}. */
export interface SecretsManagerKeyOptions {
  readonly secretArn: string;
  /** @default the region in the ARN */
  readonly region?: string;
  /** @default `https://secretsmanager.<region>.amazonaws.com` */
  readonly endpoint?: string;
  /** @default the AWS SDK default credential chain (the Lambda role) */
  readonly credentials?: CredentialProvider;
  /** How long a fetched key is reused, so rotation takes effect without a redeploy. @default 300 000 */
  readonly ttlMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * An {@link ApiKeyProvider} reading `SecretString` of a Secrets Manager secret with one signed
 * `GetSecretValue` call (the JSON 1.1 protocol), using the SigV4 signer and credential chain the
 * project already ships instead of `@aws-sdk/client-secrets-manager`. The key is cached for
 * `ttlMs`; a failed fetch is not cached. A secret that is JSON with an `apiKey` field is read
 * from that field; any other string is the key itself.
 */
export function secretsManagerApiKey(options: SecretsManagerKeyOptions): ApiKeyProvider {
  const region = options.region ?? options.secretArn.split(':')[3];
  if (region === undefined || region === '')
    throw new SecretFetchError(`no region in secret ARN ${options.secretArn}`);
  const endpoint = new URL(options.endpoint ?? `https://secretsmanager.${region}.amazonaws.com`);
  const signer = new SignatureV4({
    service: 'secretsmanager',
    region,
    credentials: options.credentials ?? defaultProvider(),
    sha256: Sha256,
  });
  const ttl = options.ttlMs ?? 300_000;
  const now = options.now ?? Date.now;
  let cached: { key: string; at: number } | null = null;

  async function fetchKey(): Promise<string> {
    const body = JSON.stringify({ SecretId: options.secretArn });
    const request = new HttpRequest({
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port === '' ? {} : { port: Number(endpoint.port) }),
      path: endpoint.pathname,
      headers: {
        host: endpoint.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'secretsmanager.GetSecretValue',
      },
      body,
    });
    const signed = await signer.sign(request);
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: signed.headers as Record<string, string>,
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
