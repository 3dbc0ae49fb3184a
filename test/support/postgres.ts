import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../worker/free-port.js';

/** A PostgreSQL server for tests: its URL, and how to stop it. */
export interface TestPostgres {
  readonly url: string;
  /** True when this helper started the server (false for `TEST_DATABASE_URL`). */
  readonly owned: boolean;
  stop(): Promise<void>;
}

const PG_BIN_DIRS = ['/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin'];

function pgBin(name: string): string {
  for (const dir of PG_BIN_DIRS) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new Error(
    `PostgreSQL's ${name} not found in ${PG_BIN_DIRS.join(' or ')}: install the Debian postgresql package or set TEST_DATABASE_URL`,
  );
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a PostgreSQL binary, as the `postgres` OS user when we are root (initdb refuses root). */
function runPg(bin: string, args: string[]): void {
  const [cmd, argv] = isRoot()
    ? (['runuser', ['-u', 'postgres', '--', pgBin(bin), ...args]] as const)
    : ([pgBin(bin), args] as const);
  const result = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`${bin} failed (${result.status}): ${result.stderr || result.stdout}`);
}

/**
 * A PostgreSQL for one test file: `TEST_DATABASE_URL` when set, else a throwaway cluster (initdb
 * in a temp dir, trust auth, a free port on 127.0.0.1, its socket in the temp dir). Call `stop()`
 * in `afterAll`; it removes the directory.
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  const external = process.env.TEST_DATABASE_URL;
  if (external !== undefined && external !== '')
    return { url: external, owned: false, stop: async () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'copilot-pg-'));
  chmodSync(dir, 0o755);
  if (isRoot()) execFileSync('chown', ['postgres:postgres', dir]);
  const data = join(dir, 'data');
  const port = await freePort();
  runPg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  runPg('pg_ctl', [
    '-D',
    data,
    '-l',
    join(dir, 'server.log'),
    '-w',
    '-o',
    // fsync off: a throwaway test cluster needs no durability, and it spares the shared disk.
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`,
    'start',
  ]);
  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    owned: true,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        runPg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
