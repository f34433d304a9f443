/**
 * The LiveKit worker: its own load (calls against WORKER_MAX_CALLS), its metrics, the rescue of
 * calls whose agent died, and the framework's CLI. Runs from src/ as it is, or from the bundle src/worker/bundle.ts builds (then with its own copy
 * of every module, the framework's included).
 */
import { ServerOptions, cli } from '@livekit/agents';
import { availableParallelism } from 'node:os';
import { CallRescue } from '../calls/call-rescue.ts';
import { openCallLeases } from '../calls/open-call-leases.ts';
import { livekitRoomApi } from '../calls/rescue-room-api.ts';
import { type Config, requireSetting } from '../config.ts';
import type { Logger } from '../telemetry/logger.ts';
import { startMainMetrics } from '../telemetry/worker-metrics.ts';
import { callCapacity, callsPerCore } from './call-capacity.ts';
import { exitCleanlyAfterSigterm } from './clean-stop.ts';
import { compileCacheForChildren } from './compile-cache.ts';
import { youngGenerationForChildren } from './young-generation.ts';

/** `agent`: the job module's file (src/agent.ts, or its bundle). */
export async function runWorker(config: Config, logger: Logger, agent: string): Promise<void> {
  const maxCalls = config.livekit.maxCalls ?? callsPerCore * availableParallelism();
  const capacity = callCapacity(maxCalls, logger);

  await startMainMetrics(config, logger);
  compileCacheForChildren();
  youngGenerationForChildren(config.jobSemiSpaceMb);
  exitCleanlyAfterSigterm();
  const livekit = {
    url: requireSetting(config.livekit.url, 'LIVEKIT_URL'),
    apiKey: requireSetting(config.livekit.apiKey, 'LIVEKIT_API_KEY'),
    apiSecret: requireSetting(config.livekit.apiSecret, 'LIVEKIT_API_SECRET'),
  };
  // The framework's dev mode keeps no warm job process and starts one per call on a path that never
  // drops a finished job from the worker's running jobs (agents 1.9, ProcPool.launchJob): a dev
  // worker counted every call it had ever taken against WORKER_MAX_CALLS and, at the limit, took no
  // more. With a warm process every job goes through the pool's own path, and a dev call greets sooner.
  const numIdleProcesses = config.livekit.numIdleProcesses ?? (process.argv.includes('dev') ? 1 : undefined);
  // Calls whose agent died (job process or another worker killed) get an agent again.
  new CallRescue({ leases: openCallLeases(config, logger), api: livekitRoomApi(livekit), logger });
  cli.runApp(
    new ServerOptions({
      agent,
      wsURL: livekit.url,
      apiKey: livekit.apiKey,
      apiSecret: livekit.apiSecret,
      ...(config.livekit.agentName !== undefined ? { agentName: config.livekit.agentName } : {}),
      loadFunc: capacity.loadFunc,
      requestFunc: capacity.requestFunc,
      // Full at the limit of calls; the framework's default (0.7, meant for CPU) would stop short of it.
      loadThreshold: config.livekit.loadThreshold ?? 1,
      ...(numIdleProcesses !== undefined ? { numIdleProcesses } : {}),
      ...(config.livekit.healthPort !== undefined ? { port: config.livekit.healthPort } : {}),
      logLevel: config.logLevel,
    }),
  );
}
