import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * The `stop()` of a test server process: SIGTERM, SIGKILL if it is still running 10 s later, then
 * its scratch directory removed. Idempotent: every call shares the first call's promise.
 */
export function stopper(child: ChildProcess, dir: string): () => Promise<void> {
  let stopped: Promise<void> | undefined;
  return () => {
    stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited(child);
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
}

/** A child process's output as it arrives, and waits on it. */
export interface WatchedProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr interleaved, as they arrived. */
  output(): string;
  /** Its exit code (null when a signal ended it), once it has exited. */
  readonly exited: Promise<number | null>;
  /**
   * Resolves with the first non-undefined value `find` returns for the text so far (`stdout`, or
   * the interleaved `output`), checked on every chunk; rejects when the process exits first, with
   * everything it printed.
   */
  waitFor<T>(find: (text: string) => T | undefined, text?: 'stdout' | 'output'): Promise<T>;
}

/** Collects a spawned child's stdout and stderr; `label` names it in a failed wait. */
export function watchProcess(child: ChildProcess, label: string): WatchedProcess {
  let out = '';
  let err = '';
  let all = '';
  let done = false;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
    all += b.toString();
    wake();
  });
  child.stderr?.on('data', (b: Buffer) => {
    err += b.toString();
    all += b.toString();
    wake();
  });
  const exitCode = new Promise<number | null>((resolve) => {
    child.once('close', (code) => {
      done = true;
      resolve(code);
      wake();
    });
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    output: () => all,
    exited: exitCode,
    waitFor<T>(find: (text: string) => T | undefined, text: 'stdout' | 'output' = 'stdout') {
      return new Promise<T>((resolve, reject) => {
        const check = () => {
          const found = find(text === 'stdout' ? out : all);
          if (found !== undefined) {
            waiters.delete(check);
            resolve(found);
          } else if (done) {
            waiters.delete(check);
            reject(new Error(`${label} exited (${child.exitCode}) first:\n${all}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}
