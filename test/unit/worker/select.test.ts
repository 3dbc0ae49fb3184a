import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../shared/errors.js';
import {
  ENV_CONFLICT,
  type MetricsEnv,
  type MetricsFlags,
  MetricsSourceConfigError,
  NO_SOURCE,
  openMetricsSource,
  selectMetricsSource,
} from '../../../worker/sources/select.js';

const AMP = 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1';
const AUTO = { server: 'auto', sdk: 'auto' };

describe('selectMetricsSource', () => {
  it.each<[string, MetricsEnv, MetricsFlags, unknown]>([
    ['nothing', {}, {}, { kind: 'none', dialect: AUTO }],
    [
      'PROMETHEUS_URL (its userinfo stays for the source to send as basic auth)',
      { PROMETHEUS_URL: 'http://u:p@prom:9090' },
      {},
      { kind: 'prometheus', url: 'http://u:p@prom:9090', dialect: AUTO },
    ],
    [
      'AMP_WORKSPACE_URL: SigV4, region from the host before AWS_REGION',
      { AMP_WORKSPACE_URL: AMP, AWS_REGION: 'us-east-1' },
      {},
      { kind: 'prometheus', url: AMP, auth: { kind: 'sigv4', region: 'eu-west-1' }, dialect: AUTO },
    ],
    [
      '--region before the host',
      { AMP_WORKSPACE_URL: AMP },
      { region: 'ap-south-1' },
      {
        kind: 'prometheus',
        url: AMP,
        auth: { kind: 'sigv4', region: 'ap-south-1' },
        dialect: AUTO,
      },
    ],
    [
      '--sigv4 on PROMETHEUS_URL: AWS_REGION when the host says nothing',
      { PROMETHEUS_URL: 'https://proxy/ws', AWS_REGION: 'us-east-1' },
      { sigv4: true },
      {
        kind: 'prometheus',
        url: 'https://proxy/ws',
        auth: { kind: 'sigv4', region: 'us-east-1' },
        dialect: AUTO,
      },
    ],
    [
      'COPILOT_SCRAPE_URLS, blanks dropped',
      { COPILOT_SCRAPE_URLS: ' http://a/metrics, ,http://b/metrics ' },
      {},
      { kind: 'scrape', urls: ['http://a/metrics', 'http://b/metrics'], dialect: AUTO },
    ],
    [
      'a flag wins over every source variable, even conflicting ones',
      { PROMETHEUS_URL: 'http://p', AMP_WORKSPACE_URL: AMP, COPILOT_SCRAPE_URLS: 'http://s/m' },
      { prometheusUrl: 'http://flag:9090', bearerToken: 't' },
      {
        kind: 'prometheus',
        url: 'http://flag:9090',
        auth: { kind: 'bearer', token: 't' },
        dialect: AUTO,
      },
    ],
    [
      '--scrape-url wins over PROMETHEUS_URL',
      { PROMETHEUS_URL: 'http://p' },
      { scrapeUrl: 'http://s/metrics' },
      { kind: 'scrape', urls: ['http://s/metrics'], dialect: AUTO },
    ],
    [
      'COPILOT_METRICS_DIALECT, and --dialect over it; SDK dialect and prefix from flags',
      { PROMETHEUS_URL: 'http://p', COPILOT_METRICS_DIALECT: 'otel' },
      { dialect: 'tally', sdkDialect: 'go', sdkPrefix: 'x_', basicAuth: 'u:p:w' },
      {
        kind: 'prometheus',
        url: 'http://p',
        auth: { kind: 'basic', username: 'u', password: 'p:w' },
        dialect: { server: 'tally', sdk: 'go', sdkPrefix: 'x_' },
      },
    ],
    [
      'blank variables count as unset',
      { PROMETHEUS_URL: ' ', AMP_WORKSPACE_URL: '', COPILOT_METRICS_DIALECT: '' },
      {},
      { kind: 'none', dialect: AUTO },
    ],
  ])('%s', (_name, env, flags, expected) => {
    expect(selectMetricsSource(env, flags)).toEqual(expected);
  });

  it.each<[MetricsEnv, MetricsFlags, string]>([
    [{ PROMETHEUS_URL: 'http://p', AMP_WORKSPACE_URL: AMP }, {}, ENV_CONFLICT],
    [{ AMP_WORKSPACE_URL: AMP, COPILOT_SCRAPE_URLS: 'http://s/m' }, {}, ENV_CONFLICT],
    [{}, { prometheusUrl: 'http://p', scrapeUrl: 'http://s/m' }, 'choose one of --prometheus-url'],
    [
      { PROMETHEUS_URL: 'http://p' },
      { bearerToken: 't', basicAuth: 'u:p' },
      'choose one of --bearer-token, --basic-auth and --sigv4',
    ],
    [
      { AMP_WORKSPACE_URL: AMP },
      { bearerToken: 't' },
      'choose one of --bearer-token, --basic-auth and --sigv4 (AMP_WORKSPACE_URL implies --sigv4)',
    ],
    [
      { PROMETHEUS_URL: 'http://p' },
      { basicAuth: 'nocolon' },
      '--basic-auth must be user:password',
    ],
    [{ PROMETHEUS_URL: 'http://p' }, { region: 'eu-west-1' }, '--region applies only'],
    [{}, { scrapeUrl: 'http://s/m', sigv4: true }, 'apply to a Prometheus source, not to a scrape'],
    [{}, { sigv4: true }, NO_SOURCE],
    [{}, { scrapeUrl: ' , ' }, '--scrape-url needs at least one URL'],
    [{}, { scrapeUrl: 'http://u:secret@h/m,nope' }, 'invalid scrape URL in --scrape-url: nope'],
    [
      { COPILOT_METRICS_DIALECT: 'prom' },
      {},
      'COPILOT_METRICS_DIALECT must be one of auto, tally, otel',
    ],
    [{}, { sdkDialect: 'java' }, '--sdk-dialect must be one of core, go'],
  ])('refuses %o with flags %o', (env, flags, message) => {
    const attempt = () => selectMetricsSource(env, flags);
    expect(attempt).toThrow(MetricsSourceConfigError);
    expect(attempt).toThrow(ConfigurationError);
    expect(attempt).toThrow(message);
  });
});

describe('openMetricsSource', () => {
  it('opens each kind, and refuses nothing at all without fallback URLs', async () => {
    const prom = openMetricsSource(selectMetricsSource({ AMP_WORKSPACE_URL: AMP }));
    expect(prom.kind).toBe('amp');
    const scrape = openMetricsSource(selectMetricsSource({}, { scrapeUrl: 'http://s/metrics' }));
    expect(scrape.kind).toBe('scrape');
    const none = selectMetricsSource({ COPILOT_METRICS_DIALECT: 'otel' });
    if (none.kind !== 'none') throw new Error(`expected none, got ${none.kind}`);
    const dev = openMetricsSource(none, { fallbackScrapeUrls: ['http://127.0.0.1:1/metrics'] });
    expect(dev.dialect().server).toBe('otel');
    expect(() => openMetricsSource(selectMetricsSource({}))).toThrow(NO_SOURCE);
    await Promise.all([prom.close(), scrape.close(), dev.close()]);
  });
});
