import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopper } from './process.js';

/**
 * A real local S3 (and CloudFormation) for tests: moto's server (`python3 -m moto.server`, from PyPI,
 * installed by scripts/provision.sh), reached by the real SDK clients with path-style addressing.
 * See docs/knowledge-base.md for why moto and not an npm S3 stand-in.
 */
export interface Moto {
  readonly url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startMoto(): Promise<Moto> {
  const dir = mkdtempSync(join(tmpdir(), 'copilot-moto-'));
  const port = await freePort();
  const child = spawn(
    process.env.MOTO_PYTHON ?? 'python3',
    ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)],
    {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const stop = stopper(child, dir);
  const url = `http://127.0.0.1:${port}`;
  // moto answers its own dashboard route once Flask is up (typically ~1 s).
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) break;
    const up = await fetch(`${url}/moto-api/`)
      .then((r) => r.ok)
      .catch(() => false);
    if (up) return { url, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(
    `moto_server did not start on ${url} (is it installed? scripts/provision.sh): ${stderr}`,
  );
}
