import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { watchProcess } from './process.js';

/** A `copilot …` process started as a user starts it (`node bin/copilot.js …`). */
export interface CopilotProcess {
  readonly child: ChildProcess;
  /** Everything it wrote so far, stdout and stderr interleaved. */
  output(): string;
  /** What it wrote to stderr so far. */
  stderr(): string;
  /**
   * Resolves with the first non-undefined value `find` returns for the output so far, checked on
   * every chunk; rejects when the process exits first (with its output, for the failure message).
   */
  waitFor<T>(find: (output: string) => T | undefined): Promise<T>;
  /** Its exit code (null when a signal ended it), once it has exited. */
  readonly exited: Promise<number | null>;
}

/** Starts `copilot <args>` from the project root with `env` (default: this process's). */
export function startCopilot(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): CopilotProcess {
  const child = spawn(process.execPath, ['bin/copilot.js', ...args], {
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const watched = watchProcess(child, `copilot ${args[0]}`);
  return {
    child,
    output: watched.output,
    stderr: watched.stderr,
    exited: watched.exited,
    waitFor: (find) => watched.waitFor(find, 'output'),
  };
}

/** What a finished `copilot …` run left: its exit code and everything it printed. */
export interface CopilotRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `copilot <args>` to completion as a user does (`node bin/copilot.js …` from the project
 * root), with `env` over this process's environment and `stdin` fed to it.
 */
export function runCopilot(
  args: readonly string[],
  options: { readonly env?: NodeJS.ProcessEnv; readonly stdin?: string } = {},
): Promise<CopilotRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/copilot.js', ...args], {
      env: { ...process.env, ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

/** The evaluation lines (`{"timestamp":…}`) `copilot dev` printed so far. */
export function evaluationLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{"timestamp"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * Pids of the live processes whose command line contains `needle` (e.g. a unique scratch
 * directory the Temporal dev server got in `--db-filename`). Zombies have an empty command line.
 */
export function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue; // it exited while we looked
    }
    if (cmdline.includes(needle)) pids.push(Number(entry));
  }
  return pids;
}

/** One listening TCP socket: its local port and, when visible, the pid that holds it. */
export interface Listener {
  readonly port: number;
  readonly pid: number | undefined;
}

/** The TCP sockets in LISTEN state (IPv4 and IPv6) on any of `ports`, with their owners. */
export function listenersOn(ports: readonly number[]): Listener[] {
  const inodes = new Map<string, number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is `ADDR:PORT` in hex; state 0A is LISTEN; column 9 is the socket inode.
      const port = Number.parseInt(cols[1]?.split(':')[1] ?? '', 16);
      if (cols[3] === '0A' && ports.includes(port)) inodes.set(cols[9] ?? '', port);
    }
  }
  if (inodes.size === 0) return [];
  const found: Listener[] = [];
  const owned = new Set<string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      const port = inode === undefined ? undefined : inodes.get(inode);
      if (inode !== undefined && port !== undefined && !owned.has(inode)) {
        owned.add(inode);
        found.push({ port, pid: Number(entry) });
      }
    }
  }
  for (const [inode, port] of inodes) if (!owned.has(inode)) found.push({ port, pid: undefined });
  return found;
}

/** The command line of a pid, for failure messages. */
export function commandLine(pid: number | undefined): string {
  if (pid === undefined) return '(owner not visible)';
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '(gone)';
  }
}

/**
 * The environment a new user has: no metrics source, store or API key configured (whatever the
 * machine running the tests has set).
 */
export function newUserEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of [
    'PROMETHEUS_URL',
    'AMP_WORKSPACE_URL',
    'COPILOT_SCRAPE_URLS',
    'COPILOT_DATABASE_URL',
    'COPILOT_DSQL_ENDPOINT',
    'COPILOT_DATA_DIR',
    'COPILOT_API_KEY',
    'COPILOT_EXPLAINER',
    'COPILOT_KB_ID',
  ])
    delete env[k];
  return { ...env, ...extra };
}
