/**
 * A task the voice agent hands to the caller's Letta agent: a plan, a summary of past calls,
 * anything that needs Letta's agent loop, tools or memory search, which a spoken turn cannot wait
 * for. One request through the agent, in its lane (between memory writes, after the quiet
 * window), bounded by a timeout. If the caller hangs up or the time runs out, this side stops
 * waiting; Letta finishes the task anyway and its answer stays in the agent's history.
 */
import { randomUUID } from 'node:crypto';
import type Letta from '@letta-ai/letta-client';
import { messageText } from './letta-writes.ts';
import type { TurnWriter } from './writer/turn-writer.ts';

export const defaultDelegationTimeoutMs = 120_000;

/** The task as Letta's agent reads it: who asked, on which channel, and how the answer is used. */
export function frameTask(task: string, callerIdentity: string): string {
  return [
    `[Task from a live voice call with ${callerIdentity}]`,
    task,
    '',
    'Do it with your memory and tools. Answer in a few short sentences: the voice assistant reads your answer to the caller.',
  ].join('\n');
}

export class Delegation {
  readonly #client: Letta;
  readonly #writer: TurnWriter;
  readonly #timeoutMs: number;

  constructor(o: { client: Letta; writer: TurnWriter; timeoutMs?: number }) {
    this.#client = o.client;
    this.#writer = o.writer;
    this.#timeoutMs = o.timeoutMs ?? defaultDelegationTimeoutMs;
  }

  /** Letta's answer; rejects on timeout, on `signal` (hang-up) or when Letta fails. */
  async run(agentId: string, callerIdentity: string, task: string, signal: AbortSignal): Promise<string> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    return this.#writer.withAgent(agentId, async (closing) => {
      const both = AbortSignal.any([signal, timeout, closing]);
      both.throwIfAborted();
      const r = await this.#client.agents.messages.create(
        agentId,
        { messages: [{ role: 'user', content: frameTask(task, callerIdentity), otid: randomUUID() }] },
        { signal: both, timeout: this.#timeoutMs, maxRetries: 0 },
      );
      const answer = r.messages
        .flatMap((m) => (m.message_type === 'assistant_message' ? [messageText(m.content)] : []))
        .join(' ')
        .trim();
      if (!answer) throw new Error('Letta answered with no text');
      return answer;
    });
  }
}
