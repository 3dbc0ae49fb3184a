import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { expect } from 'vitest';

/** A request as a local endpoint received it. */
export interface ReceivedRequest {
  readonly method: string;
  /** Path with query string, as received. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * Re-signs what arrived with the AWS reference signer and expects the same `authorization`: the
 * signature must cover exactly the received method, path, signed headers and body, as the real
 * service would check it.
 */
export async function expectSigV4Valid(
  q: ReceivedRequest,
  scope: {
    readonly service: string;
    readonly region: string;
    readonly credentials: {
      readonly accessKeyId: string;
      readonly secretAccessKey: string;
      readonly sessionToken?: string;
    };
  },
): Promise<void> {
  const authz = String(q.headers.authorization);
  expect(authz).toMatch(
    new RegExp(
      `^AWS4-HMAC-SHA256 Credential=${scope.credentials.accessKeyId}/\\d{8}/${scope.region}/${scope.service}/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$`,
    ),
  );
  // A signed payload hash stands in for the body when re-signing, so it must be the hash of the
  // body that arrived (as the service checks it); otherwise a changed body would still verify.
  const payloadHash = q.headers['x-amz-content-sha256'];
  if (payloadHash !== undefined)
    expect(payloadHash).toBe(createHash('sha256').update(q.body).digest('hex'));
  const amzDate = String(q.headers['x-amz-date']);
  expect(amzDate).toMatch(/^\d{8}T\d{6}Z$/);
  const signedHeaders = (/SignedHeaders=([^,]+)/.exec(authz)?.[1] ?? '').split(';');
  const headers: Record<string, string> = {};
  for (const h of signedHeaders) headers[h] = String(q.headers[h]);
  const [path, search] = q.path.split('?', 2) as [string, string | undefined];
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(search ?? '')) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const signer = new SignatureV4({ ...scope, sha256: Sha256 });
  const d = amzDate;
  const signingDate = new Date(
    `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`,
  );
  const again = await signer.sign(
    new HttpRequest({
      method: q.method,
      protocol: 'http:',
      hostname: String(q.headers.host).split(':')[0] ?? '',
      path,
      query,
      headers,
      body: q.body,
    }),
    { signingDate },
  );
  expect(again.headers.authorization).toBe(authz);
}
