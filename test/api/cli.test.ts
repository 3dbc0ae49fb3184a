import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProblemSchema, StatusResponseSchema } from '../../shared/api/schemas.js';
import { type SeededStore, startSeededStore, TEST_API_KEY } from './support.js';

/** Runs `copilot api` in a child process; resolves with its URL once it says it serves. */
function startCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/copilot.ts', 'api', ...args], {
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /serving (http:\/\/\S+)/.exec(out);
      if (m?.[1] !== undefined) resolve({ child, url: m[1], stderr: () => err });
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`copilot api exited ${code}: ${err}`)));
  });
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

/** Serves with `args`, runs `fn` against the URL, then stops the server with SIGINT (exit 0). */
async function serving(
  args: string[],
  env: NodeJS.ProcessEnv,
  fn: (url: string, stderr: () => string) => Promise<void>,
): Promise<void> {
  const { child, url, stderr } = await startCli(args, env);
  try {
    await fn(url, stderr);
  } finally {
    child.kill('SIGINT');
  }
  expect(await exitCode(child)).toBe(0);
}

describe('copilot api', () => {
  let seeded: SeededStore;
  const dirs: string[] = [];
  const scratch = () => {
    const dir = mkdtempSync(join(tmpdir(), 'copilot-api-cli-'));
    dirs.push(dir);
    return dir;
  };
  beforeAll(async () => {
    seeded = await startSeededStore();
  });
  afterAll(async () => {
    await seeded?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the store it is given, requires COPILOT_API_KEY when set, and stops on SIGINT', async () => {
    await serving(
      ['--port', '0', '--database-url', seeded.pg.url],
      { COPILOT_API_KEY: TEST_API_KEY },
      async (url) => {
        expect((await fetch(`${url}/status`)).status).toBe(401);
        const res = await fetch(`${url}/status`, { headers: { 'x-api-key': TEST_API_KEY } });
        expect(res.status).toBe(200);
        const status = StatusResponseSchema.parse(await res.json());
        const newest = seeded.evaluations.at(-1)?.observedAt;
        expect(status.timestamp).toBe(new Date(newest ?? 0).toISOString());
      },
    );
  });

  it('serves loopback without a key', async () => {
    await serving(
      ['--port', '0', '--host', '127.0.0.1', '--database-url', seeded.pg.url],
      { COPILOT_API_KEY: '' },
      async (url) => {
        expect((await fetch(`${url}/clusters`)).status).toBe(200);
      },
    );
  });

  it('refuses to serve beyond loopback without a key, or with one shorter than 16 characters', async () => {
    await expect(
      startCli(['--host', '0.0.0.0', '--database-url', seeded.pg.url], { COPILOT_API_KEY: '' }),
    ).rejects.toThrow(
      /^copilot api exited 2: copilot: set COPILOT_API_KEY \(at least 16 characters\) to serve the API on 0\.0\.0\.0: /,
    );
    await expect(
      startCli(['--host', '0.0.0.0', '--database-url', seeded.pg.url], { COPILOT_API_KEY: 'k' }),
    ).rejects.toThrow(
      /^copilot api exited 2: copilot: COPILOT_API_KEY must be at least 16 characters \(it has 1\)\n$/,
    );
    // 15 characters: one short of the Lambda's rule, which the local server shares.
    await expect(
      startCli(['--host', '0.0.0.0', '--database-url', seeded.pg.url], {
        COPILOT_API_KEY: 'k'.repeat(15),
      }),
    ).rejects.toThrow(/exited 2: .*at least 16 characters \(it has 15\)/);
  });

  it('serves beyond loopback with a key of 16 characters, and only to callers who send it', async () => {
    const key = 'k'.repeat(16);
    await serving(
      ['--port', '0', '--host', '0.0.0.0', '--database-url', seeded.pg.url],
      { COPILOT_API_KEY: key },
      async (url) => {
        expect(url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
        const port = new URL(url).port;
        expect((await fetch(`http://127.0.0.1:${port}/clusters`)).status).toBe(401);
        const ok = await fetch(`http://127.0.0.1:${port}/clusters`, {
          headers: { 'x-api-key': key },
        });
        expect(ok.status).toBe(200);
      },
    );
  });

  it('exits 2 naming the command to run when the data directory holds no store, and creates none', async () => {
    const dir = scratch();
    const missing = join(dir, 'nowhere');
    const error = await startCli(['--port', '0', '--data-dir', missing], {}).catch(
      (e: unknown) => e as Error,
    );
    expect((error as Error).message).toBe(
      `copilot api exited 2: copilot: no embedded store in ${missing}: create it with ` +
        `\`copilot db setup-schema --data-dir ${missing}\` or run \`copilot dev --data-dir ${missing}\`\n`,
    );
    expect(existsSync(missing)).toBe(false);
    // An empty directory is no store either, and stays empty.
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    await expect(startCli(['--port', '0', '--data-dir', empty], {})).rejects.toThrow(
      /exited 2: copilot: no embedded store in /,
    );
    expect(readdirSync(empty)).toEqual([]);
  });

  it('answers 503 saying to run copilot db setup-schema from a store that was never set up', async () => {
    const dir = join(scratch(), 'bare');
    // A PGlite database with no copilot schema: what a bare initdb leaves.
    await (await PGlite.create(dir)).close();
    await serving(['--port', '0', '--data-dir', dir], { COPILOT_API_KEY: '' }, async (url) => {
      for (const path of ['/status', '/status/timeline', '/clusters']) {
        const res = await fetch(`${url}${path}`);
        expect(res.status, path).toBe(503);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        const problem = ProblemSchema.parse(await res.json());
        expect(problem).toMatchObject({ degraded: true, title: 'State store not set up' });
        expect(problem.detail).toContain('copilot db setup-schema');
      }
    });
  });
});
