import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    // Property tests run thousands of cases; give CI room without timing anything.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
