import { build } from 'esbuild';

/**
 * Bundles the benchmarks the way production code is bundled (esbuild, ESM, no keepNames), so the
 * figures measure our code and not the tsx development loader, whose live-binding getters and
 * name-keeping wrappers cost more than the engine itself.
 */
await build({
  entryPoints: ['bench/run.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: '.cache/bench/run.mjs',
  packages: 'external',
  logLevel: 'warning',
});
