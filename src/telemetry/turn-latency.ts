/**
 * Per-turn latency, read from the framework's own measurements on each finished conversation
 * item: it only listens to session events and never touches the services it measures.
 */
import { voice } from '@livekit/agents';
import type { Logger } from './logger.ts';

export interface TurnLatency {
  userText: string | null;
  assistantText: string;
  interrupted: boolean;
  /** User stopped speaking → final transcript. */
  transcriptionDelayMs: number | undefined;
  /** User stopped speaking → turn committed. */
  endOfTurnDelayMs: number | undefined;
  /** llm node started → first token. */
  llmTtftMs: number | undefined;
  /** First text into TTS → first audio out. */
  ttsTtfbMs: number | undefined;
  /** User stopped speaking → agent audio started playing. */
  e2eMs: number | undefined;
  /**
   * Epoch ms of the ends of `e2eMs` on this process's clock: where VAD put the end of the caller's
   * speech, and when the reply's first frame went to the audio output. A caller on the same
   * clock splits its own end to end with them (the way there, the worker, the way back).
   */
  userStoppedAt: number | undefined;
  agentStartedAt: number | undefined;
}

const ms = (s: number | undefined) => (s === undefined ? undefined : Math.round(s * 1000));

/** Calls `onTurn` once per assistant message; returns a function that stops observing. */
export function observeTurns(session: voice.AgentSession, onTurn: (t: TurnLatency) => void): () => void {
  let lastUser: {
    text: string;
    transcriptionDelay: number | undefined;
    endOfTurnDelay: number | undefined;
    stoppedAt: number | undefined;
  } | null = null;
  const handler = (ev: voice.ConversationItemAddedEvent) => {
    const item = ev.item;
    if (item.type !== 'message') return;
    if (item.role === 'user') {
      lastUser = {
        text: item.textContent ?? '',
        transcriptionDelay: item.metrics.transcriptionDelay,
        endOfTurnDelay: item.metrics.endOfTurnDelay,
        stoppedAt: item.metrics.stoppedSpeakingAt,
      };
      return;
    }
    if (item.role !== 'assistant') return;
    const user = lastUser;
    lastUser = null;
    onTurn({
      userText: user?.text ?? null,
      assistantText: item.textContent ?? '',
      interrupted: item.interrupted,
      transcriptionDelayMs: ms(user?.transcriptionDelay),
      endOfTurnDelayMs: ms(user?.endOfTurnDelay),
      llmTtftMs: ms(item.metrics.llmNodeTtft),
      ttsTtfbMs: ms(item.metrics.ttsNodeTtfb),
      e2eMs: ms(item.metrics.e2eLatency),
      userStoppedAt: ms(user?.stoppedAt),
      agentStartedAt: ms(item.metrics.startedSpeakingAt),
    });
  };
  session.on(voice.AgentSessionEventTypes.ConversationItemAdded, handler);
  return () => session.off(voice.AgentSessionEventTypes.ConversationItemAdded, handler);
}

/** One structured log line per turn with its latency breakdown (transcripts stay out of it). */
export function logTurnLatency(session: voice.AgentSession, logger: Logger): () => void {
  return observeTurns(session, (t) => {
    const { userText: _u, assistantText: _a, userStoppedAt: _s, agentStartedAt: _p, ...latency } = t;
    logger.info({ event: 'turn_latency', ...latency }, 'turn latency');
  });
}
