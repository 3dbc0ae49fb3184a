import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../worker/free-port.js';
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
  // No python3 at all is an 'error' event, not an exit: fail with what to install, not a crash.
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const stop = stopper(child, dir);
  const url = `http://127.0.0.1:${port}`;
  // moto answers its own dashboard route once Flask is up (typically ~1 s).
  for (let i = 0; i < 300; i++) {
    if (spawnError !== undefined) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(
        `cannot run ${process.env.MOTO_PYTHON ?? 'python3'} for moto_server (scripts/provision.sh installs it): ${spawnError.message}`,
      );
    }
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
