import { defineConfig } from 'vitest/config';
import { parseCLI } from 'vitest/node';

/**
 * Whether this run is the whole suite (`vitest run`, as `npm test` and CI run it). Vitest checks
 * coverage thresholds on every run, filtered or not, and a run of a few files cannot reach
 * whole-suite figures: gating those would fail every focused run. Anything that narrows the run
 * (file filters, -t, --dir, --exclude, --project, --shard, --changed, --related) makes it
 * partial; if the command line cannot be read, the run counts as whole, so the gate errs on
 * enforcing.
 */
function isWholeSuiteRun(): boolean {
  try {
    const { filter, options } = parseCLI(['vitest', ...process.argv.slice(2)], {
      allowUnknownOptions: true,
    });
    return (
      filter.length === 0 &&
      options.testNamePattern === undefined &&
      options.dir === undefined &&
      options.exclude === undefined &&
      options.project === undefined &&
      options.shard === undefined &&
      options.changed === undefined &&
      options.related === undefined
    );
  } catch {
    return true;
  }
}

const wholeSuite = isWholeSuiteRun();

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    // Property tests run thousands of cases; give CI room without timing anything.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    coverage: {
      // On for the whole suite, so `npm test` enforces the thresholds; a partial run collects
      // nothing unless asked (`--coverage`), and then only reports.
      enabled: wholeSuite,
      provider: 'v8',
      include: ['shared/**/*.ts'],
      // Types only: no statement to run.
      exclude: ['shared/store/rows.ts'],
      reporter: ['text-summary', 'json-summary'],
      // Figures for shared/ on 2026-11-30 (96.26 / 89.92 / 98.10 / 97.65 %), rounded down, measured
      // with test/unit, test/property, test/store and test/api; the whole suite covers at least as
      // much. Coverage may rise, never fall: raise them when it rises.
      thresholds: wholeSuite
        ? { statements: 96, branches: 89, functions: 98, lines: 97 }
        : undefined,
    },
  },
});
