/**
 * Keeps background work off the critical path. From the moment the caller stops speaking until
 * the agent starts answering, background requests (memory writes, memory refreshes) wait: the
 * window belongs to the reply. A bound on the hold keeps a lost event from stalling memory.
 */
import { voice } from '@livekit/agents';

export class QuietWindow {
  readonly #maxHoldMs: number;
  #heldUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  #waiters: (() => void)[] = [];

  constructor(maxHoldMs = 8000) {
    this.#maxHoldMs = maxHoldMs;
  }

  get held(): boolean {
    return this.#heldUntil > Date.now();
  }

  hold(): void {
    this.#heldUntil = Date.now() + this.#maxHoldMs;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.release(), this.#maxHoldMs);
    this.#timer.unref();
  }

  release(): void {
    this.#heldUntil = 0;
    clearTimeout(this.#timer);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves at once when nothing is held, else when the window closes. */
  wait(): Promise<void> {
    if (!this.held) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

/**
 * Holds the window when the caller stops speaking and releases it when the agent starts speaking
 * (its first audio comes after its first token), or when the caller starts speaking again.
 */
export function bindQuietWindow(session: voice.AgentSession, window: QuietWindow): () => void {
  const onUser = (ev: voice.UserStateChangedEvent) => {
    if (ev.oldState === 'speaking' && ev.newState !== 'speaking') window.hold();
    else if (ev.newState === 'speaking') window.release();
  };
  const onAgent = (ev: voice.AgentStateChangedEvent) => {
    if (ev.newState === 'speaking') window.release();
  };
  session.on(voice.AgentSessionEventTypes.UserStateChanged, onUser);
  session.on(voice.AgentSessionEventTypes.AgentStateChanged, onAgent);
  return () => {
    session.off(voice.AgentSessionEventTypes.UserStateChanged, onUser);
    session.off(voice.AgentSessionEventTypes.AgentStateChanged, onAgent);
    window.release();
  };
}
