import { join } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The files that take tens of seconds, longest first: most of it is waiting (audio played in real
 * time, Letta down for a minute), not CPU. They start first so that the short files fill the other
 * worker around them instead of one long file starting last. A file missing here runs after them,
 * in Vitest's usual order.
 */
const longestFirst = [
  'test/memory/redis-workers.test.ts',
  'test/sim/deepgram.test.ts',
  'test/voice/memory-tools.test.ts',
  'test/voice/memory-pipeline.test.ts',
  'test/cli/chat.test.ts',
  'test/voice/pipeline.test.ts',
  'test/bench/accuracy.test.ts',
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = longestFirst.findIndex((name) => f.moduleId.endsWith(`/${name}`));
      return i < 0 ? longestFirst.length : i;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The room tier needs LiveKit's server and a network of its own (`npm run test:rooms`); the
    // real-Letta tier needs Letta's own server (`npm run test:letta`).
    exclude: ['test/rooms/**', 'test/letta/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two files at a time, on two cores: the suite is mostly waiting (about 90 s of CPU in 300 s),
    // and the timed tests keep their margins beside another file (their bounds are set for a busy
    // machine). Not more: the real-audio pipeline tests run VAD inference in real time.
    fileParallelism: true,
    maxWorkers: 2,
    minWorkers: 1,
    sequence: { sequencer: LongestFirst },
    pool: 'forks',
    // Node's compile cache for the test processes and the processes the tests start (the CLIs, the
    // worker, the crash fixtures): each of those would compile the same modules again otherwise.
    env: { NODE_COMPILE_CACHE: join(import.meta.dirname, '.cache', 'node-compile') },
  },
});
