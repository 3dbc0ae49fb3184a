import { execFileSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The Temporal CLI (which runs the dev server) could not be found. */
export class TemporalCliNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemporalCliNotFoundError';
  }
}

const INSTALL_HINT =
  'install it with `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` (Go >= 1.22; later ' +
  'releases carry a replace directive and cannot be go-installed), or `npm test` runs ' +
  'scripts/provision.sh, or point TEMPORAL_CLI_PATH at an existing binary';

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function goPathBin(): string | undefined {
  try {
    const gopath = execFileSync('go', ['env', 'GOPATH'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    }).trim();
    // GOPATH may list several directories; `go install` writes to the first one's bin.
    const first = gopath.split(delimiter)[0];
    return first === undefined || first === '' ? undefined : join(first, 'bin', 'temporal');
  } catch {
    return undefined;
  }
}

/**
 * The path of the Temporal CLI: `TEMPORAL_CLI_PATH` when set (and then it must be executable —
 * a wrong explicit path is an error, not a reason to guess), else `temporal` on `PATH`, else
 * `$(go env GOPATH)/bin/temporal`, where `go install` puts it. Throws
 * {@link TemporalCliNotFoundError} naming every place it looked and how to install it.
 */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.TEMPORAL_CLI_PATH;
  if (explicit !== undefined && explicit !== '') {
    if (isExecutableFile(explicit)) return explicit;
    throw new TemporalCliNotFoundError(
      `TEMPORAL_CLI_PATH=${explicit} is not an executable file; ${INSTALL_HINT}`,
    );
  }
  const looked: string[] = [];
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'temporal');
    if (isExecutableFile(candidate)) return candidate;
  }
  looked.push('temporal on PATH');
  const fromGo = goPathBin();
  if (fromGo !== undefined) {
    if (isExecutableFile(fromGo)) return fromGo;
    looked.push(fromGo);
  } else {
    looked.push('$(go env GOPATH)/bin/temporal (go not found)');
  }
  throw new TemporalCliNotFoundError(
    `Temporal CLI not found (TEMPORAL_CLI_PATH unset; looked for ${looked.join(', ')}); ${INSTALL_HINT}`,
  );
}
