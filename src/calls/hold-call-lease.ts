/**
 * The job's side of a call lease: held from the moment the session serves the caller; ended when
 * the caller has left. A job that stops with its caller still there (killed, crashed, cut off by a
 * drain timeout) lets it lapse, and a live worker brings the caller another agent.
 */
import { type JobContext, voice } from '@livekit/agents';
import { type RemoteParticipant, RoomEvent } from '@livekit/rtc-node';
import { type CallLeases, EARLIER_JOBS_MAX, OPEN_TURN_MAX_CHARS, type OpenTurn } from './call-leases.ts';

export function holdCallLease(
  ctx: JobContext<unknown>,
  session: voice.AgentSession,
  leases: CallLeases,
  caller: RemoteParticipant,
  agentName: string,
  /** Jobs that served this call before this one (it is a rescue), oldest first. */
  earlierJobs: string[] = [],
): void {
  const hold = leases.hold({
    room: ctx.room.name ?? '',
    job: ctx.job.id,
    caller: caller.identity,
    agentIdentity: ctx.room.localParticipant?.identity ?? '',
    agentName,
    ...(earlierJobs.length ? { earlierJobs: earlierJobs.slice(-EARLIER_JOBS_MAX) } : {}),
  });
  // The caller's words from their turn's commit until the answer is finished (spoken or cut off),
  // as the turn recorder joins them: two messages without an answer between are one turn.
  let open: OpenTurn | null = null;
  const onItem = (ev: voice.ConversationItemAddedEvent) => {
    const item = ev.item;
    if (item.type !== 'message') return;
    const text = (item.textContent ?? '').trim();
    if (item.role === 'user' && text) {
      const user = open ? `${open.user} ${text}` : text;
      open = { user: user.slice(0, OPEN_TURN_MAX_CHARS), userAt: open?.userAt ?? item.createdAt };
      hold.update(open);
    } else if (item.role === 'assistant' && open) {
      open = null;
      hold.update(null);
    }
  };
  session.on(voice.AgentSessionEventTypes.ConversationItemAdded, onItem);
  let callerLeft = false;
  const onLeft = (p: RemoteParticipant) => {
    if (p.identity === caller.identity) callerLeft = true;
  };
  ctx.room.on(RoomEvent.ParticipantDisconnected, onLeft);
  ctx.addShutdownCallback(async () => {
    ctx.room.off(RoomEvent.ParticipantDisconnected, onLeft);
    session.off(voice.AgentSessionEventTypes.ConversationItemAdded, onItem);
    if (callerLeft) await hold.end();
  });
}
