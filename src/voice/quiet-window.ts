/**
 * Keeps background work off the critical path. From the moment a caller stops speaking until the
 * agent starts answering, background requests (memory writes, memory refreshes) wait: the window
 * belongs to the reply. One window per process serves every session in it: it is quiet while any
 * session holds it. A bound on each hold keeps a lost event from stalling memory.
 */
import { voice } from '@livekit/agents';
import { quietWindowMaxHoldMs } from './speech-settings.ts';

export class QuietWindow {
  readonly #maxHoldMs: number;
  readonly #holds = new Map<symbol, NodeJS.Timeout>();
  #waiters: (() => void)[] = [];

  constructor(maxHoldMs = quietWindowMaxHoldMs) {
    this.#maxHoldMs = maxHoldMs;
  }

  get held(): boolean {
    return this.#holds.size > 0;
  }

  hold(key: symbol): void {
    clearTimeout(this.#holds.get(key));
    const timer = setTimeout(() => this.release(key), this.#maxHoldMs);
    timer.unref();
    this.#holds.set(key, timer);
  }

  release(key: symbol): void {
    clearTimeout(this.#holds.get(key));
    this.#holds.delete(key);
    if (this.held) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves at once when nothing is held, else when the last hold ends. */
  wait(): Promise<void> {
    if (!this.held) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

/**
 * Holds the window when the caller starts speaking and releases it when the agent starts speaking
 * (its first audio comes after its first token).
 */
export function bindQuietWindow(session: voice.AgentSession, window: QuietWindow): () => void {
  const key = Symbol('session');
  const onUser = (ev: voice.UserStateChangedEvent) => {
    if (ev.newState === 'speaking') window.hold(key);
  };
  const onAgent = (ev: voice.AgentStateChangedEvent) => {
    if (ev.newState === 'speaking') window.release(key);
  };
  session.on(voice.AgentSessionEventTypes.UserStateChanged, onUser);
  session.on(voice.AgentSessionEventTypes.AgentStateChanged, onAgent);
  return () => {
    session.off(voice.AgentSessionEventTypes.UserStateChanged, onUser);
    session.off(voice.AgentSessionEventTypes.AgentStateChanged, onAgent);
    window.release(key);
  };
}
