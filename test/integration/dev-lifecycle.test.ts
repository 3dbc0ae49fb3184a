import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type CopilotProcess,
  commandLine,
  listenersOn,
  newUserEnv,
  processesMentioning,
  startCopilot,
} from '../support/copilot-cli.js';

const dirs: string[] = [];
const started: CopilotProcess[] = [];
afterAll(() => {
  // Only after a failed test is anything left: do not let it outlive the run.
  for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  for (const dir of dirs) {
    for (const pid of processesMentioning(dir)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'copilot-dev-life-'));
  dirs.push(dir);
  return dir;
}

function dev(args: readonly string[]): CopilotProcess {
  const p = startCopilot(['dev', '--interval', '1', ...args], newUserEnv());
  started.push(p);
  return p;
}

/**
 * What the copilot itself printed: every line but the Temporal dev server's own, which shares the
 * terminal (its banner, and `time=… level=…` log lines while it shuts down).
 */
function copilotLines(output: string): string[] {
  return output.split('\n').filter((l) => l.startsWith('copilot') || l.startsWith('{'));
}

/** The Temporal dev server's frontend and metrics ports, from the lines copilot dev printed. */
function temporalPorts(output: string): number[] {
  const metrics = /metrics on :(\d+)/.exec(output)?.[1];
  const frontend = /Temporal at [^\s,]+:(\d+)/.exec(output)?.[1];
  return [metrics, frontend].filter((p) => p !== undefined).map(Number);
}

/** Nothing `copilot dev` started in `dir` is left: no process naming it, no listener it opened. */
function expectNothingLeft(dir: string, ports: readonly number[], output: string): void {
  expect(processesMentioning(dir), output).toEqual([]);
  const left = listenersOn(ports).map((l) => `:${l.port} held by ${commandLine(l.pid)}`);
  expect(left, output).toEqual([]);
}

describe('copilot dev stops what it started', () => {
  let blocker: Server | undefined;
  afterAll(async () => {
    await new Promise((resolve) => blocker?.close(resolve) ?? resolve(undefined));
  });

  it('exits non-zero with one line, and leaves no process or port, when its API port is taken', async () => {
    blocker = createServer();
    const taken = await new Promise<number>((resolve) =>
      blocker?.listen(0, '127.0.0.1', () => {
        const address = blocker?.address();
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      }),
    );
    const dir = scratch();
    const p = dev(['--data-dir', join(dir, 'store'), '--api-port', String(taken)]);
    const code = await p.exited;
    const out = p.output();
    expect(code, out).not.toBe(0);
    expect(copilotLines(p.stderr()), out).toEqual([
      expect.stringMatching(
        new RegExp(
          `^copilot: cannot serve the API on 127\\.0\\.0\\.1:${taken}: .*EADDRINUSE.*--api-port`,
        ),
      ),
    ]);
    // It got as far as a running Temporal dev server before the API failed: that is what must go.
    const ports = temporalPorts(out);
    expect(ports, out).toHaveLength(2);
    expectNothingLeft(dir, ports, out);
  });

  it('stops everything on SIGINT while it is still starting', async () => {
    const dir = scratch();
    const p = dev(['--data-dir', join(dir, 'store'), '--api-port', '0']);
    // The Temporal dev server is being started: the step in flight completes, then unwinds.
    await p.waitFor((out) => (out.includes('starting a Temporal dev server') ? true : undefined));
    p.child.kill('SIGINT');
    const code = await p.exited;
    const out = p.output();
    expect(code, out).toBe(0);
    expect(copilotLines(out).at(-1), out).toBe('copilot dev: stopped');
    expect(out).not.toContain('observing cluster');
    expectNothingLeft(dir, temporalPorts(out), out);
  });

  it('stops everything on SIGTERM once it runs, and exits 0', async () => {
    const dir = scratch();
    const p = dev(['--data-dir', join(dir, 'store'), '--api-port', '0']);
    await p.waitFor((out) => (out.includes('{"timestamp"') ? true : undefined));
    const apiPort = Number(/JSON API on http:\/\/127\.0\.0\.1:(\d+)/.exec(p.output())?.[1]);
    expect(listenersOn([apiPort]), p.output()).toHaveLength(1);
    p.child.kill('SIGTERM');
    const code = await p.exited;
    const out = p.output();
    expect(code, out).toBe(0);
    expect(copilotLines(out).slice(-2), out).toEqual([
      'copilot dev: stopping …',
      'copilot dev: stopped',
    ]);
    expect(copilotLines(p.stderr()), out).toEqual([]);
    const ports = temporalPorts(out);
    expect(ports, out).toHaveLength(2);
    expectNothingLeft(dir, [...ports, apiPort], out);
  });
});
