/**
 * The caller's memory, shown to that caller: what the agent knew about them at the start of the
 * call (their Letta memory block, `human`, as plain text, without the prompt's framing or the
 * agent's persona, and their earlier turns not yet in Letta) and each of the turns as it becomes durable
 * (journaled) and reaches Letta (acknowledged, with its lag). JSON messages on the text-stream
 * topic `voice-agent.memory`, sent to that caller only. Transcripts stay out: the page has them.
 */
import type { EventEmitter } from 'node:events';
import type { TurnWriterEvents } from '../memory/writer/writer-events.ts';
import type { MemoryContext } from '../voice/memory-context.ts';
import type { MemorySnapshot } from '../voice/memory-context.ts';

export const memoryTopic = 'voice-agent.memory';

export type MemoryMessage =
  /**
   * `status`: the read finished within its budget, late (used from the turn after it arrived), or
   * failed. `about_you`: the caller's memory block; `earlier_turns`: their turns Letta has not taken in yet.
   */
  | {
      kind: 'start';
      status: 'in-time' | 'late' | 'failed';
      about_you: string | null;
      earlier_turns: { caller: string; agent: string }[];
    }
  | { kind: 'journaled'; turn_id: string }
  | { kind: 'acked'; turn_ids: string[]; lag_ms: number[] };

export interface MemorySource {
  context: MemoryContext;
  agentId: Promise<string>;
  ready: Promise<'in-time' | 'late' | 'failed'>;
}

/** The block Letta keeps about the person it talks to (its default memory layout names it so). */
const callerBlock = 'human';

/** What the agent knows about the caller, readable: their block and earlier turns, within `maxChars`. */
export function aboutTheCaller(
  snapshot: MemorySnapshot,
  maxChars: number,
): { about_you: string | null; earlier_turns: { caller: string; agent: string }[] } {
  const block = snapshot.blocks.find((b) => b.label === callerBlock)?.value.trim() ?? '';
  const aboutYou = block.length > maxChars ? `${block.slice(0, maxChars - 1)}…` : block;
  let budget = maxChars - aboutYou.length;
  const turns: { caller: string; agent: string }[] = [];
  // The newest first: they are the ones the caller remembers saying.
  for (const t of [...snapshot.recentTurns].reverse()) {
    budget -= t.user.length + t.assistant.length;
    if (budget < 0) break;
    turns.unshift({ caller: t.user, agent: t.assistant });
  }
  return { about_you: aboutYou || null, earlier_turns: turns };
}

/**
 * Sends the start message once the read settles, then the caller's turns' states. The writer serves
 * every call of the process: events are filtered by this caller's Letta agent. A failed send goes
 * to `onError` and never reaches the call. Returns a function that stops listening.
 */
export function publishMemory(
  memory: MemorySource,
  writer: EventEmitter<TurnWriterEvents>,
  maxChars: number,
  send: (json: string) => Promise<unknown>,
  onError: (err: unknown) => void,
): () => void {
  const post = (m: MemoryMessage) => void send(JSON.stringify(m)).catch(onError);
  let stopped = false;
  let agentId: string | undefined;
  const onQueued = (e: TurnWriterEvents['queued'][0]) => {
    if (e.agentId === agentId) post({ kind: 'journaled', turn_id: e.turnId });
  };
  const onAck = (e: TurnWriterEvents['ack'][0]) => {
    if (e.agentId === agentId) post({ kind: 'acked', turn_ids: e.turnIds, lag_ms: e.lagMs });
  };
  memory.ready.then((status) => {
    if (!stopped) post({ kind: 'start', status, ...aboutTheCaller(memory.context.snapshot(), maxChars) });
  }, onError);
  memory.agentId.then(
    (id) => {
      if (stopped) return;
      agentId = id;
      writer.on('queued', onQueued);
      writer.on('ack', onAck);
    },
    // No agent, no turns to follow: the start message already says the read failed.
    () => undefined,
  );
  return () => {
    stopped = true;
    writer.off('queued', onQueued);
    writer.off('ack', onAck);
  };
}
