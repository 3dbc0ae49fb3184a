import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../shared/errors.js';
import { loadWorkerSettings, SINGLE_CLUSTER_VARIABLES } from '../../../worker/config.js';

describe('loadWorkerSettings', () => {
  it('defaults to the embedded store, no metrics source, a 30 s cadence', () => {
    const s = loadWorkerSettings({});
    expect(s.storeTarget).toEqual({ dialect: 'embedded', dataDir: '.copilot/data' });
    expect(s.clusters).toEqual([
      {
        name: 'local',
        metrics: { kind: 'none', dialect: { server: 'auto', sdk: 'auto' } },
        engineConfig: {},
      },
    ]);
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
      }).clusters[0]?.metrics,
    ).toEqual({
      kind: 'prometheus',
      url: 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1',
      auth: { kind: 'sigv4', region: 'eu-west-1' },
      dialect: { server: 'auto', sdk: 'auto' },
    });
    expect(
      loadWorkerSettings({ COPILOT_SCRAPE_URLS: 'http://h:9090/metrics, http://m:9090/metrics' })
        .clusters[0]?.metrics,
    ).toEqual({
      kind: 'scrape',
      urls: ['http://h:9090/metrics', 'http://m:9090/metrics'],
      dialect: { server: 'auto', sdk: 'auto' },
    });
  });

  it('accepts inline engine configuration and validates it at start-up', () => {
    const s = loadWorkerSettings({ COPILOT_ENGINE_CONFIG: '{"band":{"initial":"mid-scale"}}' });
    expect(s.clusters[0]?.engineConfig).toEqual({ band: { initial: 'mid-scale' } });
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

describe('loadWorkerSettings with COPILOT_CLUSTERS', () => {
  const clusters = (value: unknown) => ({ COPILOT_CLUSTERS: JSON.stringify(value) });

  it('reads every cluster with its own source, dialect, engine configuration and Loki', () => {
    const s = loadWorkerSettings({
      ...clusters([
        {
          name: 'prod-eu',
          ampWorkspaceUrl: 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1',
          engineConfig: { band: { initial: 'high-throughput' } },
          lokiUrl: 'http://loki.eu:3100',
        },
        { name: 'prod-us', prometheusUrl: 'http://prom.us:9090', dialect: 'otel' },
        { name: 'edge', scrapeUrls: ['http://h:9090/metrics', 'http://m:9090/metrics'] },
      ]),
      AWS_REGION: 'us-east-1',
      COPILOT_INTERVAL_SECONDS: '15',
    });
    expect(s.intervalMs).toBe(15_000);
    expect(s.clusters).toEqual([
      {
        name: 'prod-eu',
        metrics: {
          kind: 'prometheus',
          url: 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1',
          auth: { kind: 'sigv4', region: 'eu-west-1' },
          dialect: { server: 'auto', sdk: 'auto' },
        },
        engineConfig: { band: { initial: 'high-throughput' } },
        lokiUrl: 'http://loki.eu:3100',
      },
      {
        name: 'prod-us',
        metrics: {
          kind: 'prometheus',
          url: 'http://prom.us:9090',
          dialect: { server: 'otel', sdk: 'auto' },
        },
        engineConfig: {},
      },
      {
        name: 'edge',
        metrics: {
          kind: 'scrape',
          urls: ['http://h:9090/metrics', 'http://m:9090/metrics'],
          dialect: { server: 'auto', sdk: 'auto' },
        },
        engineConfig: {},
      },
    ]);
  });

  /** A valid value of each single-cluster variable: only their being set together is wrong. */
  const VALID: Record<(typeof SINGLE_CLUSTER_VARIABLES)[number], string> = {
    COPILOT_CLUSTER: 'a',
    PROMETHEUS_URL: 'http://p:9090',
    AMP_WORKSPACE_URL: 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1',
    COPILOT_SCRAPE_URLS: 'http://h:9090/metrics',
    COPILOT_METRICS_DIALECT: 'tally',
    COPILOT_ENGINE_CONFIG: '{}',
    LOKI_URL: 'http://loki:3100',
  };

  it.each(SINGLE_CLUSTER_VARIABLES)('refuses %s beside it, naming both', (name) => {
    const env = {
      ...clusters([{ name: 'a', prometheusUrl: 'http://p:9090' }]),
      [name]: VALID[name],
    };
    expect(() => loadWorkerSettings(env)).toThrow(ConfigurationError);
    expect(() => loadWorkerSettings(env)).toThrow(new RegExp(`COPILOT_CLUSTERS .*unset ${name}`));
  });

  it.each([
    ['{nope', 'COPILOT_CLUSTERS is not valid JSON'],
    [JSON.stringify([]), 'COPILOT_CLUSTERS'],
    [JSON.stringify({ name: 'a' }), 'COPILOT_CLUSTERS'],
    [
      JSON.stringify([{ name: 'bad name!', prometheusUrl: 'http://p:9090' }]),
      'COPILOT_CLUSTERS at 0.name',
    ],
    [JSON.stringify([{ name: 'a', prometheusURL: 'http://p:9090' }]), 'prometheusURL'],
    [
      JSON.stringify([{ name: 'a' }]),
      'COPILOT_CLUSTERS[0] (a): needs one of prometheusUrl, ampWorkspaceUrl, scrapeUrls',
    ],
    [
      JSON.stringify([
        { name: 'a', prometheusUrl: 'http://p:9090', scrapeUrls: ['http://h/metrics'] },
      ]),
      'COPILOT_CLUSTERS[0] (a): set only one of prometheusUrl, ampWorkspaceUrl, scrapeUrls',
    ],
    [
      JSON.stringify([
        { name: 'a', prometheusUrl: 'http://p:9090' },
        { name: 'a', prometheusUrl: 'http://q:9090' },
      ]),
      'COPILOT_CLUSTERS[1] (a): the name is listed twice',
    ],
    [
      JSON.stringify([{ name: 'a', scrapeUrls: ['ftp://h/metrics'] }]),
      'COPILOT_CLUSTERS[0] (a): invalid scrape URL',
    ],
    [JSON.stringify([{ name: 'a', prometheusUrl: 'http://p:9090', dialect: 'prom' }]), 'dialect'],
    [
      JSON.stringify([
        { name: 'a', prometheusUrl: 'http://p:9090' },
        {
          name: 'b',
          prometheusUrl: 'http://p:9090',
          engineConfig: { overrides: { all: { criticalCompletionRateMin: 0.99 } } },
        },
      ]),
      'COPILOT_CLUSTERS[1] (b) engineConfig: invalid engine configuration',
    ],
  ])('fails clearly on COPILOT_CLUSTERS=%s', (value, fragment) => {
    expect(() => loadWorkerSettings({ COPILOT_CLUSTERS: value })).toThrow(ConfigurationError);
    expect(() => loadWorkerSettings({ COPILOT_CLUSTERS: value })).toThrow(fragment);
  });
});
