import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { ConfigurationError } from '../errors.js';

/** Credentials as the AWS SDK providers return them. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}
export type AwsCredentialProvider = () => Promise<AwsCredentials>;

export interface SigV4Options {
  /** AWS region of the workspace; default from the URL host, then `AWS_REGION`. */
  readonly region?: string;
  /** Signing service; `aps` for Amazon Managed Service for Prometheus. */
  readonly service?: string;
  /** Default: the AWS SDK's default credential chain (env, SSO, profile, ECS/EC2 roles). */
  readonly credentials?: AwsCredentialProvider;
}

/** A request to sign: what goes on the wire, so the signature covers exactly those bytes. */
export interface PlainRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

/** `aps-workspaces.<region>.amazonaws.com` → `<region>`. */
export function regionFromAmpHost(host: string): string | undefined {
  const m = /^aps-workspaces\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(host);
  return m?.[1];
}

export class SigV4ConfigError extends ConfigurationError {
  constructor(message: string) {
    super(message);
    this.name = 'SigV4ConfigError';
  }
}

/**
 * Returns a function that adds SigV4 headers (`authorization`, `x-amz-date`, and
 * `x-amz-security-token` for temporary credentials) to a request. The credential chain is resolved
 * lazily and memoised by the provider, so a missing profile fails the query, not the start-up.
 */
export function createSigV4Signer(
  url: URL,
  options: SigV4Options = {},
  env: NodeJS.ProcessEnv = process.env,
): (req: PlainRequest) => Promise<Record<string, string>> {
  const region =
    options.region ?? regionFromAmpHost(url.hostname) ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (region === undefined || region === '') {
    throw new SigV4ConfigError(
      'SigV4 needs a region: pass --region, set AWS_REGION, or use an aps-workspaces.<region> URL',
    );
  }
  const credentials = options.credentials ?? defaultProvider();
  const signer = new SignatureV4({
    service: options.service ?? 'aps',
    region,
    credentials,
    sha256: Sha256,
  });
  return async (req) => {
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of req.url.searchParams) {
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    const request = new HttpRequest({
      method: req.method,
      protocol: req.url.protocol,
      hostname: req.url.hostname,
      ...(req.url.port === '' ? {} : { port: Number(req.url.port) }),
      path: req.url.pathname,
      query,
      // `host` must be signed; fetch sends exactly this value.
      headers: { ...req.headers, host: req.url.host },
      ...(req.body === undefined ? {} : { body: req.body }),
    });
    const signed = await signer.sign(request);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(signed.headers)) {
      // fetch sets `host` itself and refuses to be told.
      if (k.toLowerCase() !== 'host') out[k] = v;
    }
    return out;
  };
}
