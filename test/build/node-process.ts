import { type ChildProcess, spawn } from 'node:child_process';
import { watchProcess } from '../support/process.js';

/** A `node <file>` process of the production build, as its image or runtime starts it. */
export interface NodeProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /**
   * Resolves with the first non-undefined value `find` returns for the stdout so far, checked on
   * every chunk; rejects when the process exits first, with its output.
   */
  waitFor<T>(find: (stdout: string) => T | undefined): Promise<T>;
  /** Its exit code (null when a signal ended it), once it has exited. */
  readonly exited: Promise<number | null>;
}

/**
 * Starts `node <args>` with exactly `env` (plus PATH): nothing of the test process's environment
 * leaks in, as nothing but its task definition reaches a container.
 */
export function startNode(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
): NodeProcess {
  const child = spawn(process.execPath, [...args], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(cwd === undefined ? {} : { cwd }),
  });
  const watched = watchProcess(child, `node ${args.join(' ')}`);
  return {
    child,
    stdout: watched.stdout,
    stderr: watched.stderr,
    exited: watched.exited,
    waitFor: (find) => watched.waitFor(find, 'stdout'),
  };
}

/** Runs `node <args>` to completion with exactly `env`; its exit code and output. */
export async function runNode(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }> {
  const p = startNode(args, env, cwd);
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}
