import { defineConfig } from 'vitest/config';

/**
 * `npm run test:reliability`: the reliability suite (test/reliability/*.reliability.ts) on the
 * whole local system. Its files are named so that `npm test` (test/**\/*.test.ts) never runs them.
 */
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.reliability.ts'],
    // The shared DynamoDB Local and template of vitest.config.ts, and the suite's summary.
    globalSetup: ['test/support/global-setup.ts', 'test/reliability/summary.ts'],
    testTimeout: 300_000,
    hookTimeout: 180_000,
  },
});
