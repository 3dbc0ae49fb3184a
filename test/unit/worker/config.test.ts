import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../shared/errors.js';
import { loadWorkerSettings } from '../../../worker/config.js';

describe('loadWorkerSettings', () => {
  it('defaults to the embedded store, no metrics source, a 30 s cadence', () => {
    const s = loadWorkerSettings({});
    expect(s.storeTarget).toEqual({ dialect: 'embedded', dataDir: '.copilot/data' });
    expect(s.metrics).toEqual({ kind: 'none', dialect: { server: 'auto', sdk: 'auto' } });
    expect(s.intervalMs).toBe(30_000);
    expect(s.env).toMatchObject({
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: 'copilot',
      COPILOT_CLUSTER: 'local',
    });
  });

  it('reads AMP as a SigV4 Prometheus source and scrape URLs as a list', () => {
    expect(
      loadWorkerSettings({
        AMP_WORKSPACE_URL: 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1',
      }).metrics,
    ).toEqual({
      kind: 'prometheus',
      url: 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1',
      auth: { kind: 'sigv4', region: 'eu-west-1' },
      dialect: { server: 'auto', sdk: 'auto' },
    });
    expect(
      loadWorkerSettings({ COPILOT_SCRAPE_URLS: 'http://h:9090/metrics, http://m:9090/metrics' })
        .metrics,
    ).toEqual({
      kind: 'scrape',
      urls: ['http://h:9090/metrics', 'http://m:9090/metrics'],
      dialect: { server: 'auto', sdk: 'auto' },
    });
  });

  it('accepts inline engine configuration and validates it at start-up', () => {
    const s = loadWorkerSettings({ COPILOT_ENGINE_CONFIG: '{"band":{"initial":"mid-scale"}}' });
    expect(s.engineConfig).toEqual({ band: { initial: 'mid-scale' } });
    expect(() =>
      loadWorkerSettings({
        COPILOT_ENGINE_CONFIG: '{"overrides":{"all":{"criticalCompletionRateMin":0.99}}}',
      }),
    ).toThrow('criticalCompletionRateMin (0.99) must be below healthyCompletionRateMin');
    expect(() => loadWorkerSettings({ COPILOT_ENGINE_CONFIG: '{nope' })).toThrow(
      ConfigurationError,
    );
    expect(() => loadWorkerSettings({ COPILOT_ENGINE_CONFIG: '/no/such/file.json' })).toThrow(
      'neither JSON nor a readable file',
    );
  });

  it.each([
    [
      { PROMETHEUS_URL: 'http://p:9090', COPILOT_SCRAPE_URLS: 'http://h/metrics' },
      'set only one of PROMETHEUS_URL',
    ],
    [
      { PROMETHEUS_URL: 'http://p:9090', AMP_WORKSPACE_URL: 'https://aps-workspaces.x/ws' },
      'set only one of PROMETHEUS_URL, AMP_WORKSPACE_URL and COPILOT_SCRAPE_URLS',
    ],
    [{ COPILOT_SCRAPE_URLS: 'ftp://h/metrics' }, 'invalid scrape URL in COPILOT_SCRAPE_URLS'],
    [
      { COPILOT_DATABASE_URL: 'postgres://x', COPILOT_DSQL_ENDPOINT: 'abc.dsql.eu-west-1.on.aws' },
      'set only one of COPILOT_DATABASE_URL',
    ],
    [{ PROMETHEUS_URL: 'not a url' }, 'PROMETHEUS_URL'],
    [{ COPILOT_CLUSTER: 'bad name!' }, 'COPILOT_CLUSTER'],
    [{ COPILOT_INTERVAL_SECONDS: '0' }, 'COPILOT_INTERVAL_SECONDS'],
    [{ TEMPORAL_TLS: 'yes' }, 'TEMPORAL_TLS'],
  ])('fails clearly on %o', (env, fragment) => {
    expect(() => loadWorkerSettings(env)).toThrow(ConfigurationError);
    expect(() => loadWorkerSettings(env)).toThrow(fragment);
  });
});
