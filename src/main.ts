/** Worker entry point (`npm run dev`, `npm start`): validates configuration, then runs the LiveKit worker CLI. */
import { ServerOptions, cli } from '@livekit/agents';
import { fileURLToPath } from 'node:url';
import { CallRescue } from './calls/call-rescue.ts';
import { openCallLeases } from './calls/open-call-leases.ts';
import { hasLetta, loadConfigOrExit, requireSetting } from './config.ts';
import { createLogger } from './telemetry/logger.ts';
import { startMainMetrics } from './telemetry/worker-metrics.ts';
import { exitCleanlyAfterSigterm } from './worker/clean-stop.ts';

const config = loadConfigOrExit('worker');
const logger = createLogger({ level: config.logLevel, name: 'voice-agent', secrets: config.secrets });
if (!hasLetta(config)) {
  logger.info('Letta is not configured (LETTA_API_KEY / LETTA_BASE_URL): the agent runs without long-term memory');
}

await startMainMetrics(config, logger);
exitCleanlyAfterSigterm();
const livekit = {
  url: requireSetting(config.livekit.url, 'LIVEKIT_URL'),
  apiKey: requireSetting(config.livekit.apiKey, 'LIVEKIT_API_KEY'),
  apiSecret: requireSetting(config.livekit.apiSecret, 'LIVEKIT_API_SECRET'),
};
// Calls whose agent died (job process or another worker killed) get an agent again.
new CallRescue({ leases: openCallLeases(config, logger), livekit, logger });
cli.runApp(
  new ServerOptions({
    agent: fileURLToPath(new URL('./agent.ts', import.meta.url)),
    wsURL: livekit.url,
    apiKey: livekit.apiKey,
    apiSecret: livekit.apiSecret,
    ...(config.livekit.agentName !== undefined ? { agentName: config.livekit.agentName } : {}),
    ...(config.livekit.loadThreshold !== undefined ? { loadThreshold: config.livekit.loadThreshold } : {}),
    ...(config.livekit.numIdleProcesses !== undefined ? { numIdleProcesses: config.livekit.numIdleProcesses } : {}),
    ...(config.livekit.healthPort !== undefined ? { port: config.livekit.healthPort } : {}),
    logLevel: config.logLevel,
  }),
);
