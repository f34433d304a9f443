/**
 * The load the worker reports to LiveKit: its own calls against the number it is set to carry
 * (WORKER_MAX_CALLS), not the machine's CPU.
 *
 * The framework's default load is machine-wide CPU. LiveKit's server picks a worker weighted by
 * 1 − load and dispatches nothing when every worker reports 1.0, whatever its own `target_load`
 * says, so a worker on a machine busy with something else (a browser, a build) was left idle
 * while callers waited for an agent that never came. A load the worker owns follows its real
 * headroom. The framework reports load every 2.5 s, so a burst can outrun it: the request
 * handler checks again and turns the call away itself, saying so once per stretch of being full.
 */
import type { AgentServer, JobRequest } from '@livekit/agents';
import type { Logger } from '../telemetry/logger.ts';

/**
 * Calls one worker carries by default, per core: one talking call costs about a fifth of a core in
 * its job process (18-22 %, room bench, 2026-12-03), and the callers' audio, the server and the
 * starts of new calls need room beside them (four rooms held on two cores, e2e p95 1.6 s).
 */
export const callsPerCore = 2;

export interface CallCapacity {
  /** For ServerOptions.loadFunc: calls ÷ maxCalls, at most 1. */
  loadFunc(worker: AgentServer): Promise<number>;
  /** For ServerOptions.requestFunc: accepts while under maxCalls, else rejects. */
  requestFunc(req: JobRequest): Promise<void>;
  /** Calls running or being accepted now. */
  calls(): number;
}

export function callCapacity(maxCalls: number, logger: Logger): CallCapacity {
  /** Jobs accepted here; pruned against the worker's running jobs once the worker is known. */
  const accepted = new Set<string>();
  /** Jobs whose accept is under way (the framework launches the job inside accept). */
  const accepting = new Set<string>();
  // The framework hands the worker only to loadFunc; until its first call (2.5 s after start)
  // every accepted job counts as running.
  let worker: AgentServer | undefined;
  let full = false;

  const calls = () => {
    if (worker) {
      const running = new Set(worker.activeJobs.map((j) => j.job.id));
      for (const id of accepted) if (!running.has(id) && !accepting.has(id)) accepted.delete(id);
      for (const id of running) accepted.add(id);
    }
    return accepted.size;
  };

  /** Logs once on reaching the limit and once on leaving it, whichever path notices first. */
  const note = (now: number, room?: string) => {
    if (now >= maxCalls && !full) {
      full = true;
      logger.warn(
        { calls: now, maxCalls, ...(room !== undefined ? { room } : {}) },
        `turning calls away: ${now} calls running, the limit this worker is set to carry (WORKER_MAX_CALLS=${maxCalls}); LiveKit's server sends it no new call until one ends`,
      );
    } else if (now < maxCalls && full) {
      full = false;
      logger.info({ calls: now, maxCalls }, 'taking calls again');
    }
  };

  return {
    calls,
    loadFunc: (w) => {
      worker = w;
      const now = calls();
      note(now);
      return Promise.resolve(Math.min(1, now / maxCalls));
    },
    requestFunc: async (req) => {
      const now = calls();
      note(now, req.room?.name);
      if (now >= maxCalls) {
        await req.reject();
        return;
      }
      accepted.add(req.id);
      accepting.add(req.id);
      try {
        await req.accept();
      } finally {
        accepting.delete(req.id);
      }
    },
  };
}
