import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { INFINITY_TYPE } from '../../grafana/src/infinity.js';
import { DASHBOARD_DIR, loadDashboards } from './support/dashboards.js';

/*
 * The provisioning files and compose.yaml, checked without running Grafana or Docker (neither
 * runs here): the YAML parses, each data-source file is a complete set with the uids the
 * dashboards' variables default to, each authentication mode carries the fields Infinity reads,
 * every $VARIABLE a file needs is named, and compose mounts what the providers read.
 */

const GRAFANA = join(import.meta.dirname, '../../grafana');
const read = (path: string) => parse(readFileSync(join(GRAFANA, path), 'utf8')) as unknown;

interface DataSource {
  name: string;
  uid: string;
  type: string;
  access?: string;
  url: string;
  jsonData?: Record<string, unknown>;
  secureJsonData?: Record<string, unknown>;
}

const DATASOURCE_FILES = [
  'provisioning/datasources/copilot.yaml',
  'provisioning/alternatives/api-key.yaml',
  'provisioning/alternatives/iam.yaml',
];

function dataSources(file: string): Map<string, DataSource> {
  const doc = read(file) as { apiVersion: number; datasources: DataSource[] };
  expect(doc.apiVersion, file).toBe(1);
  return new Map(doc.datasources.map((d) => [d.uid, d]));
}

/** What the dashboards' data-source variables default to: uid → plugin type. */
function defaults(): Map<string, string> {
  const out = new Map<string, string>();
  for (const { json } of loadDashboards())
    for (const v of json.templating.list)
      if (v.type === 'datasource') out.set(String(v.current?.value), String(v.query));
  return out;
}

/** `$NAME` and `${NAME}` in a text. */
const envNames = (text: string) =>
  new Set([...text.matchAll(/\$\{?([A-Z][A-Z0-9_]*)\}?/g)].map((m) => m[1] as string));

describe('data-source provisioning', () => {
  it('every file in the provisioning folders is listed here (none escapes the checks)', () => {
    const found = ['datasources', 'alternatives'].flatMap((d) =>
      readdirSync(join(GRAFANA, 'provisioning', d)).map((f) => `provisioning/${d}/${f}`),
    );
    expect(found.sort()).toEqual([...DATASOURCE_FILES].sort());
  });

  it.each(DATASOURCE_FILES)('%s defines the data sources the dashboards default to', (file) => {
    const sources = dataSources(file);
    const wanted = defaults();
    expect(wanted.size).toBe(2);
    expect([...sources.keys()].sort()).toEqual([...wanted.keys()].sort());
    for (const [uid, type] of wanted) expect(sources.get(uid)?.type, uid).toBe(type);
  });

  it.each(DATASOURCE_FILES)(
    '%s: Infinity reads the API at its base URL, allowed host only',
    (file) => {
      const api = dataSources(file).get('copilot-api') as DataSource;
      expect(api.type).toBe(INFINITY_TYPE);
      expect(api.access).toBe('proxy');
      expect(api.url).toBe('$COPILOT_API_URL');
      expect(api.jsonData?.allowedHosts).toEqual(['$COPILOT_API_URL']);
    },
  );

  it('copilot dev: no authentication (its API is open on loopback)', () => {
    const api = dataSources(DATASOURCE_FILES[0] as string).get('copilot-api') as DataSource;
    expect(api.jsonData?.auth_method).toBe('none');
    expect(api.secureJsonData).toBeUndefined();
  });

  it('API key: the x-api-key header from $COPILOT_API_KEY', () => {
    const api = dataSources('provisioning/alternatives/api-key.yaml').get(
      'copilot-api',
    ) as DataSource;
    expect(api.jsonData).toMatchObject({
      auth_method: 'apiKey',
      apiKeyKey: 'x-api-key',
      apiKeyType: 'header',
    });
    expect(api.secureJsonData).toEqual({ apiKeyValue: '$COPILOT_API_KEY' });
  });

  it('IAM: SigV4 execute-api for the API, SigV4 for AMP, credentials from the default chain', () => {
    const sources = dataSources('provisioning/alternatives/iam.yaml');
    expect(sources.get('copilot-api')?.jsonData).toMatchObject({
      auth_method: 'aws',
      aws: { authType: 'default', region: '$AWS_REGION', service: 'execute-api' },
    });
    const amp = sources.get('prometheus') as DataSource;
    expect(amp.url).toBe('$AMP_WORKSPACE_URL');
    expect(amp.jsonData).toMatchObject({
      sigV4Auth: true,
      sigV4AuthType: 'default',
      sigV4Region: '$AWS_REGION',
    });
    expect(amp.secureJsonData).toBeUndefined();
  });

  it('no secret is written into a file: every credential is a $VARIABLE', () => {
    for (const file of DATASOURCE_FILES)
      for (const d of dataSources(file).values())
        for (const [k, v] of Object.entries(d.secureJsonData ?? {}))
          expect(String(v), `${file} ${d.uid} ${k}`).toMatch(/^\$[A-Z_]+$/);
  });
});

describe('dashboards provisioning and compose.yaml', () => {
  const compose = read('compose.yaml') as {
    services: {
      grafana: { image: string; environment: Record<string, string>; volumes: string[] };
    };
  };
  const grafana = compose.services.grafana;
  const mounts = new Map(
    grafana.volumes.map((v) => {
      const [host, container] = v.split(':');
      return [container as string, host as string];
    }),
  );
  const provider = (
    read('provisioning/dashboards/copilot.yaml') as {
      apiVersion: number;
      providers: { type: string; options: { path: string } }[];
    }
  ).providers[0];

  it('runs a pinned Grafana with the Infinity plugin installed before it starts', () => {
    expect(grafana.image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    expect(grafana.environment.GF_PLUGINS_PREINSTALL_SYNC?.split(',')).toContain(INFINITY_TYPE);
  });

  it('mounts both provisioning folders where Grafana reads them', () => {
    expect(mounts.get('/etc/grafana/provisioning/datasources')).toBe('./provisioning/datasources');
    expect(mounts.get('/etc/grafana/provisioning/dashboards')).toBe('./provisioning/dashboards');
    for (const host of mounts.values()) expect(existsSync(join(GRAFANA, host)), host).toBe(true);
  });

  it('mounts the generated dashboards where the file provider looks', () => {
    expect(provider?.type).toBe('file');
    const host = mounts.get(provider?.options.path ?? '');
    expect(host, 'the provider path is not mounted').toBeDefined();
    expect(relative(GRAFANA, DASHBOARD_DIR)).toBe(posix.normalize(host as string));
    const home = grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? '';
    expect(posix.dirname(home)).toBe(provider?.options.path);
    expect(existsSync(join(DASHBOARD_DIR, posix.basename(home))), home).toBe(true);
  });

  it('sets every variable the mounted data-source file reads', () => {
    // The parsed values, not the text: comments may mention variables the file does not read.
    const needed = envNames(JSON.stringify(read(DATASOURCE_FILES[0] as string)));
    expect([...needed].sort()).toEqual(['COPILOT_API_URL', 'PROMETHEUS_URL']);
    for (const name of needed)
      expect(grafana.environment[name], `compose.yaml does not set ${name}`).toBeDefined();
    // The default API URL is copilot dev's, with no trailing slash (Infinity appends the paths).
    expect(grafana.environment.COPILOT_API_URL).toBe(`\${COPILOT_API_URL:-http://127.0.0.1:8080}`);
  });
});
