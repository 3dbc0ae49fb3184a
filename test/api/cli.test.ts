import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StatusResponseSchema } from '../../shared/api/schemas.js';
import { type SeededStore, startSeededStore, TEST_API_KEY } from './support.js';

/** Starts `copilot api` in a child process and resolves with its URL once it says it serves. */
function startCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; url: string }> {
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
      if (m?.[1] !== undefined) resolve({ child, url: m[1] });
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

describe('copilot api', () => {
  let seeded: SeededStore;
  beforeAll(async () => {
    seeded = await startSeededStore();
  });
  afterAll(async () => {
    await seeded?.stop();
  });

  it('serves the store it is given, requires COPILOT_API_KEY when set, and stops on SIGINT', async () => {
    const { child, url } = await startCli(['--port', '0', '--database-url', seeded.pg.url], {
      COPILOT_API_KEY: TEST_API_KEY,
    });
    try {
      expect((await fetch(`${url}/status`)).status).toBe(401);
      const res = await fetch(`${url}/status`, { headers: { 'x-api-key': TEST_API_KEY } });
      expect(res.status).toBe(200);
      const status = StatusResponseSchema.parse(await res.json());
      expect(status.health_state).toBe(seeded.evaluations.at(-1)?.state);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exitCode(child)).toBe(0);
  });

  it('refuses to serve beyond 127.0.0.1 without a key', async () => {
    await expect(
      startCli(['--host', '0.0.0.0', '--database-url', seeded.pg.url], { COPILOT_API_KEY: '' }),
    ).rejects.toThrow(/exited 2: copilot: set COPILOT_API_KEY to serve the API on 0.0.0.0/);
  });
});
