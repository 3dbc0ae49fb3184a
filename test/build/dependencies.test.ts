import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importedPackages } from '../../scripts/build.js';

/*
 * Runtime `dependencies` hold what the shipped commands import, and only that: a production
 * install (`npm ci --omit=dev`) must run the CLI, and must not carry a TypeScript loader, types
 * or a parser nothing calls. The imports are read from the real import graphs (esbuild's
 * metafile of each shipped entry), not from a list kept by hand.
 */

const pkg = JSON.parse(
  readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8'),
) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const runtime = Object.keys(pkg.dependencies).sort();

describe('package.json dependencies', () => {
  let imported: string[];

  it('declares every package the shipped code imports as a runtime dependency', async () => {
    imported = await importedPackages();
    expect(imported.filter((name) => !runtime.includes(name))).toEqual([]);
  });

  it('holds no runtime dependency the shipped code does not import', async () => {
    imported ??= await importedPackages();
    expect(runtime.filter((name) => !imported.includes(name))).toEqual([]);
  });

  it('keeps the dev server loader, types and unused parsers out of the runtime', () => {
    for (const name of ['tsx', '@types/aws-lambda', 'parse-prometheus-text-format', 'esbuild'])
      expect(runtime, name).not.toContain(name);
    // tsx still runs `npm start`, the tests and the bin in a checkout.
    expect(pkg.devDependencies.tsx).toBeDefined();
  });
});
