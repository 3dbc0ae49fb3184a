import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretFetchError, secretsManagerApiKey } from '../../lambda/common/secrets.js';
import { expectSigV4Valid } from '../support/sigv4.js';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:copilot/api-key-AbCdEf';
const credentials = async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI' });

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/**
 * A local HTTP server speaking Secrets Manager's JSON 1.1 `GetSecretValue`: it answers only a
 * request that carries the target header, a SigV4 authorization for `secretsmanager` in the
 * region, and the secret id in the body.
 */
describe('API key from Secrets Manager (signed GetSecretValue against a local endpoint)', () => {
  const seen: Seen[] = [];
  let secretString = 'plain-secret-key-0123456789';
  let url = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      const auth = String(req.headers.authorization ?? '');
      const ok =
        req.method === 'POST' &&
        req.headers['x-amz-target'] === 'secretsmanager.GetSecretValue' &&
        req.headers['content-type'] === 'application/x-amz-json-1.1' &&
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/secretsmanager\/aws4_request, SignedHeaders=[^,]*x-amz-target[^,]*, Signature=[0-9a-f]{64}$/.test(
          auth,
        ) &&
        (JSON.parse(body) as { SecretId?: string }).SecretId === ARN;
      res.writeHead(ok ? 200 : 400, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify(
          ok ? { ARN, Name: 'copilot/api-key', SecretString: secretString } : { message: 'bad' },
        ),
      );
    });
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('fetches a plain-string secret with a signed request, then reuses it within the TTL', async () => {
    let clock = 0;
    const key = secretsManagerApiKey({
      secretArn: ARN,
      endpoint: url,
      credentials,
      now: () => clock,
    });
    const before = seen.length;
    expect(await key()).toBe('plain-secret-key-0123456789');
    expect(await key()).toBe('plain-secret-key-0123456789');
    expect(seen.length - before).toBe(1);
    // The signature is checked as Secrets Manager would: re-signed over what arrived.
    await expectSigV4Valid(seen.at(-1) as Seen, {
      service: 'secretsmanager',
      region: 'eu-west-1',
      credentials: await credentials(),
    });
    // After the TTL a rotated secret is picked up.
    secretString = JSON.stringify({ apiKey: 'rotated-key-0123456789' });
    clock = 300_001;
    expect(await key()).toBe('rotated-key-0123456789');
    expect(seen.length - before).toBe(2);
  });

  it('fails with SecretFetchError when the endpoint refuses, and retries on the next call', async () => {
    const key = secretsManagerApiKey({
      secretArn: ARN.replace('eu-west-1', 'us-east-1'),
      region: 'us-east-1',
      endpoint: url,
      credentials,
    });
    await expect(key()).rejects.toThrow(SecretFetchError);
    await expect(key()).rejects.toThrow(/HTTP 400/);
  });

  it('fails at once for an ARN without a region', () => {
    expect(() => secretsManagerApiKey({ secretArn: 'arn:aws:secretsmanager' })).toThrow(
      /no region in secret ARN/,
    );
  });
});
