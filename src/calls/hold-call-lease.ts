/**
 * The job's side of a call lease: held from the moment the session serves the caller; ended when
 * the caller has left. A job that stops with its caller still there (killed, crashed, cut off by a
 * drain timeout) lets it lapse, and a live worker brings the caller another agent.
 */
import type { JobContext } from '@livekit/agents';
import { type RemoteParticipant, RoomEvent } from '@livekit/rtc-node';
import type { CallLeases } from './call-leases.ts';

export function holdCallLease(
  ctx: JobContext<unknown>,
  leases: CallLeases,
  caller: RemoteParticipant,
  agentName: string,
): void {
  const hold = leases.hold({
    room: ctx.room.name ?? '',
    job: ctx.job.id,
    caller: caller.identity,
    agentIdentity: ctx.room.localParticipant?.identity ?? '',
    agentName,
  });
  let callerLeft = false;
  const onLeft = (p: RemoteParticipant) => {
    if (p.identity === caller.identity) callerLeft = true;
  };
  ctx.room.on(RoomEvent.ParticipantDisconnected, onLeft);
  ctx.addShutdownCallback(async () => {
    ctx.room.off(RoomEvent.ParticipantDisconnected, onLeft);
    if (callerLeft) await hold.end();
  });
}
