import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../../scripts/build.js';
import { evaluate } from '../../shared/health/engine.js';
import { HEALTHY, snapshot, withSpec } from '../helpers/snapshots.js';
import { runNode } from './node-process.js';

/*
 * The `copilot` CLI as installed with its runtime dependencies only: `npm run build`'s
 * dist/cli/copilot.mjs, and the package's bin (bin/copilot.js) running it when tsx, a dev
 * dependency, is not there. The tree is a copy outside the project whose node_modules holds
 * every installed package but tsx, so nothing can resolve tsx by walking up to the checkout.
 */

const root = resolve(import.meta.dirname, '../..');
let tree: string;

beforeAll(async () => {
  tree = mkdtempSync(join(tmpdir(), 'copilot-build-cli-'));
  await buildCli(join(tree, 'dist/cli'));
  mkdirSync(join(tree, 'bin'));
  cpSync(join(root, 'bin/copilot.js'), join(tree, 'bin/copilot.js'));
  mkdirSync(join(tree, 'node_modules'));
  for (const entry of readdirSync(join(root, 'node_modules'))) {
    if (entry === 'tsx' || entry === '.bin') continue;
    symlinkSync(join(root, 'node_modules', entry), join(tree, 'node_modules', entry));
  }
});

afterAll(() => {
  if (tree !== undefined) rmSync(tree, { recursive: true, force: true });
});

const stressed = snapshot(withSpec(HEALTHY, { persistenceLatencyP99: 640 }));

describe('the CLI build (dist/cli/copilot.mjs) through the package bin, without tsx', () => {
  it('runs a command: the engine over a snapshot file, as the sources do', async () => {
    const file = join(tree, 'snapshot.json');
    writeFileSync(file, JSON.stringify(stressed));
    const r = await runNode([join(tree, 'bin/copilot.js'), 'evaluate', '--snapshot', file], {});
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(JSON.stringify(evaluate(null, stressed))));
  });

  it('keeps the CLI contract: one line on stderr and exit 2 for a configuration mistake', async () => {
    const r = await runNode([join(tree, 'bin/copilot.js'), 'assess'], {
      PROMETHEUS_URL: 'http://127.0.0.1:9/',
      COPILOT_SCRAPE_URLS: 'http://127.0.0.1:9/metrics',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'copilot: set only one of PROMETHEUS_URL, AMP_WORKSPACE_URL and COPILOT_SCRAPE_URLS\n',
    );
  });

  it('says what to do when neither tsx nor the build is there', async () => {
    rmSync(join(tree, 'dist'), { recursive: true, force: true });
    const r = await runNode([join(tree, 'bin/copilot.js'), '--version'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('run `npm run build`, or `npm install` to run from the sources');
  });
});
