import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests are deterministic: no network, no wall clock. Integration tests start their own
    // DynamoDB (dynalite) on 127.0.0.1 with a random port. The timeout only catches a hang: the
    // simulator's canary tests take ~10 s alone and several times that under coverage on a busy machine.
    testTimeout: 120_000,
    hookTimeout: 30_000,
    reporters: ['default', './test/support/summaryReporter.ts'],
    coverage: {
      provider: 'v8',
      include: ['functions/**/*.ts', 'lib/**/*.ts', 'sim/**/*.ts'],
      reporter: ['text-summary', 'text', 'html'],
      thresholds: {
        'functions/core/**': { lines: 95, branches: 95, functions: 95, statements: 95 },
      },
    },
  },
});
