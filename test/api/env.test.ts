import { describe, expect, it } from 'vitest';
import {
  ApiConfigError,
  checkLocalApiAuth,
  isLoopbackHost,
  localApiKey,
  localStaleness,
  parseApiEnv,
  parseLambdaApiEnv,
} from '../../lambda/common/env.js';
import { ConfigurationError } from '../../shared/errors.js';

const KEY = 'test-api-key-0123456789abcdef';
const STORE = { COPILOT_DATABASE_URL: 'postgres://x/y' };

describe('parseLambdaApiEnv', () => {
  it('refuses COPILOT_API_AUTH=none, which parseApiEnv alone accepts', () => {
    const env = { ...STORE, COPILOT_API_AUTH: 'none' };
    expect(parseApiEnv(env)).toMatchObject({ COPILOT_API_AUTH: 'none' });
    expect(() => parseLambdaApiEnv(env)).toThrow(ApiConfigError);
    expect(() => parseLambdaApiEnv(env)).toThrow(
      'invalid API configuration: COPILOT_API_AUTH=none is refused in Lambda, where the API is ' +
        'public: use api-key (with COPILOT_API_KEY_SECRET_ARN or COPILOT_API_KEY) or iam',
    );
  });

  it('accepts a key, a key secret or IAM, and still refuses what parseApiEnv refuses', () => {
    expect(parseLambdaApiEnv({ ...STORE, COPILOT_API_KEY: KEY })).toMatchObject({
      COPILOT_API_AUTH: 'api-key',
      COPILOT_API_KEY: KEY,
    });
    expect(
      parseLambdaApiEnv({
        ...STORE,
        COPILOT_API_KEY_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:k',
      }),
    ).toMatchObject({ COPILOT_API_AUTH: 'api-key' });
    expect(parseLambdaApiEnv({ ...STORE, COPILOT_API_AUTH: 'iam' })).toMatchObject({
      COPILOT_API_AUTH: 'iam',
    });
    expect(() => parseLambdaApiEnv(STORE)).toThrow(/COPILOT_API_KEY or COPILOT_API_KEY_SECRET_ARN/);
    expect(() => parseLambdaApiEnv({ ...STORE, COPILOT_API_KEY: 'short' })).toThrow(
      /at least 16 characters/,
    );
  });
});

describe('the local server’s authentication', () => {
  it('tells loopback hosts from the rest', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]'])
      expect(isLoopbackHost(host), host).toBe(true);
    for (const host of [
      '0.0.0.0',
      '::',
      '192.168.1.10',
      'example.com',
      '128.0.0.1',
      '::ffff:10.0.0.1',
    ])
      expect(isLoopbackHost(host), host).toBe(false);
    expect(isLoopbackHost('::ffff:127.0.0.1')).toBe(true);
  });

  it('is open on loopback without a key, and needs one of 16 characters or more elsewhere', () => {
    expect(localApiKey({}, '127.0.0.1')).toBeUndefined();
    expect(localApiKey({ COPILOT_API_KEY: '  ' }, 'localhost')).toBeUndefined();
    expect(() => localApiKey({}, '0.0.0.0')).toThrow(ConfigurationError);
    expect(() => localApiKey({ COPILOT_API_KEY: '' }, '0.0.0.0')).toThrow(
      /^set COPILOT_API_KEY \(at least 16 characters\) to serve the API on 0\.0\.0\.0/,
    );
    expect(() => localApiKey({ COPILOT_API_KEY: 'x' }, '0.0.0.0')).toThrow(
      'COPILOT_API_KEY must be at least 16 characters (it has 1)',
    );
    expect(localApiKey({ COPILOT_API_KEY: ` ${'k'.repeat(16)} ` }, '0.0.0.0')).toBe('k'.repeat(16));
  });

  it('holds a key given on loopback to the same length', () => {
    expect(() => checkLocalApiAuth('127.0.0.1', 'k'.repeat(15))).toThrow(ApiConfigError);
    expect(() => checkLocalApiAuth('127.0.0.1', 'k'.repeat(16))).not.toThrow();
  });
});

describe('the staleness rule, from the environment', () => {
  it('defaults to 3 intervals and a 60 s floor, takes both variables, and names a bad one', () => {
    expect(localStaleness({})).toEqual({ intervals: 3, minMs: 60_000 });
    expect(
      localStaleness({ COPILOT_STALE_AFTER_INTERVALS: '5', COPILOT_STALE_AFTER_MIN_SECONDS: '0' }),
    ).toEqual({ intervals: 5, minMs: 0 });
    expect(() => localStaleness({ COPILOT_STALE_AFTER_INTERVALS: '0' })).toThrow(
      /COPILOT_STALE_AFTER_INTERVALS/,
    );
    expect(() => localStaleness({ COPILOT_STALE_AFTER_MIN_SECONDS: '-1' })).toThrow(ApiConfigError);
    // The Lambda reads the same names.
    expect(
      parseLambdaApiEnv({ ...STORE, COPILOT_API_KEY: KEY, COPILOT_STALE_AFTER_INTERVALS: '4' }),
    ).toMatchObject({ COPILOT_STALE_AFTER_INTERVALS: 4, COPILOT_STALE_AFTER_MIN_SECONDS: 60 });
  });
});
