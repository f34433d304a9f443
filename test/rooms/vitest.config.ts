import { defineConfig } from 'vitest/config';

/** The room tier (`npm run test:rooms`, which sets up its network first); `npm test` leaves these files out. */
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/rooms/**/*.test.ts'],
    // A call runs in real time through a real server and worker: bounds are generous on purpose.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // One server, one worker and real-time audio at a time on 2 shared cores.
    fileParallelism: false,
    pool: 'forks',
  },
});
