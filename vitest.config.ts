import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One DynamoDB Local and one synthesized template for the whole run, started on first use.
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    coverage: {
      provider: 'v8',
      include: ['lambdas/**', 'local/**', 'lib/**'],
      reporter: ['text-summary', 'json-summary'],
    },
  },
});
