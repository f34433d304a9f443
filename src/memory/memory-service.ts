/**
 * Letta as the agent's long-term memory, composed from its parts: the caller→agent directory and
 * the memory cache (read path), the journaled turn writer (write path). One service per process;
 * one `CallerMemory` per call.
 */
import { NotFoundError } from '@letta-ai/letta-client';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { MemoryBlock, PendingTurn } from '../voice/memory-context.ts';
import { AgentDirectory, AgentTemplateRefused } from './agent-directory.ts';
import {
  type CallerMemory,
  CallRecorder,
  LateMemory,
  placeholderAgentId,
  placeholderIdentity,
  withinBudget,
} from './caller-memory.ts';
import { callerAgentTemplate } from './agent-template.ts';
import { openJournal } from './journal/open-journal.ts';
import { createLettaClient } from './letta-client.ts';
import { LettaWrites } from './letta-writes.ts';
import { Delegation } from './delegation.ts';
import { LettaText, type LettaTextOptions } from './letta-text.ts';
import { memoryTools } from './memory-tools.ts';
import { Recall, type RecallOptions } from './recall.ts';
import { MemoryCache } from './memory-cache.ts';
import type { Turn } from './turn.ts';
import { type FlushResult, TurnWriter, type TurnWriterOptions } from './writer/turn-writer.ts';

export { type CallerMemory, placeholderAgentId } from './caller-memory.ts';

export type LettaSettings = Config['letta'] & { baseURL: string };

export interface MemoryServiceOptions {
  letta: LettaSettings;
  logger: Logger;
  /** Awaited before every background Letta request: keeps them out of the reply window. */
  beforeRequest: () => Promise<void>;
  /** The reply model's name, recorded with captured turns. */
  replyModel?: string;
  /** Bounds of a typed message's answer from Letta; the defaults suit production. */
  text?: LettaTextOptions;
  /** Budget and size of a memory search (the recall tool). */
  recall?: RecallOptions;
  /** How long a delegated task may run. */
  delegationTimeoutMs?: number;
  /** Writer tuning (backoff, timeouts); the defaults suit production. */
  writer?: Partial<Omit<TurnWriterOptions, 'journal' | 'writes' | 'logger' | 'beforeRequest'>>;
}

/** Read timeout of background refreshes; the session-start read has its own budget. */
const READ_TIMEOUT_MS = 10_000;
/** Backoff while a caller's agent cannot be resolved (Letta down at the start of a call). */
const RESOLVE_RETRY_MS = [500, 1000, 2000, 5000, 10_000];

function asPending(t: Turn, thisCall: boolean): PendingTurn {
  return {
    user: t.user,
    assistant: t.assistant,
    at: t.finishedAt,
    interrupted: t.interrupted,
    ...(thisCall ? { thisCall: true as const } : {}),
  };
}

/** The id under which a dead job's cut-off turn is journaled: one per dead job, so never added twice. */
export function cutTurnId(deadSession: string): string {
  return `turn-cut-${deadSession}`;
}

/** A call that came back after its agent died (see src/calls/call-rescue.ts). */
export interface ResumedCall {
  /** The sessions (jobs) that served this same call before this one. */
  earlierSessions: string[];
  /** A turn the new session's conversation opens with (the cut-off question): not shown again as memory. */
  inConversation?: string;
}

export class MemoryService {
  readonly writer: TurnWriter;
  readonly #o: MemoryServiceOptions;
  readonly #directory: AgentDirectory;
  readonly #text: LettaText;
  readonly #recall: Recall;
  readonly #delegation: Delegation;
  readonly #client;
  /** Caches to refresh when a write for their agent is acknowledged. */
  readonly #caches = new Map<string, Set<MemoryCache>>();
  #refusalReported = false;

