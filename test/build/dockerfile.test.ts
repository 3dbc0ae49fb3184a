import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

/*
 * There is no Docker engine here: the worker image is checked by reading its Dockerfile. What it
 * copies (dist/worker) is checked by test/build/worker-bundle.test.ts, which runs it.
 */

const root = resolve(import.meta.dirname, '../..');

interface Instruction {
  readonly op: string;
  readonly args: string;
}

/** The instructions of a Dockerfile: comments dropped, continuation lines joined. */
function parseDockerfile(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((l) => {
      const [op = '', ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

/** Stages, each with its base image (ARG defaults substituted) and its instructions. */
function stagesOf(instructions: readonly Instruction[]) {
  const args = new Map<string, string>();
  const stages: { image: string; name?: string; body: Instruction[] }[] = [];
  for (const i of instructions) {
    if (i.op === 'ARG' && stages.length === 0) {
      const [name, value] = i.args.split('=');
      if (name !== undefined && value !== undefined) args.set(name, value);
    } else if (i.op === 'FROM') {
      const [image = '', as, name] = i.args.replace(/--platform=\S+\s+/, '').split(/\s+/);
      const resolved = image.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args.get(a ?? b) ?? '');
      stages.push({
        image: resolved,
        ...(as?.toUpperCase() === 'AS' && name !== undefined ? { name } : {}),
        body: [],
      });
    } else stages.at(-1)?.body.push(i);
  }
  return stages;
}

/** Pinned: by digest, or by an exact version tag (major.minor.patch), never `latest`. */
const isPinned = (image: string) =>
  /@sha256:[0-9a-f]{64}$/.test(image) || /:\d+\.\d+\.\d+(-[\w.-]+)?$/.test(image);

const dockerfile = readFileSync(resolve(root, 'Dockerfile'), 'utf8');
const stages = stagesOf(parseDockerfile(dockerfile));
const final = stages.at(-1);

describe('Dockerfile (the worker image)', () => {
  it('builds FROM pinned base images only', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(isPinned(s.image), s.image).toBe(true);
    // The check itself: these would pass unnoticed otherwise.
    for (const loose of ['node:20', 'node:latest', 'node:20-slim', 'node', 'node:20.20'])
      expect(isPinned(loose), loose).toBe(false);
  });

  it('runs the final stage as a non-root user', () => {
    const users = final?.body.filter((i) => i.op === 'USER') ?? [];
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)?.args.split(':')[0] ?? '';
    expect(['root', '0', '']).not.toContain(user);
  });

  it('copies only the build output into the final stage', () => {
    const copies = final?.body.filter((i) => i.op === 'COPY' || i.op === 'ADD') ?? [];
    expect(copies.length).toBeGreaterThan(0);
    for (const c of copies) {
      expect(c.op, 'ADD fetches and unpacks; COPY only').toBe('COPY');
      const from = /--from=(\S+)/.exec(c.args)?.[1];
      expect(from, `${c.args} copies from a build stage`).toBeDefined();
      const sources = c.args.replace(/--\S+/g, '').trim().split(/\s+/).slice(0, -1);
      for (const src of sources) expect(src, c.args).toMatch(/^\/src\/dist\/worker\/?$/);
    }
  });

  it('installs nothing in the final stage: no tsx, no PGlite, no Temporal CLI, no npm install', () => {
    const runs = final?.body.filter((i) => i.op === 'RUN') ?? [];
    expect(runs).toEqual([]);
    const finalText = JSON.stringify(final?.body);
    for (const banned of ['tsx', 'pglite', 'temporal server', 'go install', 'npm '])
      expect(finalText.toLowerCase()).not.toContain(banned);
  });

  it('starts the bundled worker directly with node', () => {
    const cmd = final?.body.filter((i) => i.op === 'CMD' || i.op === 'ENTRYPOINT').at(-1);
    expect(cmd?.args).toMatch(/^\["node",.*"main\.mjs"\]$/);
  });

  it('builds the worker with the project build, from a context that leaves local state out', () => {
    const build = stages.find((s) => s.name === 'build');
    expect(build?.body.some((i) => i.op === 'RUN' && i.args.includes('npm ci'))).toBe(true);
    expect(build?.body.some((i) => i.op === 'RUN' && i.args === 'npm run build:worker')).toBe(true);
    const ignore = readFileSync(resolve(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    // Everything out, then what the build reads back in: never node_modules, dist or a store.
    expect(ignore[0]).toBe('*');
    for (const kept of ignore.slice(1)) expect(kept).not.toMatch(/node_modules|dist|\.copilot/);
    // The runbooks the build copies into the image for the explainer's local index.
    expect(ignore).toContain('!docs/rag/');
    const scripts = (
      JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      }
    ).scripts;
    expect(scripts['build:worker']).toBe('tsx scripts/build.ts worker');
  });

  it('keeps in the build context every file of ours the build script imports', async () => {
    const kept = readFileSync(resolve(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1));
    const result = await build({
      entryPoints: [resolve(root, 'scripts/build.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      write: false,
      metafile: true,
      absWorkingDir: root,
      logLevel: 'silent',
    });
    const ours = Object.keys(result.metafile.inputs);
    expect(ours).toContain('scripts/build.ts');
    const outside = ours.filter(
      (file) => !kept.some((k) => (k.endsWith('/') ? file.startsWith(k) : file === k)),
    );
    expect(outside).toEqual([]);
  });
});
