/** Worker entry point (`npm run dev`, `npm start`): validates configuration, then runs the LiveKit worker CLI. */
import { ServerOptions, cli } from '@livekit/agents';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { hasLetta, loadConfigOrExit, requireSetting } from './config.ts';
import { createLogger } from './telemetry/logger.ts';
import { startMainMetrics } from './telemetry/worker-metrics.ts';
import { callCapacity, callsPerCore } from './worker/call-capacity.ts';
import { exitCleanlyAfterSigterm } from './worker/clean-stop.ts';
import { compileCacheForChildren } from './worker/compile-cache.ts';

const config = loadConfigOrExit('worker');
const logger = createLogger({ level: config.logLevel, name: 'voice-agent', secrets: config.secrets });
if (!hasLetta(config)) {
  logger.info('Letta is not configured (LETTA_API_KEY / LETTA_BASE_URL): the agent runs without long-term memory');
}

const maxCalls = config.livekit.maxCalls ?? callsPerCore * availableParallelism();
const capacity = callCapacity(maxCalls, logger);

await startMainMetrics(config, logger);
compileCacheForChildren();
exitCleanlyAfterSigterm();
cli.runApp(
  new ServerOptions({
    agent: fileURLToPath(new URL('./agent.ts', import.meta.url)),
    wsURL: requireSetting(config.livekit.url, 'LIVEKIT_URL'),
    apiKey: requireSetting(config.livekit.apiKey, 'LIVEKIT_API_KEY'),
    apiSecret: requireSetting(config.livekit.apiSecret, 'LIVEKIT_API_SECRET'),
    ...(config.livekit.agentName !== undefined ? { agentName: config.livekit.agentName } : {}),
    loadFunc: capacity.loadFunc,
    requestFunc: capacity.requestFunc,
    // Full at the limit of calls; the framework's default (0.7, meant for CPU) would stop short of it.
    loadThreshold: config.livekit.loadThreshold ?? 1,
    ...(config.livekit.numIdleProcesses !== undefined ? { numIdleProcesses: config.livekit.numIdleProcesses } : {}),
    ...(config.livekit.healthPort !== undefined ? { port: config.livekit.healthPort } : {}),
    logLevel: config.logLevel,
  }),
);
