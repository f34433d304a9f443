/**
 * The caller's memory, shown to that caller: what the agent knew at the start of the call (the
 * bounded memory section it put in the prompt) and each of the caller's turns as it becomes durable
 * (journaled) and reaches Letta (acknowledged, with its lag). JSON messages on the text-stream
 * topic `voice-agent.memory`, sent to that caller only. Transcripts stay out: the page has them.
 */
import type { EventEmitter } from 'node:events';
import type { TurnWriterEvents } from '../memory/writer/writer-events.ts';
import type { MemoryContext } from '../voice/memory-context.ts';
import { renderMemory } from '../voice/prompt.ts';

export const memoryTopic = 'voice-agent.memory';

export type MemoryMessage =
  /** `status`: the read finished within its budget, late (used from the turn after it arrived), or failed. */
  | { kind: 'start'; status: 'in-time' | 'late' | 'failed'; section: string | null }
  | { kind: 'journaled'; turn_id: string }
  | { kind: 'acked'; turn_ids: string[]; lag_ms: number[] };

export interface MemorySource {
  context: MemoryContext;
  agentId: Promise<string>;
  ready: Promise<'in-time' | 'late' | 'failed'>;
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
    if (!stopped) post({ kind: 'start', status, section: renderMemory(memory.context.snapshot(), maxChars) });
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
