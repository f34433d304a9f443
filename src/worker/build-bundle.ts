/**
 * `node src/worker/build-bundle.ts`: builds the worker bundle ahead of time (the image does, in its
 * build stage, where esbuild is installed); exits 1 if it cannot be built.
 */
import { createLogger } from '../telemetry/logger.ts';
import { buildWorkerBundle } from './bundle.ts';

const built = await buildWorkerBundle(createLogger({ level: 'info', name: 'worker-bundle' }));
process.exitCode = built ? 0 : 1;
