/**
 * A call's job ends when its caller hangs up. The framework closes the session then (RoomIO's
 * closeOnDisconnect) but leaves the job in the room until LiveKit's server closes it, 20 s after
 * the last caller left by default (`departure_timeout`); meanwhile the job process holds its place
 * under WORKER_MAX_CALLS. Shutting the job down at once runs its shutdown callbacks (memory flushed within
 * LETTA_SHUTDOWN_FLUSH_MS), and the worker's pool replaces the process.
 *
 * Only a hang-up ends the job here. A caller whose network dropped is not closed on by the
 * framework, and may come back to the same session within the room's departure timeout.
 */
import { type JobContext, voice } from '@livekit/agents';
import { type RemoteParticipant, RoomEvent } from '@livekit/rtc-node';

export interface CallEnd {
  /** Milliseconds since the caller left the room; null while they are in it. */
  sinceCallerLeftMs(): number | null;
}

export function endWithCaller(
  ctx: JobContext<unknown>,
  session: voice.AgentSession,
  caller: RemoteParticipant,
): CallEnd {
  let leftAt: number | null = null;
  const onLeft = (p: RemoteParticipant) => {
    if (p.identity === caller.identity) leftAt ??= performance.now();
  };
  ctx.room.on(RoomEvent.ParticipantDisconnected, onLeft);
  session.once(voice.AgentSessionEventTypes.Close, (ev: voice.CloseEvent) => {
    if (ev.reason === voice.CloseReason.PARTICIPANT_DISCONNECTED) ctx.shutdown('caller hung up');
  });
  ctx.addShutdownCallback(() => {
    ctx.room.off(RoomEvent.ParticipantDisconnected, onLeft);
    return Promise.resolve();
  });
  return { sinceCallerLeftMs: () => (leftAt === null ? null : Math.round(performance.now() - leftAt)) };
}
