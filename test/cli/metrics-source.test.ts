import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWorkerSettings } from '../../worker/config.js';
import { runCopilot } from '../support/copilot-cli.js';
import { freePort } from '../support/prometheus.js';

/**
 * `copilot assess` / `replay` run as a user runs them (`node bin/copilot.js …`), against local
 * servers: what they print about a metrics source never carries its credentials.
 */

/** A user's shell without a metrics source configured, plus `env`. */
function copilot(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const clean: NodeJS.ProcessEnv = {};
  for (const k of ['PROMETHEUS_URL', 'AMP_WORKSPACE_URL', 'COPILOT_SCRAPE_URLS'])
    clean[k] = undefined;
  return runCopilot(args, { env: { ...clean, ...env } });
}

const BASIC = `Basic ${Buffer.from('user:secret').toString('base64')}`;
let server: Server;
let port: number;
let dead: number;
const seen: { url: string; authorization: string | undefined }[] = [];

beforeAll(async () => {
  // A Temporal /metrics endpoint behind basic auth: it answers only with the URL's credentials.
  let n = 0;
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
    if (req.headers.authorization !== BASIC) {
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end('unauthorized');
      return;
    }
    n++;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(
      [
        `state_transition_count_count{service_name="history"} ${100 + n * 50}`,
        `workflow_success{service_name="history"} ${10 + n * 5}`,
        'num_goroutines{service_name="history"} 1000',
        '',
      ].join('\n'),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  dead = await freePort();
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('credentials never appear in what the CLI prints', () => {
  it('assess --scrape-url with user:secret@ sends them as basic auth and prints none of them', async () => {
    const r = await copilot([
      'assess',
      '--scrape-url',
      `http://user:secret@127.0.0.1:${port}/metrics`,
      '--format',
      'json',
    ]);
    expect(r.stderr).not.toContain('secret');
    expect(r.stdout).not.toContain('secret');
    expect(r.code).toBe(0);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((s) => s.authorization === BASIC)).toBe(true);
    expect(JSON.parse(r.stdout)).toHaveProperty('state');
  });

  it.each([
    ['user:secret@ on a dead port', `http://user:secret@127.0.0.1:{dead}/metrics`, 'user:***@'],
    ['a query token on a dead port', `http://127.0.0.1:{dead}/metrics?token=secret`, 'token=***'],
    [
      'a query token among several URLs',
      `http://127.0.0.1:{dead}/metrics?access_token=secret,http://u:secret@127.0.0.1:{dead}/m`,
      'access_token=***',
    ],
  ])('assess --scrape-url with %s fails with one line and no secret', async (_what, raw, shown) => {
    const r = await copilot(['assess', '--scrape-url', raw.replaceAll('{dead}', String(dead))]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^copilot: cannot scrape /);
    expect(r.stderr).toContain(shown);
    expect(r.stderr).toMatch(/ECONNREFUSED/);
    expect(`${r.stdout}${r.stderr}`).not.toContain('secret');
  });

  it.each([
    [['--prometheus-url', 'http://user:secret@127.0.0.1:{dead}'], 1],
    [['--prometheus-url', 'ftp://user:secret@127.0.0.1:{dead}'], 2],
    [['--prometheus-url', 'http://user:secret@[::1'], 2],
  ])('assess %j prints no secret (exit %i)', async (flags, code) => {
    const r = await copilot([
      'assess',
      ...flags.map((f) => f.replaceAll('{dead}', String(dead))),
      '--at',
      '2026-01-05T00:00:00Z',
    ]);
    expect(r.code).toBe(code);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(`${r.stdout}${r.stderr}`).not.toContain('secret');
  });

  it('replay with PROMETHEUS_URL carrying credentials prints no secret', async () => {
    const r = await copilot(
      ['replay', '--from', '2026-01-05T00:00:00Z', '--to', '2026-01-05T00:10:00Z'],
      { PROMETHEUS_URL: `http://user:secret@127.0.0.1:${dead}/?api_key=secret` },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^copilot: cannot list metric names at 127\.0\.0\.1:\d+: .*ECONNREFUSED\n$/,
    );
    expect(`${r.stdout}${r.stderr}`).not.toContain('secret');
  });
});

describe('one metrics-source selector for the worker and the CLI', () => {
  const BOTH = {
    PROMETHEUS_URL: 'http://127.0.0.1:9/',
    AMP_WORKSPACE_URL: 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1',
  };
  /** What the worker says for the same variables (it refuses to start with this message). */
  const workerRefusal = (() => {
    try {
      loadWorkerSettings(BOTH);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('the worker accepted PROMETHEUS_URL with AMP_WORKSPACE_URL');
  })();

  it.each([
    [['assess', '--format', 'line']],
    [['replay', '--from', '2026-01-05T00:00:00Z', '--to', '2026-01-05T00:10:00Z']],
  ])(
    '%j with PROMETHEUS_URL and AMP_WORKSPACE_URL refuses as the worker does, exit 2',
    async (args) => {
      expect(workerRefusal).toBe(
        'set only one of PROMETHEUS_URL, AMP_WORKSPACE_URL and COPILOT_SCRAPE_URLS',
      );
      const r = await copilot(args, BOTH);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`copilot: ${workerRefusal}\n`);
      expect(r.stdout).toBe('');
    },
  );

  it('a --prometheus-url flag wins over the environment', async () => {
    const r = await copilot(
      ['assess', '--prometheus-url', `http://127.0.0.1:${dead}`, '--at', '2026-01-05T00:00:00Z'],
      BOTH,
    );
    // Not the configuration refusal: the flag's source was chosen, and it is down.
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^copilot: cannot list metric names at 127\\.0\\.0\\.1:${dead}: `),
    );
  });

  it('replay refuses a direct scrape (no history) with exit 2', async () => {
    const r = await copilot(
      ['replay', '--from', '2026-01-05T00:00:00Z', '--to', '2026-01-05T00:10:00Z'],
      { COPILOT_SCRAPE_URLS: `http://127.0.0.1:${port}/metrics` },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^copilot: replay reads history from Prometheus/);
  });
});
