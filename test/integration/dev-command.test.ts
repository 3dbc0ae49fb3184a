import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newUserEnv } from '../support/copilot-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'copilot-dev-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * `npm start` is `copilot dev`: a new user must see a live evaluation of the embedded Temporal
 * server — real dev server, real PGlite store, real worker, its own /metrics scraped — and Ctrl-C
 * must stop everything cleanly.
 */
describe('copilot dev', () => {
  it('prints live evaluations of its own Temporal server and stops cleanly on SIGINT', async () => {
    const env = newUserEnv();
    const child = spawn(
      process.execPath,
      [
        'bin/copilot.js',
        'dev',
        '--data-dir',
        join(dir, '.copilot'),
        '--interval',
        '2',
        '--api-port',
        '0',
      ],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      out += b.toString();
    });
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );

    const lines = await new Promise<Record<string, unknown>[]>((resolve, reject) => {
      const timer = setInterval(() => {
        const evaluations = out
          .split('\n')
          .filter((l) => l.startsWith('{"timestamp"'))
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        if (evaluations.length >= 2) {
          clearInterval(timer);
          resolve(evaluations);
        }
      }, 250);
      void exited.then((code) => {
        clearInterval(timer);
        reject(new Error(`copilot dev exited early (${code}):\n${out}`));
      });
    });
    // The JSON API serves what the worker stored, on the same store.
    const apiUrl = /JSON API on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    expect(apiUrl, out).toBeDefined();
    const status = (await (await fetch(`${apiUrl}/status`)).json()) as Record<string, unknown>;
    expect(['happy', 'unknown']).toContain(status.health_state);
    expect(status).toMatchObject({ cluster: 'local', scale_band: expect.any(String) });
    child.kill('SIGINT');
    const code = await exited;
    expect(code, out).toBe(0);
    expect(out).toContain('copilot dev: stopped');
    for (const line of lines) {
      expect(line).toMatchObject({
        scale_band: expect.any(String),
        fired_gates: expect.any(Array),
      });
      // The embedded server carries only the copilot's own workflows: never stressed or critical.
      expect(['happy', 'unknown']).toContain(line.health_state);
    }
    expect(lines.some((l) => l.health_state === 'happy')).toBe(true);
  });
});

describe('copilot dev --demo', () => {
  it('goes from happy to stressed and worker-limited when the demo workers are starved', async () => {
    const child = spawn(
      process.execPath,
      [
        'bin/copilot.js',
        'dev',
        '--demo',
        '--data-dir',
        join(dir, '.copilot-demo'),
        '--interval',
        '2',
        '--demo-starve-after',
        '15',
        '--api-port',
        '0',
      ],
      { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      out += b.toString();
    });
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    const evaluations = () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{"timestamp"'))
        .map(
          (l) =>
            JSON.parse(l) as { health_state: string; bottleneck: string; fired_gates: string[] },
        );
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (
          evaluations().some(
            (e) => e.health_state === 'stressed' && e.bottleneck === 'worker_limited',
          )
        ) {
          clearInterval(timer);
          resolve();
        }
      }, 500);
      void exited.then((code) => {
        clearInterval(timer);
        reject(new Error(`copilot dev --demo exited early (${code}):\n${out}`));
      });
    });
    child.kill('SIGINT');
    expect(await exited, out).toBe(0);
    const es = evaluations();
    const firstStarved = es.findIndex((e) => e.health_state === 'stressed');
    expect(out).toContain('demo workers STARVED');
    // Happy before the switch; the first non-happy verdict blames the workers, not the server.
    expect(firstStarved, out).toBeGreaterThan(0);
    expect(es.slice(0, firstStarved).every((e) => e.health_state === 'happy')).toBe(true);
    expect(es[firstStarved]).toMatchObject({ bottleneck: 'worker_limited' });
    expect(es[firstStarved]?.fired_gates).toContain('stressed.schedule_to_start');
  });
});
