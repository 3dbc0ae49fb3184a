import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { signalById } from '../../../shared/signals/catalog.js';
import { SIG } from '../../../shared/signals/ids.js';
import type { SignalDef } from '../../../shared/signals/types.js';
import { loadWorkerSettings } from '../../../worker/config.js';
import { createConfiguredSources } from '../../../worker/runtime.js';

/**
 * The worker's metrics source as the settings build it, against a local server that answers the
 * Prometheus HTTP API and keeps the headers it received.
 */

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function fakePrometheus(): Promise<{ url: string; headers: IncomingHttpHeaders[] }> {
  const headers: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    headers.push(req.headers);
    req.resume();
    req.on('end', () => {
      // The dialect probe is the only range query a snapshot sends.
      const probe = req.url?.endsWith('/query_range') === true;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          probe
            ? {
                status: 'success',
                data: {
                  resultType: 'matrix',
                  result: [
                    { metric: { __name__: 'state_transition_count_count' }, values: [[1, '1']] },
                  ],
                },
              }
            : {
                status: 'success',
                data: { resultType: 'vector', result: [{ metric: {}, value: [1, '4'] }] },
              },
        ),
      );
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return { url: `http://127.0.0.1:${port}`, headers };
}

const AT = Date.UTC(2026, 0, 5, 0, 30);
const THROUGHPUT = signalById(SIG.throughput) as SignalDef;

describe('createConfiguredSources', () => {
  it('sends the credentials of a user:password@ PROMETHEUS_URL as basic auth', async () => {
    const { url, headers } = await fakePrometheus();
    const settings = loadWorkerSettings({
      PROMETHEUS_URL: url.replace('http://', 'http://user:p%40ss@'),
    });
    const sources = await createConfiguredSources(settings);
    expect([...sources.keys()]).toEqual(['local']);
    const source = sources.get('local');
    const snap = await source?.snapshot(AT, [THROUGHPUT]);
    await source?.close();
    expect(source?.kind).toBe('prometheus');
    expect(snap?.values[SIG.throughput]).toEqual({ status: 'ok', value: 4 });
    // The dialect probe and the query both carry it.
    expect(headers.map((h) => h.authorization)).toEqual(
      Array(2).fill(`Basic ${Buffer.from('user:p@ss').toString('base64')}`),
    );
  });

  it('still signs with SigV4 for an AMP workspace', async () => {
    const settings = loadWorkerSettings({
      AMP_WORKSPACE_URL: 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1',
    });
    expect((await createConfiguredSources(settings)).get('local')?.kind).toBe('amp');
  });

  it('opens one source per COPILOT_CLUSTERS entry, each reading its own Prometheus', async () => {
    const eu = await fakePrometheus();
    const us = await fakePrometheus();
    const settings = loadWorkerSettings({
      COPILOT_CLUSTERS: JSON.stringify([
        { name: 'prod-eu', prometheusUrl: eu.url.replace('http://', 'http://eu:pw@') },
        { name: 'prod-us', prometheusUrl: us.url },
        {
          name: 'prod-ap',
          ampWorkspaceUrl: 'https://aps-workspaces.ap-south-1.amazonaws.com/workspaces/ws-2',
        },
      ]),
    });
    const sources = await createConfiguredSources(settings);
    expect([...sources.keys()]).toEqual(['prod-eu', 'prod-us', 'prod-ap']);
    expect(sources.get('prod-ap')?.kind).toBe('amp');
    await sources.get('prod-us')?.snapshot(AT, [THROUGHPUT]);
    for (const s of sources.values()) await s.close();
    // prod-us asked its own server only (probe + query, no credentials); prod-eu asked nothing.
    expect(us.headers.map((h) => h.authorization)).toEqual([undefined, undefined]);
    expect(eu.headers).toEqual([]);
  });
});