  constructor(opts: MemoryServiceOptions) {
    this.#o = opts;
    const { letta, logger } = opts;
    this.#client = createLettaClient(letta, READ_TIMEOUT_MS);
    this.#directory = new AgentDirectory({
      client: this.#client,
      logger,
      template: (identity) => callerAgentTemplate(identity, letta.agentModel, letta.embeddingModel),
      cacheFile: join(letta.journalDir, 'agent-directory.json'),
      ...(letta.agentId !== undefined ? { sharedAgentId: letta.agentId } : {}),
    });
    this.writer = new TurnWriter({
      // Look for a dead worker's turns as often as they become claimable.
      claimIntervalMs: letta.claimIdleMs,
      ...opts.writer,
      journal: openJournal(letta, logger),
      logger,
      beforeRequest: opts.beforeRequest,
      writes: new LettaWrites({
        client: this.#client,
        mode: letta.writeMode,
        logger,
        resolveAgentId: (id) => {
          const identity = placeholderIdentity(id);
          return identity === null ? Promise.resolve(id) : this.#directory.resolve(identity);
        },
        ...(opts.replyModel !== undefined ? { captureModel: opts.replyModel } : {}),
      }),
    });
    this.#text = new LettaText({ client: this.#client, writer: this.writer, logger, ...opts.text });
    this.#recall = new Recall({ client: this.#client, logger, ...opts.recall });
    this.#delegation = new Delegation({
      client: this.#client,
      writer: this.writer,
      ...(opts.delegationTimeoutMs !== undefined ? { timeoutMs: opts.delegationTimeoutMs } : {}),
    });
    this.writer.on('ack', (ev) => {
      for (const cache of this.#caches.get(ev.agentId) ?? []) cache.refresh();
    });
  }

  /** Sends what earlier processes left unacknowledged in the journal. Runs in the background. */
  replay(): void {
    this.writer
      .replay()
      .catch((err: unknown) =>
        this.#o.logger.error({ err: (err as Error).message }, 'could not replay the memory journal'),
      );
  }

  /**
   * Opens one caller's memory for a call and starts reading it at once: resolves their Letta agent
   * and reads its blocks, in parallel with the session's own start. `ready` settles within the read
   * budget; past it the call goes on and the blocks are used from the first turn after they arrive.
   * A new caller's memory is ready as soon as Letta is known to hold no agent for them: the template's
   * blocks and their journaled turns, while the agent is created in the background.
   * A resumed call's earlier sessions are shown as this call's turns, not an earlier call's.
   */
  open(identity: string, sessionId: string, resumed?: ResumedCall): CallerMemory {
    const { logger } = this.#o;
    const budgetMs = this.#o.letta.memoryBudgetMs;
    const context = new LateMemory();
    let cache: MemoryCache | null = null;
    const calls: CallRecorder = new CallRecorder({
      identity,
      sessionId,
      submit: (turn) => void this.writer.submit(turn),
      onEnd: () => {
        if (calls.agentId && cache) this.#caches.get(calls.agentId)?.delete(cache);
      },
      // A rescued call's first reply answers its cut-off question, journaled as the dead job's turn.
      answersFirst: resumed?.inConversation !== undefined,
    });
    let newCaller!: () => void;
    const firstVisit = new Promise<void>((resolve) => (newCaller = resolve));
    const agentId = this.#resolve(identity, () => calls.open, newCaller).then((id) => (calls.agentId = id));
    const loaded = agentId.then(async (id) => {
      const live = this.#cacheFor(id, identity, sessionId, resumed);
      await live.load();
      context.cache = live;
      if (calls.open) this.#track(id, (cache = live));
    });
    // A new caller has nothing in Letta yet: the greeting need not wait for their agent's creation.
    const asNew = firstVisit.then(async () => {
      context.firstVisit = {
        blocks: this.#templateBlocks(identity),
        recentTurns: await this.#pendingTurns([placeholderAgentId(identity)], sessionId, resumed)().catch(
          (err: unknown) => {
            logger.warn(
              { event: 'journal_read_failed', err: (err as Error).name },
              'could not read a new caller’s unacknowledged turns from the journal',
            );
            return [];
          },
        ),
      };
    });
    // Once the read has ended as a new caller's, a later failure is said here; a refused template
    // has been said once, loudly, by the service, and is not said again per call.
    loaded.catch((err: unknown) => {
      if (context.firstVisit && !(err instanceof AgentTemplateRefused))
        logger.warn({ err: (err as Error).message }, 'could not create or read a new caller’s Letta agent');
    });
    const read = Promise.race([loaded, asNew]);
    const ready = withinBudget(read, budgetMs, logger, (err) => {
      if (err instanceof NotFoundError && this.#o.letta.agentId === undefined) this.#directory.forget(identity);
    });
    const caller = {
      agentId: () => agentId,
      placeholderAgentId: placeholderAgentId(identity),
      callerIdentity: identity,
      sessionId,
    };
    return {
      context,
      agentId,
      ready,
      isNew: () => context.firstVisit !== null,
      text: { reply: (text, onDelta) => this.#text.reply(caller, text, onDelta) },
      tools: memoryTools({
        recall: this.#recall,
        delegation: this.#delegation,
        agentId: () => agentId,
        callerIdentity: identity,
        agentIdWaitMs: budgetMs,
        logger,
      }),
      recorder: () => calls.recorder(),
      record: (session) => calls.record(session),
    };
  }

  /**
   * The turn a dead job was answering (its caller's words; the answer died with it), kept as an
   * interrupted turn of that job's session: it reaches Letta once, and the next agent's prompt
   * shows it among the call's turns not yet in memory. Resolves once journaled, so a call opened
   * after it reads it. Returns the turn's id.
   */
  async carryOver(identity: string, deadSession: string, open: { user: string; userAt: number }): Promise<string> {
    const id = cutTurnId(deadSession);
    await this.writer.submit({
      id,
      // The agent's own id when known: the new agent's turns then queue behind it in one lane, in order.
      agentId: this.#directory.known(identity) ?? placeholderAgentId(identity),
      callerIdentity: identity,
      sessionId: deadSession,
      user: open.user,
      assistant: '',
      interrupted: true,
      userAt: open.userAt,
      finishedAt: Date.now(),
    });
    return id;
  }

  /** Waits for pending writes up to `timeoutMs`; what is left stays journaled for the next start. */
  async close(timeoutMs: number): Promise<FlushResult> {
    const result = await this.writer.flush(timeoutMs);
    if (!result.drained) {
      this.#o.logger.warn(
        { event: 'memory_flush_incomplete', pendingTurns: result.pending.length },
        'memory writes still pending at shutdown; they stay journaled and are replayed at the next start',
      );
    }
    await this.writer.close();
    return result;
  }

  #cacheFor(agentId: string, identity: string, sessionId: string, resumed?: ResumedCall): MemoryCache {
    return new MemoryCache({
      client: this.#client,
      agentId,
      logger: this.#o.logger,
      beforeRequest: this.#o.beforeRequest,
      pendingTurns: this.#pendingTurns([agentId, placeholderAgentId(identity)], sessionId, resumed),
    });
  }

  /**
   * Turns Letta has not acknowledged, but none the session holds in its own conversation: its own,
   * and the cut-off question a resumed call opens with.
   */
  #pendingTurns(agentIds: string[], sessionId: string, resumed?: ResumedCall): () => Promise<PendingTurn[]> {
    const { journal } = this.writer;
    const thisCall = new Set(resumed?.earlierSessions ?? []);
    return async () =>
      (await Promise.all(agentIds.map((id) => journal.pendingTurnsFor(id))))
        .flat()
        .filter((t) => t.sessionId !== sessionId && t.id !== resumed?.inConversation)
        .sort((a, b) => a.finishedAt - b.finishedAt)
        .map((t) => asPending(t, thisCall.has(t.sessionId)));
  }

  /** What a new caller's agent will hold once created: the template's blocks. */
  #templateBlocks(identity: string): MemoryBlock[] {
    const { agentModel, embeddingModel } = this.#o.letta;
    return (callerAgentTemplate(identity, agentModel, embeddingModel).memory_blocks ?? []).map((b) => ({
      label: b.label,
      value: b.value,
      ...(b.description ? { description: b.description } : {}),
    }));
  }

  /** A wrong setting is said once per process, loudly; calls go on without memory, turns stay journaled. */
  #reportRefusal(err: AgentTemplateRefused): void {
    if (this.#refusalReported) return;
    this.#refusalReported = true;
    this.#o.logger.error(
      { event: 'letta_template_refused' },
      `${err.message} Calls go on without memory; their turns stay journaled and reach Letta once the setting is fixed.`,
    );
  }

  #track(agentId: string, cache: MemoryCache): void {
    let set = this.#caches.get(agentId);
    if (!set) this.#caches.set(agentId, (set = new Set()));
    set.add(cache);
  }

  /**
   * Resolves the caller's agent, retrying in the background while Letta is unreachable and the call
   * lasts. Turns finished meanwhile are journaled under a placeholder the writer resolves later.
   */
  async #resolve(identity: string, active: () => boolean, onFirstVisit: () => void): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const lookup = this.#directory.lookup(identity);
      lookup.firstVisit.then(
        (isNew) => isNew && onFirstVisit(),
        () => undefined,
      );
      try {
        return await lookup.agentId;
      } catch (err) {
        if (!active()) throw err;
        const delay = RESOLVE_RETRY_MS[Math.min(attempt, RESOLVE_RETRY_MS.length - 1)]!;
        if (err instanceof AgentTemplateRefused) this.#reportRefusal(err);
        else
          this.#o.logger.warn(
            { err: (err as Error).message, retryInMs: delay },
            'could not find the caller’s Letta agent; retrying',
          );
        await sleep(delay, undefined, { ref: false });
      }
    }
  }
}

/**
 * The memory service for a configuration, or null when Letta is not configured (the agent then
 * runs without long-term memory). Replays what earlier processes left in the journal.
 */
export function openMemoryService(
  config: Config,
  logger: Logger,
  quiet: { wait(): Promise<void> },
): MemoryService | null {
  const letta = config.letta;
  if (letta.baseURL === undefined) return null;
  const service = new MemoryService({
    letta: { ...letta, baseURL: letta.baseURL },
    logger,
    beforeRequest: () => quiet.wait(),
    replyModel: config.openai.model,
  });
  service.replay();
  return service;
}
