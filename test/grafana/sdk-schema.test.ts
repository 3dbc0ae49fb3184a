import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_DIR, loadDashboards } from './support/dashboards.js';

/*
 * The Foundation SDK's TypeScript package ships builders and types but no schema or decoder;
 * its Go module (same generator, same schema) has a strict decoder that refuses unknown fields,
 * wrong types and missing required fields, and knows the core panels' options and Prometheus
 * queries. test/grafana/sdk-roundtrip decodes each committed dashboard with it, validates it and
 * encodes it back; the result must be the very JSON we committed. The Go module comes from the
 * Go module proxy (go.sum pins it); the first build takes about half a minute, later ones are
 * cached. No Go toolchain is a failure, not a skip: CI has one (it builds the Temporal CLI).
 */

const exec = promisify(execFile);
const TOOL_DIR = join(import.meta.dirname, 'sdk-roundtrip');

let dir: string;
let tool: string;

interface RoundTrip {
  file: string;
  error?: string;
  roundTrip?: unknown;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copilot-grafana-sdk-'));
  tool = join(dir, 'sdk-roundtrip');
  const go = process.env.GO_BIN ?? 'go';
  try {
    await exec(go, ['build', '-o', tool, '.'], { cwd: TOOL_DIR, maxBuffer: 16 * 2 ** 20 });
  } catch (error) {
    throw new Error(
      `cannot build test/grafana/sdk-roundtrip with ${go} (Go toolchain and the Go module proxy are needed): ${String(error)}`,
    );
  }
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function roundTrip(files: readonly string[]): Promise<RoundTrip[]> {
  const { stdout } = await exec(tool, [...files], { maxBuffer: 64 * 2 ** 20 });
  return JSON.parse(stdout) as RoundTrip[];
}

describe('the Foundation SDK reads the committed dashboards back unchanged', () => {
  const dashboards = loadDashboards();

  it('there are four to read', () => {
    expect(dashboards.map((d) => d.file)).toHaveLength(4);
  });

  it.each(dashboards.map((d) => [d.file] as const))(
    '%s: strict decode, validation, same JSON',
    async (file) => {
      const path = join(DASHBOARD_DIR, file);
      const [result] = await roundTrip([path]);
      expect(result?.error, `the SDK refused ${file}`).toBeUndefined();
      const committed = JSON.parse(await readFile(path, 'utf8')) as unknown;
      expect(result?.roundTrip).toEqual(committed);
    },
  );

  it('refuses a field the schema does not know and a value of the wrong type', async () => {
    // Proof the decoder is strict, so the passes above mean something.
    const d = structuredClone(dashboards.find((x) => x.file === 'copilot.generated.json')?.json);
    const panel = d?.panels.find((p) => p.type === 'stat') as Record<string, unknown> | undefined;
    if (d === undefined || panel === undefined) throw new Error('no stat panel to break');
    panel.statusFilter = 'happy';
    (panel.options as Record<string, unknown>).colorMode = 42;
    const broken = join(dir, 'broken.json');
    await writeFile(broken, JSON.stringify(d));
    const [result] = await roundTrip([broken]);
    expect(result?.error).toContain("unexpected field 'statusFilter'");
    expect(result?.error).toContain('colorMode');
  });
});
