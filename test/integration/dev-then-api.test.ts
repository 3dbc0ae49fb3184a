import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type CopilotProcess,
  evaluationLines,
  newUserEnv,
  processesMentioning,
  startCopilot,
} from '../support/copilot-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'copilot-dev-api-'));
const started: CopilotProcess[] = [];
afterAll(() => {
  // Only after a failed test is anything left: do not let it outlive the run.
  for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  for (const pid of processesMentioning(dir)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function copilot(args: readonly string[], extra: NodeJS.ProcessEnv = {}): CopilotProcess {
  const p = startCopilot(args, newUserEnv(extra));
  started.push(p);
  return p;
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/**
 * `--data-dir` means the same directory to every command: what `copilot dev` stored there,
 * `copilot api` serves once dev has stopped (it used to open a new empty database inside dev's
 * folder and answer every request with a 500).
 */
describe('copilot dev, stopped, then copilot api on the same --data-dir', () => {
  it('serves the cluster and the evaluations dev printed', async () => {
    const store = join(dir, 'store');
    const dev = copilot(['dev', '--data-dir', store, '--interval', '1', '--api-port', '0']);
    await dev.waitFor((out) => (evaluationLines(out).length >= 2 ? true : undefined));
    dev.child.kill('SIGINT');
    expect(await dev.exited, dev.output()).toBe(0);
    const printed = evaluationLines(dev.output());
    expect(printed.length, dev.output()).toBeGreaterThanOrEqual(2);

    let newestState: unknown;
    const api = copilot(['api', '--data-dir', store, '--port', '0']);
    const url = await api.waitFor((out) => /serving (http:\/\/\S+)/.exec(out)?.[1]);
    try {
      // The very directory dev was given: not a `data` folder inside it (the old layout).
      expect(api.output()).toContain(`(store embedded PGlite in ${store}, no API key)`);
      expect(api.stderr()).toBe('');
      const timeline = await getJson(`${url}/status/timeline`);
      expect(timeline.status, JSON.stringify(timeline.body)).toBe(200);
      expect(timeline.body.cluster).toBe('local');
      const stored = (timeline.body.timeline as { timestamp: string }[]).map((e) => e.timestamp);
      // Every cycle dev printed is stored (dev may have stored one more before it stopped).
      for (const line of printed) expect(stored).toContain(line.timestamp);
      newestState = (timeline.body.timeline as { health_state: string }[]).at(-1)?.health_state;

      const status = await getJson(`${url}/status`);
      expect(status.status, JSON.stringify(status.body)).toBe(200);
      expect(status.body.cluster).toBe('local');
      expect(status.body.timestamp).not.toBeNull();
      expect(status.body.timestamp).toBe(stored.at(-1));
    } finally {
      api.child.kill('SIGINT');
    }
    expect(await api.exited, api.output()).toBe(0);

    // Old enough, the same rows are served as what they are: the copilot stopped observing. (A
    // limit of a fraction of the 1 s cadence and no floor, so the test need not wait a minute.)
    const later = copilot(['api', '--data-dir', store, '--port', '0'], {
      COPILOT_STALE_AFTER_INTERVALS: '0.001',
      COPILOT_STALE_AFTER_MIN_SECONDS: '0',
    });
    const laterUrl = await later.waitFor((out) => /serving (http:\/\/\S+)/.exec(out)?.[1]);
    try {
      const status = await getJson(`${laterUrl}/status`);
      expect(status.status, JSON.stringify(status.body)).toBe(200);
      expect(status.body).toMatchObject({
        cluster: 'local',
        health_state: 'unknown',
        reason: 'stale',
        stale: true,
        last_known_state: newestState,
      });
      const summary = await getJson(`${laterUrl}/status/summary`);
      expect(summary.body.summary).toMatch(/has not evaluated cluster "local"/);
    } finally {
      later.child.kill('SIGINT');
    }
    expect(await later.exited, later.output()).toBe(0);
  });
});
