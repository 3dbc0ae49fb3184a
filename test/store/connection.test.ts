import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createDsqlTokenProvider,
  dsqlMaxLifetimeSeconds,
  openStore,
  redactUrl,
  regionFromDsqlEndpoint,
} from '../../shared/store/connection.js';
import { DsqlCredentialsError, StoreConfigError } from '../../shared/store/errors.js';
import { withoutAwsCredentials } from '../support/aws-env.js';

const ENDPOINT = 'abcdefghijklmnopqrstuvwxyz.dsql.eu-west-1.on.aws';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('DSQL IAM auth tokens', () => {
  beforeEach(() => {
    withoutAwsCredentials();
  });

  it('signs an admin token offline with credentials from the environment', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY');
    const token = await createDsqlTokenProvider({ endpoint: ENDPOINT, region: 'eu-west-1' })();
    expect(token.startsWith(`${ENDPOINT}/?Action=DbConnectAdmin&`)).toBe(true);
    expect(token).toContain('X-Amz-Credential=AKIDEXAMPLE%2F');
    expect(token).toContain('%2Feu-west-1%2Fdsql%2Faws4_request');
    expect(token).toMatch(/X-Amz-Expires=900\b/);
    expect(token).toMatch(/X-Amz-Signature=[0-9a-f]{64}/);
  });

  it('signs a DbConnect token for a custom role', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    const token = await createDsqlTokenProvider({
      endpoint: ENDPOINT,
      region: 'eu-west-1',
      user: 'copilot_writer',
      tokenExpiresInSeconds: 300,
    })();
    expect(token).toContain('/?Action=DbConnect&');
    expect(token).toMatch(/X-Amz-Expires=300\b/);
  });

  it('fails with one clear error when no credential is found', async () => {
    const error = await createDsqlTokenProvider({
      endpoint: ENDPOINT,
      region: 'eu-west-1',
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DsqlCredentialsError);
    expect((error as Error).message).toBe(
      `no AWS credentials to sign a DSQL auth token for ${ENDPOINT}: set AWS_PROFILE or ` +
        'AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run with an IAM role attached',
    );
  });

  it('refuses to open a DSQL store without credentials, before any network I/O', async () => {
    await expect(openStore({ dialect: 'dsql', endpoint: ENDPOINT })).rejects.toThrow(
      DsqlCredentialsError,
    );
  });

  it('opens a DSQL pool lazily once a token can be signed', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    const store = await openStore({ dialect: 'dsql', endpoint: ENDPOINT, user: 'admin' });
    expect(store.dialect).toBe('dsql');
    expect(store.target).toBe(`dsql://admin@${ENDPOINT}/postgres (eu-west-1)`);
    await store.close();
  });
});

describe('store targets', () => {
  it('reads the region out of a DSQL endpoint name', () => {
    expect(regionFromDsqlEndpoint(ENDPOINT)).toBe('eu-west-1');
    expect(regionFromDsqlEndpoint('x1.dsql.us-gov-west-1.on.aws')).toBe('us-gov-west-1');
    expect(regionFromDsqlEndpoint('db.example.com')).toBeUndefined();
  });

  it('recycles DSQL connections before the 60-minute limit', () => {
    for (const r of [0, 0.5, 0.999_999]) {
      const seconds = dsqlMaxLifetimeSeconds(() => r);
      expect(seconds).toBeGreaterThanOrEqual(45 * 60);
      expect(seconds).toBeLessThan(60 * 60);
    }
  });

  it('fails on unusable targets with a clear message', async () => {
    await expect(openStore({ dialect: 'dsql', endpoint: 'db.example.com' })).rejects.toThrow(
      'no region for DSQL endpoint db.example.com: pass --region or set AWS_REGION',
    );
    await expect(openStore({ dialect: 'dsql', endpoint: 'not a host' })).rejects.toThrow(
      StoreConfigError,
    );
    await expect(openStore({ dialect: 'postgres', url: 'mysql://u:p@h/db' })).rejects.toThrow(
      'database URL must start with postgres:// or postgresql://, got mysql://',
    );
    await expect(openStore({ dialect: 'postgres', url: 'nonsense' })).rejects.toThrow(/not a URL/);
    await expect(
      openStore({ dialect: 'postgres', url: 'postgres://h/db', max: 0 }),
    ).rejects.toThrow(/pool size/);
  });

  it('never prints a password', () => {
    expect(redactUrl('postgres://copilot:s3cret@db:5432/x')).toBe(
      'postgres://copilot:***@db:5432/x',
    );
  });
});
