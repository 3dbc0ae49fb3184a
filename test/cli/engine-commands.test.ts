import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluate } from '../../shared/health/engine.js';
import { SIGNAL_CATALOG } from '../../shared/signals/catalog.js';
import { HEALTHY, snapshot, withSpec } from '../helpers/snapshots.js';
import { runCopilot } from '../support/copilot-cli.js';

/** Runs `bin/copilot.js` as a user would, optionally feeding stdin. */
const copilot = (args: readonly string[], stdin?: string) =>
  runCopilot(args, stdin === undefined ? {} : { stdin });

const dir = mkdtempSync(join(tmpdir(), 'copilot-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, body: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(body));
  return path;
};

describe('copilot evaluate', () => {
  const stressed = snapshot(withSpec(HEALTHY, { persistenceLatencyP99: 640 }));

  it('prints the same evaluation the engine returns, from stdin', async () => {
    const r = await copilot(['evaluate', '--snapshot', '-'], JSON.stringify(stressed));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(JSON.stringify(evaluate(null, stressed))));
  });

  it('carries state from a file and prints one line with --format line', async () => {
    const carried = evaluate(null, snapshot(HEALTHY)).carried;
    const r = await copilot([
      'evaluate',
      '--snapshot',
      file('snap.json', stressed),
      '--carried',
      file('carried.json', carried),
      '--format',
      'line',
    ]);
    expect(r.code).toBe(0);
    const line = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(line).toMatchObject({
      health_state: 'stressed',
      reason: 'stressed_gates',
      bottleneck: 'server_limited',
      fired_gates: ['stressed.persistence_latency'],
    });
  });

  it('applies --config thresholds, and refuses a contradictory one with exit 2', async () => {
    const lenient = file('lenient.json', {
      overrides: { all: { stressedPersistenceLatencyP99MaxMs: 1000 } },
    });
    const ok = await copilot(
      ['evaluate', '--snapshot', '-', '--config', lenient, '--format', 'line'],
      JSON.stringify(stressed),
    );
    expect((JSON.parse(ok.stdout) as { health_state: string }).health_state).toBe('happy');
    const bad = file('bad.json', {
      overrides: { all: { criticalThroughputMinPerSec: 50, healthyThroughputMinPerSec: 1 } },
    });
    const r = await copilot(
      ['evaluate', '--snapshot', '-', '--config', bad],
      JSON.stringify(stressed),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/criticalThroughputMinPerSec \(50\) must not exceed/);
    expect(r.stdout).toBe('');
  });

  it('rejects a snapshot that is not one, naming where', async () => {
    const r = await copilot(
      ['evaluate', '--snapshot', '-'],
      JSON.stringify({ observedAt: 'soon' }),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid snapshot at observedAt/);
  });
});

describe('copilot catalog and thresholds', () => {
  it('lists every catalog signal as JSON', async () => {
    const r = await copilot(['catalog', '--format', 'json']);
    expect(r.code).toBe(0);
    const ids = (JSON.parse(r.stdout) as Array<{ id: string }>).map((s) => s.id);
    expect(ids).toEqual(SIGNAL_CATALOG.map((s) => s.id));
  });

  it("prints each band's resolved thresholds, overrides applied", async () => {
    const cfg = file('t.json', { overrides: { starter: { stressedShardChurnMaxPerSec: 9 } } });
    const r = await copilot(['thresholds', '--format', 'json', '--config', cfg]);
    expect(r.code).toBe(0);
    const t = JSON.parse(r.stdout) as Record<string, Record<string, number>>;
    expect(t.starter?.stressedShardChurnMaxPerSec).toBe(9);
    expect(t['mid-scale']?.stressedShardChurnMaxPerSec).toBe(5);
  });
});
