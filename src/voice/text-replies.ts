/**
 * Text a caller types in the room (`lk.chat`), answered by a `TextResponder` (the caller's Letta
 * agent, wired in by agent.ts) instead of the speech pipeline: the answer streams back on
 * `lk.transcription` as the agent's words, and the exchange joins the agent's chat context, so a
 * spoken turn right after it knows what was typed. The speech path never waits on it.
 */
import type { voice } from '@livekit/agents';
import { type Room, TrackKind } from '@livekit/rtc-node';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../telemetry/logger.ts';

export interface TextReply {
  /** What the responder answered (possibly partial when `failed` is set). */
  reply: string;
  /** Set when no (whole) answer came: the message for the caller. */
  failed?: string;
}

export interface TextResponder {
  /** Streams the answer to `onDelta`; never rejects. */
  reply(text: string, onDelta: (delta: string) => void): Promise<TextReply>;
}

const TOPIC_TRANSCRIPTION = 'lk.transcription';

/** Streams text to everyone in the room as one finished segment of the agent's transcript. */
async function streamToRoom(room: Room): Promise<{ write(text: string): Promise<void>; close(): Promise<void> }> {
  const local = room.localParticipant;
  if (!local) throw new Error('not connected to the room');
  // Clients tell the agent's words from the caller's by the track they transcribe: the agent's voice.
  const voiceTrack = [...local.trackPublications.values()].find((p) => p.kind === TrackKind.KIND_AUDIO)?.sid;
  return local.streamText({
    topic: TOPIC_TRANSCRIPTION,
    attributes: {
      'lk.segment_id': `text-${randomUUID()}`,
      'lk.transcription_final': 'true',
      ...(voiceTrack ? { 'lk.transcribed_track_id': voiceTrack } : {}),
    },
  });
}

/** Posts `text` in the room as one finished segment of the agent's transcript (a short notice, say). */
export async function postAgentText(room: Room, text: string): Promise<void> {
  const out = await streamToRoom(room);
  await out.write(text);
  await out.close();
}

/** RoomIO's text input callback: each typed message goes to `responder`, one at a time, in order. */
export function answerTextWith(o: {
  responder: TextResponder;
  agent: voice.Agent;
  room: Room;
  logger: Logger;
}): (session: voice.AgentSession, ev: { text: string }) => Promise<void> {
  let queue = Promise.resolve();
  const answer = async (text: string): Promise<void> => {
    const out = await streamToRoom(o.room);
    let pending = Promise.resolve();
    const result = await o.responder.reply(text, (delta) => {
      pending = pending.then(() => out.write(delta));
    });
    await pending;
    if (result.failed) await out.write(`${result.reply ? '\n' : ''}${result.failed}`);
    await out.close();
    const ctx = o.agent.chatCtx.copy();
    ctx.addMessage({ role: 'user', content: text });
    ctx.addMessage({ role: 'assistant', content: result.reply || (result.failed ?? '') });
    await o.agent.updateChatCtx(ctx);
  };
  return async (_session, ev) => {
    const text = ev.text.trim();
    if (!text) return;
    queue = queue
      .then(() => answer(text))
      .catch((err: unknown) =>
        o.logger.warn({ event: 'text_reply_failed', err: (err as Error).message }, 'could not answer a typed message'),
      );
    await queue;
  };
}
