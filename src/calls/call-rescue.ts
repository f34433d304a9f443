/**
 * Runs in every worker's main process: brings a caller an agent again when the job serving them
 * died (its process killed, or its whole worker). LiveKit's server (1.13.5) does not: it drops the
 * dead agent from the room about 15 s later (`PEER_CONNECTION_DISCONNECTED`), marks the job
 * `JS_FAILED` ("agent worker left the room"), and never dispatches the room again.
 *
 * A lapsed call lease is claimed (one worker only), the dead agent is removed from the room at once
 * (no ghost lingers beside the new one), and a new dispatch goes out under the worker's agent name;
 * LiveKit gives it to any live worker. Its metadata marks it a rescue, so the new session greets
 * with an apology and, its prompt holding the journal's turns of the call so far, picks up there.
 *
 * Once claimed, the call is this worker's alone: when LiveKit's API fails, the rescue tries again
 * with back-off (about 15 s in all) before it gives up, loudly.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../telemetry/logger.ts';
import type { CallLeases, CallRecord } from './call-leases.ts';
import { rescueMetadataFor, rescueOf } from './rescue-metadata.ts';
import type { RescueRoomApi } from './rescue-room-api.ts';

/** Waits between attempts when LiveKit's API fails: 15.5 s in all, six attempts. */
export const RESCUE_RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000];

export interface CallRescueOptions {
  leases: CallLeases;
  api: RescueRoomApi;
  logger: Logger;
  /** How often lapsed leases are looked for; default a fifth of the lease. */
  intervalMs?: number;
  /** Waits between attempts; default `RESCUE_RETRY_DELAYS_MS`. */
  retryDelaysMs?: readonly number[];
}

export class CallRescue {
  readonly #o: CallRescueOptions;
  readonly #timer: NodeJS.Timeout;
  /** Rescues under way (each may be waiting to try again): one slow call never holds up the others. */
  readonly #rescuing = new Set<Promise<void>>();
  #running: Promise<void> | null = null;

  constructor(o: CallRescueOptions) {
    this.#o = o;
    this.#timer = setInterval(() => void this.sweep(), o.intervalMs ?? Math.max(200, o.leases.leaseMs / 5));
    this.#timer.unref();
  }

  /** One pass over the lapsed leases; a pass still running is joined, not doubled. */
  sweep(): Promise<void> {
    this.#running ??= this.#sweep().finally(() => (this.#running = null));
    return this.#running;
  }

  /** Settles when every rescue started so far has ended (dispatched, not needed, or given up). */
  async settled(): Promise<void> {
    while (this.#rescuing.size > 0) await Promise.all(this.#rescuing);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
    await this.settled();
    await this.#o.leases.close();
  }

  async #sweep(): Promise<void> {
    const { leases, logger } = this.#o;
    try {
      for (const call of await leases.lapsed()) {
        if (!(await leases.claim(call))) continue;
        const rescue = this.#rescue(call).finally(() => this.#rescuing.delete(rescue));
        this.#rescuing.add(rescue);
      }
    } catch (err) {
      logger.warn(
        { event: 'call_rescue_failed', err: (err as Error).message },
        'could not look for calls that lost their agent',
      );
    }
  }

  async #rescue(call: CallRecord): Promise<void> {
    const log = this.#o.logger.child({ room: call.room, lostJob: call.job });
    const delays = this.#o.retryDelaysMs ?? RESCUE_RETRY_DELAYS_MS;
    const metadata = JSON.stringify(rescueMetadataFor(call));
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#attempt(call, metadata, attempt, log);
        return;
      } catch (err) {
        const delay = delays[attempt - 1];
        const reason = (err as Error).message;
        if (delay === undefined) {
          log.error(
            { event: 'call_rescue_gave_up', attempts: attempt, err: reason },
            `a call lost its agent and LiveKit's API failed ${attempt} times to bring it another: the caller is left without an agent`,
          );
          return;
        }
        log.warn(
          { event: 'call_rescue_retry', attempt, retryInMs: delay, err: reason },
          "a call lost its agent and LiveKit's API failed to bring it another; trying again",
        );
        await sleep(delay);
      }
    }
  }

  /** One try: throws when LiveKit's API fails, so that the caller of this tries again. */
  async #attempt(call: CallRecord, metadata: string, attempt: number, log: Logger): Promise<void> {
    const { api } = this.#o;
    const present = await api.participants(call.room);
    if (!present.includes(call.caller)) {
      log.info({ event: 'call_rescue_not_needed' }, 'a call lost its agent after the caller had left: nothing to do');
      return;
    }
    if (present.includes(call.agentIdentity)) {
      await api
        .removeParticipant(call.room, call.agentIdentity)
        .catch((err: unknown) =>
          log.debug({ err: (err as Error).message }, 'the lost agent had already left the room'),
        );
    }
    // A failed attempt's dispatch may have been made with only its answer lost: never two agents.
    if (attempt > 1 && (await api.dispatchMetadata(call.room)).some((m) => rescueOf(m)?.rescueOf === call.job)) {
      log.warn({ event: 'call_rescued', attempt }, 'a call lost its agent: an earlier attempt had dispatched another');
      return;
    }
    const dispatch = await api.dispatch(call.room, call.agentName, metadata);
    log.warn(
      { event: 'call_rescued', dispatch, attempt },
      'a call lost its agent (job process or worker gone): another agent was dispatched to the caller',
    );
  }
}
