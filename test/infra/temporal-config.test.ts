import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEMPORAL_FRONTEND_PORT, TEMPORAL_SERVER_IMAGE } from '../../lib/temporal-server.js';
import { buildTestApp, configFromCdkJson, containerOf, removeOutdirs } from './support.js';

/*
 * The copilot's Temporal server runs the official `temporalio/server` image, configured only by
 * environment variables its entrypoint renders into `config_template.yaml` (dockerize). The prior
 * art's deployment set variables its code no longer read; here the environment our task
 * definition gives the server container is rendered through the very template of the pinned
 * server version (from the Go module proxy: `go.temporal.io/server` at the image's tag) and loaded
 * and validated by the server's own config loader (test/infra/temporal-config, Go). No Go
 * toolchain is a failure, not a skip: CI has one (it builds the Temporal CLI).
 */

const exec = promisify(execFile);
const TOOL_DIR = join(import.meta.dirname, 'temporal-config');
const GO = process.env.GO_BIN ?? 'go';

/** What the image's entrypoint adds: the task's own address to bind on. */
const ENTRYPOINT = { BIND_ON_IP: '10.0.1.23' };
const DB_HOST = 'temporal-db.cluster-abc.eu-west-1.rds.amazonaws.com';
const SECRETS: Record<string, string> = { POSTGRES_USER: 'temporal', POSTGRES_PWD: 's3cret' };

interface SqlStore {
  pluginName: string;
  databaseName: string;
  connectAddr: string;
  user: string;
  passwordSet: boolean;
  tlsEnabled: boolean;
  enableHostVerification: boolean;
}
interface ServerConfig {
  error?: string;
  logLevel: string;
  numHistoryShards: number;
  defaultStore: string;
  visibilityStore: string;
  stores: Record<string, SqlStore>;
  frontendGrpcPort: number;
  broadcastAddress: string;
}

let dir: string;
let tool: string;
let template: string;
let templateText: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copilot-temporal-config-'));
  tool = join(dir, 'temporal-config');
  try {
    await exec(GO, ['build', '-o', tool, '.'], { cwd: TOOL_DIR, maxBuffer: 16 * 2 ** 20 });
    const { stdout } = await exec(GO, ['list', '-m', '-f', '{{.Dir}}', 'go.temporal.io/server'], {
      cwd: TOOL_DIR,
    });
    template = join(stdout.trim(), 'docker', 'config_template.yaml');
    templateText = await readFile(template, 'utf8');
  } catch (error) {
    throw new Error(
      `cannot build test/infra/temporal-config with ${GO} (Go toolchain and the Go module proxy are needed): ${String(error)}`,
    );
  }
}, 300_000);

afterAll(async () => {
  removeOutdirs();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** The server container's environment as ECS would start it: values resolved, secrets filled. */
function serverEnvironment(t: Template): Record<string, string> {
  const server = containerOf(t, 'Server');
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(server.environment))
    env[name] = value.endsWith('.Endpoint.Address>')
      ? DB_HOST
      : value.endsWith('.Endpoint.Port>')
        ? '5432'
        : value;
  for (const name of server.secrets) {
    const secret = SECRETS[name];
    if (secret === undefined) throw new Error(`no sample value for the secret ${name}`);
    env[name] = secret;
  }
  return env;
}

async function load(env: Record<string, string>): Promise<ServerConfig> {
  const child = exec(tool, [template], { maxBuffer: 16 * 2 ** 20 });
  child.child.stdin?.end(JSON.stringify({ ...ENTRYPOINT, ...env }));
  return JSON.parse((await child).stdout) as ServerConfig;
}

describe("the Temporal server's environment, through the image's own template and loader", () => {
  const presets = {
    dev: Template.fromStack(buildTestApp().copilot),
    prod: Template.fromStack(buildTestApp(configFromCdkJson({ preset: 'prod' })).copilot),
  };

  it('pins the template to the image it configures', async () => {
    const goMod = await readFile(join(TOOL_DIR, 'go.mod'), 'utf8');
    const tag = TEMPORAL_SERVER_IMAGE.split(':')[1];
    expect(goMod).toContain(`go.temporal.io/server v${tag}\n`);
  });

  it.each(Object.keys(presets))(
    '%s: every variable the deployment sets is one the template reads',
    (preset) => {
      const env = serverEnvironment(presets[preset as keyof typeof presets]);
      const read = new Set([...templateText.matchAll(/\.Env\.([A-Z0-9_]+)/g)].map((m) => m[1]));
      expect(read.size).toBeGreaterThan(50);
      expect(Object.keys(env).filter((name) => !read.has(name))).toEqual([]);
    },
  );

  it.each(Object.keys(presets))(
    '%s: the server runs PostgreSQL persistence and visibility on our database, over TLS',
    async (preset) => {
      const config = await load(serverEnvironment(presets[preset as keyof typeof presets]));
      expect(config.error, JSON.stringify(config)).toBeUndefined();
      const { stores } = config;
      const store = stores[config.defaultStore];
      const visibility = stores[config.visibilityStore];
      for (const s of [store, visibility])
        expect(s).toMatchObject({
          pluginName: 'postgres12',
          connectAddr: `${DB_HOST}:5432`,
          user: 'temporal',
          passwordSet: true,
          tlsEnabled: true,
        });
      expect(store?.databaseName).toBe('temporal');
      expect(visibility?.databaseName).toBe('temporal_visibility');
      expect(config).toMatchObject({
        logLevel: 'warn',
        numHistoryShards: 4,
        frontendGrpcPort: TEMPORAL_FRONTEND_PORT,
      });
    },
  );

  it('would notice a deployment that lost its database variable: the image falls back to Cassandra, which the server refuses', async () => {
    const { DB: _, ...withoutDb } = serverEnvironment(presets.dev);
    const config = await load(withoutDb);
    expect(config.error).toMatch(/Cassandra\.Hosts: zero value/);
  });
});
