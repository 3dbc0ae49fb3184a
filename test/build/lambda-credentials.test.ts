import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BundleReport, buildLambdas } from '../../scripts/build.js';
import { createSigV4Signer } from '../../shared/aws/sigv4.js';
import { type SeededStore, startSeededStore } from '../api/support.js';
import { type Moto, startMoto } from '../support/moto.js';
import { LAMBDA_EMULATOR } from './lambda-emulator.js';
import { type NodeProcess, startNode } from './node-process.js';

/*
 * The deployed API Lambda takes its credentials from the environment only (lib/lambda-bundling.ts
 * aliases the SDK's default chain to `fromEnv`, 536 → 293 KiB). Shown with the bundle as deployed,
 * in a plain `node` process: the key comes from a real local Secrets Manager (moto) through a
 * SigV4-signed GetSecretValue with the environment's credentials; with only a credentials file —
 * which the full chain would have read — the key cannot be fetched, and the API says so.
 */

const REGION = 'eu-west-1';
const KEY = 'secret-manager-key-0123456789abcdef';
const ENV_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'AKIDLAMBDAENV',
  AWS_SECRET_ACCESS_KEY: 'lambda-env-secret',
  AWS_SESSION_TOKEN: 'lambda-env-session',
};

let out: string;
let api: BundleReport;
let moto: Moto;
let seeded: SeededStore;
let secretArn: string;
const running: NodeProcess[] = [];

/** The bundled handler behind the emulator, with exactly `env` (plus the store and the secret). */
async function startLambda(env: NodeJS.ProcessEnv): Promise<{ url: string; lambda: NodeProcess }> {
  const lambda = startNode(['--input-type=module', '-e', LAMBDA_EMULATOR], {
    BUNDLE_URL: `file://${api.file}`,
    COPILOT_DATABASE_URL: seeded.pg.url,
    COPILOT_API_KEY_SECRET_ARN: secretArn,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.url,
    AWS_REGION: REGION,
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    ...env,
  });
  running.push(lambda);
  const port = await lambda.waitFor((s) => /listening (\d+)/.exec(s)?.[1]);
  return { url: `http://127.0.0.1:${port}`, lambda };
}

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'copilot-lambda-credentials-'));
  const [built, m, store] = await Promise.all([
    buildLambdas(join(out, 'lambda'), { entries: { api: 'lambda/api.ts' } }),
    startMoto(),
    startSeededStore(),
  ]);
  api = built.api as BundleReport;
  moto = m;
  seeded = store;
  // The secret, created as the stack's would be: JSON with an `apiKey` field.
  const endpoint = new URL(moto.url);
  const sign = createSigV4Signer(endpoint, {
    service: 'secretsmanager',
    region: REGION,
    credentials: async () => ({ accessKeyId: 'AKIDSETUP', secretAccessKey: 'setup' }),
  });
  const body = JSON.stringify({
    Name: 'copilot-api-key',
    SecretString: JSON.stringify({ apiKey: KEY }),
  });
  const headers = await sign({
    method: 'POST',
    url: endpoint,
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'secretsmanager.CreateSecret',
    },
    body,
  });
  const created = await fetch(endpoint, { method: 'POST', headers, body });
  expect(created.status, await created.clone().text()).toBe(200);
  secretArn = ((await created.json()) as { ARN: string }).ARN;
}, 120_000);

afterAll(async () => {
  for (const p of running) p.child.kill('SIGTERM');
  await Promise.all(running.map((p) => p.exited));
  await Promise.all([moto?.stop(), seeded?.stop()]);
  if (out !== undefined) rmSync(out, { recursive: true, force: true });
});

describe('the API Lambda bundle and its credentials', () => {
  it('bundles no credential source but the environment', () => {
    const chain = api.inputs.filter((i) =>
      /credential-provider-(node|ini|sso|process|web-identity|imds|http|login)|client-sso|client-sts|nested-clients/.test(
        i,
      ),
    );
    expect(chain).toEqual([]);
    expect(api.inputs.some((i) => i.includes('credential-provider-env'))).toBe(true);
  });

  it("checks the key against the secret, fetched with the environment's credentials", async () => {
    const { url } = await startLambda(ENV_CREDENTIALS);
    const ok = await fetch(`${url}/status`, { headers: { 'x-api-key': KEY } });
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(((await ok.json()) as { health_state: string }).health_state).toMatch(
      /^(happy|stressed|critical|unknown)$/,
    );
    const wrong = await fetch(`${url}/status`, { headers: { 'x-api-key': `${KEY}-not` } });
    expect(wrong.status).toBe(401);
  });

  it('reads no credentials file: without the environment, the key cannot be checked and the API says so', async () => {
    const files = mkdtempSync(join(out, 'aws-'));
    const credentials = join(files, 'credentials');
    writeFileSync(
      credentials,
      '[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file-secret\n',
    );
    const { url, lambda } = await startLambda({
      AWS_SHARED_CREDENTIALS_FILE: credentials,
      AWS_CONFIG_FILE: join(files, 'config'),
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    const res = await fetch(`${url}/status`, { headers: { 'x-api-key': KEY } });
    const body = (await res.json()) as { status: number; title: string };
    expect(res.status, JSON.stringify(body)).toBe(500);
    expect(body.status).toBe(500);
    // For the reason under test (no credentials in the environment), not any failure.
    expect(lambda.stdout() + lambda.stderr()).toMatch(/environment variable credentials/i);
    // The process answers on: the next request fails the same way, it does not crash or hang.
    const again = await fetch(`${url}/openapi.json`);
    expect(again.status).toBe(200);
  });
});
