/**
 * Where a job's start goes, one log line per phase: `job process ready` when a job process has
 * loaded its modules and run prewarm (before any call), `call started` when a call's greeting
 * begins to play. The room bench reads both from the worker's log to break a greeting's wait
 * down; an operator reads them to see why calls wait.
 */
import { voice } from '@livekit/agents';
import type { Logger } from './logger.ts';

/** Named steps in order, each the ms it took; the first is measured from `from`. */
export class StepClock {
  readonly steps: Record<string, number> = {};
  #last: number;

  constructor(from = performance.now()) {
    this.#last = from;
  }

  /** Ends the current step under `name`. */
  mark(name: string): void {
    const now = performance.now();
    this.steps[name] = Math.round(now - this.#last);
    this.#last = now;
  }

  /** Times one awaited step alone, without ending the current one. */
  async time<T>(name: string, work: Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await work;
    } finally {
      this.steps[name] = Math.round(performance.now() - start);
    }
  }
}

/**
 * When the job module's own code began to run, in ms since the process started (Node's
 * performance clock starts with the process): the framework's and this project's modules loaded.
 */
export const moduleLoadedAtMs = Math.round(performance.now());

/**
 * `evaluatedMs`: when the job module's imports had all been evaluated, ms since the process started.
 * `readyMs` is the whole start, process start → ready (the line's `time` minus it is when the process
 * started: what shows whether the framework started its warm processes together or in turn).
 */
export function logProcessReady(logger: Logger, evaluatedMs: number, prewarm: StepClock): void {
  logger.info(
    {
      moduleLoadedMs: moduleLoadedAtMs,
      modulesEvaluatedMs: evaluatedMs,
      prewarmMs: prewarm.steps,
      readyMs: Math.round(performance.now()),
      rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
    },
    'job process ready',
  );
}

/**
 * Logs `call started` when the agent first speaks (its greeting), with the steps so far and the
 * memory read's time if it finished. Gives up quietly when the session closes first.
 */
export function logCallStarted(session: voice.AgentSession, logger: Logger, clock: StepClock): void {
  const onState = (ev: voice.AgentStateChangedEvent) => {
    if (ev.newState !== 'speaking') return;
    session.off(voice.AgentSessionEventTypes.AgentStateChanged, onState);
    clock.mark('greetingMs');
    logger.info({ startMs: clock.steps, rssMb: Math.round(process.memoryUsage().rss / 2 ** 20) }, 'call started');
  };
  session.on(voice.AgentSessionEventTypes.AgentStateChanged, onState);
  session.once(voice.AgentSessionEventTypes.Close, () =>
    session.off(voice.AgentSessionEventTypes.AgentStateChanged, onState),
  );
}
