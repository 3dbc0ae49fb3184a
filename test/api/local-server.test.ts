import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiConfigError } from '../../lambda/common/env.js';
import { type LocalApi, startLocalApi } from '../../lambda/local-server.js';
import {
  ProblemSchema,
  StatusResponseSchema,
  TimelineResponseSchema,
} from '../../shared/api/schemas.js';
import {
  rawGet,
  type SeededApi,
  type SeededStore,
  silentLogger,
  startSeededApi,
  TEST_API_KEY,
} from './support.js';

describe('local API server (node:http → API Gateway v2 event → the Lambda handler)', () => {
  let seeded: SeededStore;
  let api: LocalApi;
  let server: SeededApi;
  const key = { 'x-api-key': TEST_API_KEY };

  beforeAll(async () => {
    server = await startSeededApi();
    ({ seeded, api } = server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('serves /status over HTTP with the key, as JSON', async () => {
    const res = await fetch(`${api.url}/status`, { headers: key });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const status = StatusResponseSchema.parse(await res.json());
    const newest = seeded.evaluations.at(-1)?.observedAt;
    expect(status.timestamp).toBe(new Date(newest ?? 0).toISOString());
  });

  it('refuses a request without the key with a 401 problem', async () => {
    const res = await fetch(`${api.url}/status/summary`);
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(ProblemSchema.parse(await res.json()).title).toBe('Unauthorized');
  });

  it('decodes query values and forgives a trailing slash', async () => {
    const start = encodeURIComponent('2026-11-28T12:00:00+00:00');
    const end = encodeURIComponent('2026-11-28T12:05:00.000Z');
    const res = await fetch(`${api.url}/status/timeline/?start=${start}&end=${end}`, {
      headers: key,
    });
    expect(res.status).toBe(200);
    const timeline = TimelineResponseSchema.parse(await res.json());
    expect(timeline.timeline).toHaveLength(10);
  });

  it('joins a repeated query key with commas like API Gateway, which the cluster check refuses', async () => {
    const res = await rawGet(api.url, '/status?cluster=local&cluster=local', key);
    expect(res.status).toBe(400);
    expect(ProblemSchema.parse(JSON.parse(res.body)).detail).toMatch(/cluster/);
  });

  it('returns 404 for an unknown path and 501 for POST /actions', async () => {
    expect((await rawGet(api.url, '/nope/../../etc/passwd', key)).status).toBe(404);
    const actions = await fetch(`${api.url}/actions`, {
      method: 'POST',
      headers: { ...key, 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'scale history' }),
    });
    expect(actions.status).toBe(501);
    expect(await actions.json()).toEqual({
      error: 'Not implemented',
      message: 'Automated remediation is planned for a future release.',
    });
  });

  it('needs no key when none is configured', async () => {
    const open = await startLocalApi({ store: seeded.store, port: 0, logger: silentLogger });
    try {
      const res = await fetch(`${open.url}/clusters`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ clusters: [{ name: 'empty' }, { name: 'local' }] });
    } finally {
      await open.close();
    }
    await expect(fetch(`${open.url}/clusters`)).rejects.toThrow();
  });

  it('refuses to listen beyond loopback without a key, or with a key under 16 characters', async () => {
    await expect(
      startLocalApi({ store: seeded.store, port: 0, host: '0.0.0.0', logger: silentLogger }),
    ).rejects.toThrow(ApiConfigError);
    await expect(
      startLocalApi({ store: seeded.store, port: 0, host: '::', logger: silentLogger }),
    ).rejects.toThrow(/set COPILOT_API_KEY \(at least 16 characters\) to serve the API on ::/);
    await expect(
      startLocalApi({ store: seeded.store, port: 0, apiKey: 'short', logger: silentLogger }),
    ).rejects.toThrow('COPILOT_API_KEY must be at least 16 characters (it has 5)');
  });

  it('uses the request time for the default timeline range', async () => {
    const before = Date.now();
    const res = await fetch(`${api.url}/status/timeline`, { headers: key });
    const after = Date.now();
    const timeline = TimelineResponseSchema.parse(await res.json());
    // The local server has no injected clock: the range ends at the wall-clock time of the request.
    expect(Date.parse(timeline.end)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(timeline.end)).toBeLessThanOrEqual(after);
    expect(Date.parse(timeline.end) - Date.parse(timeline.start)).toBe(86_400_000);
  });
});
