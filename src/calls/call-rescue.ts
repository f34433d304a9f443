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
 */
import { AgentDispatchClient, RoomServiceClient } from 'livekit-server-sdk';
import type { Logger } from '../telemetry/logger.ts';
import { type CallLeases, type CallRecord, OPEN_TURN_MAX_CHARS, type OpenTurn } from './call-leases.ts';

export interface RescueMetadata {
  /** The job that died. */
  rescueOf: string;
  /** The caller's words it was answering when it died. */
  openTurn?: OpenTurn;
}

/** The dispatch metadata of a rescue, or null for an ordinary call. */
export function rescueOf(metadata: string | undefined): RescueMetadata | null {
  if (!metadata) return null;
  try {
    const m = JSON.parse(metadata) as Partial<RescueMetadata>;
    if (typeof m.rescueOf !== 'string') return null;
    const t = m.openTurn;
    const open = t && typeof t.user === 'string' && typeof t.userAt === 'number' ? t : undefined;
    return { rescueOf: m.rescueOf, ...(open ? { openTurn: { user: open.user, userAt: open.userAt } } : {}) };
  } catch {
    return null;
  }
}

export interface CallRescueOptions {
  leases: CallLeases;
  livekit: { url: string; apiKey: string; apiSecret: string };
  logger: Logger;
  /** How often lapsed leases are looked for; default a fifth of the lease. */
  intervalMs?: number;
}

/** The server API's http(s) address for a ws(s) URL. */
function apiHost(url: string): string {
  return url.replace(/^ws(s?):/, 'http$1:');
}

export class CallRescue {
  readonly #o: CallRescueOptions;
  readonly #rooms: RoomServiceClient;
  readonly #dispatch: AgentDispatchClient;
  readonly #timer: NodeJS.Timeout;
  #running: Promise<void> | null = null;

  constructor(o: CallRescueOptions) {
    this.#o = o;
    const { url, apiKey, apiSecret } = o.livekit;
    this.#rooms = new RoomServiceClient(apiHost(url), apiKey, apiSecret);
    this.#dispatch = new AgentDispatchClient(apiHost(url), apiKey, apiSecret);
    this.#timer = setInterval(() => void this.sweep(), o.intervalMs ?? Math.max(200, o.leases.leaseMs / 5));
    this.#timer.unref();
  }

  /** One pass over the lapsed leases; a pass still running is joined, not doubled. */
  sweep(): Promise<void> {
    this.#running ??= this.#sweep().finally(() => (this.#running = null));
    return this.#running;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
    await this.#o.leases.close();
  }

  async #sweep(): Promise<void> {
    const { leases, logger } = this.#o;
    try {
      for (const call of await leases.lapsed()) {
        if (await leases.claim(call)) await this.#rescue(call);
      }
    } catch (err) {
      logger.warn(
        { event: 'call_rescue_failed', err: (err as Error).message },
        'could not look for calls that lost their agent',
      );
    }
  }

  async #rescue(call: CallRecord): Promise<void> {
    const { logger } = this.#o;
    const log = logger.child({ room: call.room, lostJob: call.job });
    const present = await this.#rooms.listParticipants(call.room).catch(() => []);
    if (!present.some((p) => p.identity === call.caller)) {
      log.info({ event: 'call_rescue_not_needed' }, 'a call lost its agent after the caller had left: nothing to do');
      return;
    }
    if (present.some((p) => p.identity === call.agentIdentity)) {
      await this.#rooms
        .removeParticipant(call.room, call.agentIdentity)
        .catch((err: unknown) =>
          log.debug({ err: (err as Error).message }, 'the lost agent had already left the room'),
        );
    }
    const open = call.openTurn;
    const metadata: RescueMetadata = {
      rescueOf: call.job,
      ...(open ? { openTurn: { user: open.user.slice(0, OPEN_TURN_MAX_CHARS), userAt: open.userAt } } : {}),
    };
    try {
      const d = await this.#dispatch.createDispatch(call.room, call.agentName, { metadata: JSON.stringify(metadata) });
      log.warn(
        { event: 'call_rescued', dispatch: d.id },
        'a call lost its agent (job process or worker gone): another agent was dispatched to the caller',
      );
    } catch (err) {
      log.error(
        { event: 'call_rescue_failed', err: (err as Error).message },
        'a call lost its agent and no other could be dispatched: the caller is left without an agent',
      );
    }
  }
}
