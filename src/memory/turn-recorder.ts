/**
 * Turns the session's finished conversation items into Turns: the caller's words plus what the
 * assistant actually said (the framework truncates an interrupted reply to what was heard). A
 * turn is handed on the moment its assistant message is final, so memory lag starts there.
 */
import { voice } from '@livekit/agents';
import { randomUUID } from 'node:crypto';
import type { Turn } from './turn.ts';

export interface TurnRecorderOptions {
  /** The caller's Letta agent id, or a placeholder the writer resolves later (Letta unreachable at call start). */
  agentId: () => string;
  callerIdentity: string;
  sessionId: string;
  submit: (turn: Turn) => void;
  /**
   * The session opens by answering a question the caller asked before it began (a rescued call's
   * cut-off question, already recorded): its first reply is a turn of its own, not a greeting.
   */
  answersFirst?: boolean;
}

export class TurnRecorder {
  readonly #o: TurnRecorderOptions;
  #user: { text: string; at: number } | null = null;
  #heardFromCaller = false;

  constructor(opts: TurnRecorderOptions) {
    this.#o = opts;
    this.#heardFromCaller = opts.answersFirst === true;
  }

  /** Records from a session until the returned function is called. */
  attach(session: voice.AgentSession): () => void {
    const onItem = (ev: voice.ConversationItemAddedEvent) => {
      const item = ev.item;
      if (item.type !== 'message') return;
      const text = (item.textContent ?? '').trim();
      if (item.role === 'user') this.user(text, item.createdAt);
      else if (item.role === 'assistant') this.assistant(text, item.interrupted);
    };
    session.on(voice.AgentSessionEventTypes.ConversationItemAdded, onItem);
    return () => session.off(voice.AgentSessionEventTypes.ConversationItemAdded, onItem);
  }

  user(text: string, at: number): void {
    if (!text) return;
    this.#heardFromCaller = true;
    // Two user messages without a reply between them (the first reply was cut before any audio)
    // belong to one turn.
    this.#user = this.#user ? { text: `${this.#user.text} ${text}`, at: this.#user.at } : { text, at };
  }

  assistant(text: string, interrupted: boolean): void {
    // The greeting, before the caller has said anything, tells memory nothing about them.
    if (!this.#heardFromCaller || (!text && !this.#user)) return;
    this.#emit(text, interrupted);
  }

  /** At the end of the call: a last question the agent never answered is still a turn. */
  finish(): void {
    if (this.#user) this.#emit('', true);
  }

  #emit(assistant: string, interrupted: boolean): void {
    const user = this.#user;
    this.#user = null;
    const now = Date.now();
    this.#o.submit({
      id: `turn-${randomUUID()}`,
      agentId: this.#o.agentId(),
      callerIdentity: this.#o.callerIdentity,
      sessionId: this.#o.sessionId,
      user: user?.text ?? '',
      assistant,
      interrupted,
      userAt: user?.at ?? now,
      finishedAt: now,
    });
  }
}
