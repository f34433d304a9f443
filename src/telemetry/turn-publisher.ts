/**
 * Each turn's latency, sent to the caller in the room: the figures of the `turn_latency` log line,
 * as JSON on the text-stream topic `voice-agent.turn`, to that caller only. The join page draws its
 * latency table and chart from them. Transcripts stay out: the page has them from lk.transcription.
 */
import type { voice } from '@livekit/agents';
import type { AudioReceive } from './audio-receive.ts';
import { type TurnLatency, observeTurns } from './turn-latency.ts';

export const turnTopic = 'voice-agent.turn';

/** One message on `voice-agent.turn`; a figure the framework did not measure is null. */
export interface TurnMessage {
  /** 1 for the first reply of the call (usually the greeting, which has no caller turn before it). */
  turn: number;
  interrupted: boolean;
  end_of_turn_ms: number | null;
  llm_ttft_ms: number | null;
  tts_ttfb_ms: number | null;
  e2e_ms: number | null;
  transcription_delay_ms: number | null;
  /** Epoch ms on the worker's clock: the caller's speech end by VAD, and the reply's playback start. */
  user_stopped_at: number | null;
  agent_started_at: number | null;
  /** Mean time the caller's audio has spent in the worker's jitter buffer in this call so far, ms. */
  jitter_buffer_ms: number | null;
}

export function turnMessage(turn: number, t: TurnLatency, receive?: AudioReceive): TurnMessage {
  const jitter = receive?.jitterBufferMs ?? null;
  return {
    turn,
    interrupted: t.interrupted,
    end_of_turn_ms: t.endOfTurnDelayMs ?? null,
    llm_ttft_ms: t.llmTtftMs ?? null,
    tts_ttfb_ms: t.ttsTtfbMs ?? null,
    e2e_ms: t.e2eMs ?? null,
    transcription_delay_ms: t.transcriptionDelayMs ?? null,
    user_stopped_at: t.userStoppedAt ?? null,
    agent_started_at: t.agentStartedAt ?? null,
    jitter_buffer_ms: jitter === null ? null : Math.round(jitter),
  };
}

/**
 * Sends each finished turn with `send` (the room's sendText to the caller), with how the caller's
 * audio is being received when `receive` is given. A failed send is reported to `onError` and
 * never reaches the call: the figures are for display only.
 */
export function publishTurns(
  session: voice.AgentSession,
  send: (json: string) => Promise<unknown>,
  onError: (err: unknown) => void,
  receive?: () => Promise<AudioReceive>,
): () => void {
  let turn = 0;
  return observeTurns(session, (t) => {
    turn += 1;
    const n = turn;
    (receive?.() ?? Promise.resolve(undefined))
      .catch(() => undefined)
      .then((r) => send(JSON.stringify(turnMessage(n, t, r))))
      .catch(onError);
  });
}
