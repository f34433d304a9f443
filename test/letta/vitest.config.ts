import { defineConfig } from 'vitest/config';

/** The real-Letta tier (`npm run test:letta`): Letta's own server, started once for the tier. */
export default defineConfig({
  test: {
    include: ['test/letta/**/*.test.ts'],
    globalSetup: ['test/letta/global-setup.ts'],
    // Letta's agent steps are real work on two cores; one file at a time, as in the unit tier.
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 120_000,
    // The first run on a machine installs the server (minutes of pip).
    hookTimeout: 900_000,
  },
});
