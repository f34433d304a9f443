/**
 * Worker entry point (`npm run dev`, `npm start`): validates configuration, then runs the LiveKit
 * worker, from one bundled file per process when it can be built (WORKER_BUNDLE), else from src/.
 * It imports nothing of the agents framework itself, so that the framework is loaded once, from
 * where the worker runs.
 */
import { fileURLToPath } from 'node:url';
import { hasLetta, loadConfigOrExit } from './config.ts';
import { createLogger } from './telemetry/logger.ts';
import { buildWorkerBundle } from './worker/bundle.ts';

const config = loadConfigOrExit('worker');
const logger = createLogger({ level: config.logLevel, name: 'voice-agent', secrets: config.secrets });
if (!hasLetta(config)) {
  logger.info('Letta is not configured (LETTA_API_KEY / LETTA_BASE_URL): the agent runs without long-term memory');
}

const bundle = config.workerBundle ? await buildWorkerBundle(logger) : null;
const worker = (await import(bundle?.worker ?? './worker/run-worker.ts')) as typeof import('./worker/run-worker.ts');
await worker.runWorker(config, logger, bundle?.job ?? fileURLToPath(new URL('./agent.ts', import.meta.url)));
