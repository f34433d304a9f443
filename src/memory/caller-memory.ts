/**
 * One caller's memory for one call: the read path (their agent resolved, their blocks cached within
 * the read budget) and the write path (the call's finished turns recorded into the journal). Built
 * by `MemoryService.open`; each part reads alone.
 */
import type { llm, voice } from '@livekit/agents';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../telemetry/logger.ts';
import { emptySnapshot, type MemoryContext, type MemorySnapshot } from '../voice/memory-context.ts';
import type { TextResponder } from '../voice/text-replies.ts';
import { AgentTemplateRefused } from './agent-directory.ts';
import type { MemoryCache } from './memory-cache.ts';
import { TurnRecorder } from './turn-recorder.ts';
import type { Turn } from './turn.ts';

const PLACEHOLDER = 'pending-agent-for:';

/** Stands for a caller's agent id until Letta can be asked for it. */
export function placeholderAgentId(identity: string): string {
  return `${PLACEHOLDER}${identity}`;
}

/** The caller identity a placeholder stands for, or null for a real agent id. */
export function placeholderIdentity(agentId: string): string | null {
  return agentId.startsWith(PLACEHOLDER) ? agentId.slice(PLACEHOLDER.length) : null;
}

export type ReadOutcome = 'in-time' | 'late' | 'failed';

/** The llm node's view: empty until the caller's blocks arrive, then the live cache. */
export class LateMemory implements MemoryContext {
  cache: MemoryCache | null = null;
  /** A new caller's memory while their agent is being created: the template's blocks. */
  firstVisit: MemorySnapshot | null = null;
  snapshot(): MemorySnapshot {
    return this.cache?.snapshot() ?? this.firstVisit ?? emptySnapshot;
  }
}

/**
 * Races the first read of the caller's blocks against the budget: 'in-time' when they are cached,
 * 'late' when still coming (used from the first turn after they arrive), 'failed' when they could
 * not be read. The budget timer keeps the process alive: it is short, and a CLI awaiting this
 * must not see an empty event loop while the read retries.
 */
export async function withinBudget(
  read: Promise<void>,
  budgetMs: number,
  logger: Logger,
  onFailure: (err: unknown) => void,
): Promise<ReadOutcome> {
  const outcome = await Promise.race([
    read.then(
      () => 'in-time' as const,
      (err: unknown) => {
        onFailure(err);
        // A refused template has been said once, loudly, by the service; not again per call.
        if (!(err instanceof AgentTemplateRefused))
          logger.warn({ err: (err as Error).message }, 'could not read memory; the call goes on without it');
        return 'failed' as const;
      },
    ),
    sleep(budgetMs, 'late' as const),
  ]);
  if (outcome === 'late')
    logger.warn({ budgetMs }, 'memory not read within its budget; it will be used once it arrives');
  return outcome;
}

export interface CallerMemory {
  /** What the llm node reads: empty until the blocks arrive. */
  context: MemoryContext;
  /** Settles when the caller's Letta agent is known. */
  agentId: Promise<string>;
  /** Settles within the read budget (see `withinBudget`). */
  ready: Promise<ReadOutcome>;
  /** True once the lookup found no Letta agent for the caller: this is their first call. */
  isNew(): boolean;
  /** Answers the caller's typed messages through their own Letta agent. */
  text: TextResponder;
  /** The voice agent's tools over the caller's Letta agent: recall and delegation. */
  tools: llm.ToolContextLike;
  /** A recorder of this call's turns, for a caller that has no session to attach (text, the bench). */
  recorder(): TurnRecorder;
  /** Records the session's finished turns until the returned function is called. */
  record(session: voice.AgentSession): () => void;
}

/** The write side of one call: turns go to the agent once known, to the placeholder until then. */
export class CallRecorder {
  agentId: string | null = null;
  open = true;
  readonly #identity: string;
  readonly #sessionId: string;
  readonly #submit: (turn: Turn) => void;
  readonly #onEnd: () => void;
  readonly #answersFirst: boolean;

  constructor(o: {
    identity: string;
    sessionId: string;
    submit: (turn: Turn) => void;
    onEnd: () => void;
    /** See `TurnRecorderOptions.answersFirst`. */
    answersFirst?: boolean;
  }) {
    this.#identity = o.identity;
    this.#sessionId = o.sessionId;
    this.#submit = o.submit;
    this.#onEnd = o.onEnd;
    this.#answersFirst = o.answersFirst === true;
  }

  recorder(): TurnRecorder {
    return new TurnRecorder({
      agentId: () => this.agentId ?? placeholderAgentId(this.#identity),
      callerIdentity: this.#identity,
      sessionId: this.#sessionId,
      submit: this.#submit,
      answersFirst: this.#answersFirst,
    });
  }

  record(session: voice.AgentSession): () => void {
    const recorder = this.recorder();
    const detach = recorder.attach(session);
    return () => {
      detach();
      recorder.finish();
      this.open = false;
      this.#onEnd();
    };
  }
}
