import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { answering, bedrockEnv, startFakeBedrock } from '../support/bedrock-server.js';
import { newUserEnv } from '../support/copilot-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'copilot-dev-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A running `copilot dev`: its output so far, and a wait for what it must print. */
interface Dev {
  readonly out: () => string;
  readonly exited: Promise<number | null>;
  /** Resolves with `check`'s value once it is defined; rejects if dev exits first. */
  until<T>(check: (out: string) => T | undefined, pollMs?: number): Promise<T>;
  stop(): Promise<number | null>;
}

function startDev(args: readonly string[], env: NodeJS.ProcessEnv): Dev {
  const child = spawn(process.execPath, ['bin/copilot.js', 'dev', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
  });
  child.stderr.on('data', (b: Buffer) => {
    out += b.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    out: () => out,
    exited,
    until: (check, pollMs = 250) =>
      new Promise((resolve, reject) => {
        const timer = setInterval(() => {
          const found = check(out);
          if (found !== undefined) {
            clearInterval(timer);
            resolve(found);
          }
        }, pollMs);
        void exited.then((code) => {
          clearInterval(timer);
          reject(new Error(`copilot dev exited early (${code}):\n${out}`));
        });
      }),
    stop: () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}

const evaluationsIn = (out: string) =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{"timestamp"'))
    .map(
      (l) =>
        JSON.parse(l) as {
          health_state: string;
          bottleneck: string;
          fired_gates: string[];
          scale_band: string;
        },
    );

/** The explanations dev printed: explainer, fallback note, summary, and the runbooks cited. */
const explainedIn = (out: string) =>
  [
    ...out.matchAll(
      /^copilot dev: explained \(([a-z]+)(?:; fallback: ([^)]*))?\): (.*)$(?:\ncopilot dev: {3}runbooks: (.*))?/gm,
    ),
  ].map((m) => ({
    explainer: m[1],
    fallback: m[2] ?? null,
    summary: m[3] ?? '',
    runbooks: m[4]?.split(', ') ?? [],
  }));

/**
 * `npm start` is `copilot dev`: a new user must see a live evaluation of the embedded Temporal
 * server — real dev server, real PGlite store, real worker, its own /metrics scraped — explained
 * by the rules with the runbooks they rest on, and Ctrl-C must stop everything cleanly.
 */
describe('copilot dev', () => {
  it('prints live evaluations of its own Temporal server, explained with runbooks, and stops cleanly on SIGINT', async () => {
    const dev = startDev(
      ['--data-dir', join(dir, '.copilot'), '--interval', '2', '--api-port', '0'],
      newUserEnv(),
    );
    const lines = await dev.until((out) => {
      const evaluations = evaluationsIn(out);
      return evaluations.length >= 2 && explainedIn(out).length >= 1 ? evaluations : undefined;
    });
    const out = dev.out();
    expect(out).toContain('copilot dev: explanations: rules, grounded in local runbooks');
    // The JSON API serves what the worker stored, on the same store.
    const apiUrl = /JSON API on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    expect(apiUrl, out).toBeDefined();
    const status = (await (await fetch(`${apiUrl}/status`)).json()) as Record<string, unknown>;
    expect(['happy', 'unknown']).toContain(status.health_state);
    expect(status).toMatchObject({ cluster: 'local', scale_band: expect.any(String) });
    const summary = (await (await fetch(`${apiUrl}/status/summary`)).json()) as {
      explainer: string;
      sources: { source: string }[];
      summary: string;
    };
    expect(await dev.stop(), dev.out()).toBe(0);
    expect(dev.out()).toContain('copilot dev: stopped');
    for (const line of lines) {
      expect(line).toMatchObject({
        scale_band: expect.any(String),
        fired_gates: expect.any(Array),
      });
      // The embedded server carries only the copilot's own workflows: never stressed or critical.
      expect(['happy', 'unknown']).toContain(line.health_state);
    }
    expect(lines.some((l) => l.health_state === 'happy')).toBe(true);
    // The first state, explained by the rules, grounded in the runbook corpus.
    const [first] = explainedIn(dev.out());
    expect(first?.explainer).toBe('rules');
    expect(first?.fallback).toBeNull();
    expect(first?.summary).toMatch(/^(Happy|Unknown): /);
    expect(first?.runbooks.length).toBeGreaterThan(0);
    for (const r of first?.runbooks ?? []) expect(r).toMatch(/^docs\/rag\/[a-z-]+\.md$/);
    expect(summary.explainer).toBe('rules');
    expect(summary.sources.length).toBeGreaterThan(0);
  });

  it('explains with Bedrock when given an endpoint override (the fake Converse server)', async () => {
    const fake = await startFakeBedrock({
      converse: answering('the dev server runs only the copilot itself.', {
        services: [{ service: 'history', narrative: 'History keeps up with a trickle.' }],
      }),
    });
    try {
      const dev = startDev(
        ['--data-dir', join(dir, '.copilot-bedrock'), '--interval', '2', '--api-port', '0'],
        newUserEnv(bedrockEnv(fake.url)),
      );
      const [first] = await dev.until((out) => {
        const x = explainedIn(out);
        return x.length >= 1 ? x : undefined;
      });
      expect(await dev.stop(), dev.out()).toBe(0);
      expect(dev.out()).toMatch(
        /copilot dev: explanations: bedrock in us-east-1 \(dispatcher us\.anthropic\.claude-sonnet-4-5-20250929-v1:0, researcher us\.anthropic\.claude-opus-4-6-v1;/,
      );
      expect(first).toMatchObject({ explainer: 'bedrock', fallback: null });
      expect(first?.summary).toMatch(
        /^(Happy|Unknown): the dev server runs only the copilot itself\.$/,
      );
      // Both conversations went to the override, signed.
      expect(fake.converse.map((c) => c.modelId).slice(0, 2)).toEqual([
        'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
        'us.anthropic.claude-opus-4-6-v1',
      ]);
      for (const c of fake.converse.slice(0, 2))
        expect(String(c.headers.authorization)).toMatch(
          /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/bedrock\/aws4_request/,
        );
    } finally {
      await fake.close();
    }
  });
});

describe('copilot dev --demo', () => {
  it('turns stressed and worker-limited once the demo workers are starved, never before, and says why', async () => {
    const dev = startDev(
      [
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
      process.env,
    );
    // The worker-limited verdict, and the words for it: its assessment lands a moment later, a
    // state change or, if the cluster was already stressed, a new cause held for two cycles.
    const stressed = await dev.until((out) => {
      const starved = evaluationsIn(out).some(
        (e) => e.health_state === 'stressed' && e.bottleneck === 'worker_limited',
      );
      const words = explainedIn(out).find((x) =>
        x.summary.includes('(stressed.schedule_to_start)'),
      );
      return starved ? words : undefined;
    }, 500);
    expect(await dev.stop(), dev.out()).toBe(0);
    const out = dev.out();
    const es = evaluationsIn(out);
    const switched = out.indexOf('demo workers STARVED');
    expect(switched).toBeGreaterThan(0);
    // Nothing blames the workers before they are starved; the first verdict that does comes after
    // the switch. (Happy before it, as a rule — but a machine loaded enough to slow the dev
    // server's own persistence makes it stressed for that, and the copilot rightly says so.) The
    // first blame may still be happy: worker-side evidence (slots exhausted, tasks waiting) names
    // the bottleneck a cycle or two before schedule-to-start stays past its gate.
    const blames = (e: (typeof es)[number]) =>
      e.bottleneck === 'worker_limited' || e.fired_gates.includes('stressed.schedule_to_start');
    const firstBlame = es.findIndex(blames);
    expect(firstBlame, out).toBeGreaterThan(0);
    expect(out.indexOf(JSON.stringify(es[firstBlame]))).toBeGreaterThan(switched);
    const verdicts = es.filter(
      (e) => e.health_state === 'stressed' && e.bottleneck === 'worker_limited',
    );
    expect(
      verdicts.some((e) => e.fired_gates.includes('stressed.schedule_to_start')),
      out,
    ).toBe(true);
    // The rules name the firing gate and cite a runbook written for it.
    expect(stressed.summary).toMatch(/^Stressed: /);
    expect(stressed.summary).toMatch(/Bottleneck: worker-limited\./);
    expect(stressed.summary).toMatch(/Runbook: "[^"]+"/);
    expect(
      stressed.runbooks.some((r) =>
        [
          'docs/rag/worker-scaling.md',
          'docs/rag/sticky-cache-tuning.md',
          'docs/rag/matching-backlog-and-sync-match.md',
        ].includes(r),
      ),
    ).toBe(true);
  });
});
