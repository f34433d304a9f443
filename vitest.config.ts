import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The room tier needs LiveKit's server and a network of its own (`npm run test:rooms`); the
    // real-Letta tier needs Letta's own server (`npm run test:letta`).
    exclude: ['test/rooms/**', 'test/letta/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The pipeline tests run real VAD inference and several local servers: keep the 2 cores for one file at a time.
    fileParallelism: false,
    pool: 'forks',
    // Node's compile cache for the test processes and the processes the tests start (the CLIs, the
    // worker, the crash fixtures): each of those would compile the same modules again otherwise.
    env: { NODE_COMPILE_CACHE: join(import.meta.dirname, '.cache', 'node-compile') },
  },
});
