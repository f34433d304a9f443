/**
 * The read path: a caller's core memory blocks, fetched once at session start and refreshed in the
 * background after each acknowledged write. The llm node reads the
 * cached copy synchronously; nothing here runs inside a turn.
 */
import type Letta from '@letta-ai/letta-client';
import type { Logger } from '../telemetry/logger.ts';
import type { MemoryBlock, MemoryContext, MemorySnapshot, PendingTurn } from '../voice/memory-context.ts';

export interface MemoryCacheOptions {
  client: Letta;
  agentId: string;
  logger: Logger;
  /** Awaited before every background request (keeps them out of the reply window). */
  beforeRequest: () => Promise<void>;
  /** This caller's turns that Letta has not acknowledged yet, from earlier sessions (read from the journal). */
  pendingTurns: () => Promise<PendingTurn[]>;
}

export class MemoryCache implements MemoryContext {
  readonly #o: MemoryCacheOptions;
  #blocks: MemoryBlock[] = [];
  #recent: PendingTurn[] = [];
  #refreshing: Promise<void> | null = null;
  #again = false;
  /** The first read of the journal: the unacknowledged turns count even while Letta is unreachable. */
  readonly #firstPending: Promise<void>;

  constructor(opts: MemoryCacheOptions) {
    this.#o = opts;
    this.#firstPending = this.#readPending();
  }

  snapshot(): MemorySnapshot {
    return { blocks: this.#blocks, recentTurns: this.#recent };
  }

  /** Fetches the blocks once; the caller decides how long to wait for it. */
  async load(): Promise<void> {
    await Promise.all([this.#fetch(), this.#firstPending]);
  }

  /** Background refresh, coalesced: one request in flight, at most one more queued. */
  refresh(): void {
    if (this.#refreshing) {
      this.#again = true;
      return;
    }
    this.#refreshing = (async () => {
      do {
        this.#again = false;
        await this.#o.beforeRequest();
        try {
          await this.#fetch();
        } catch (err) {
          this.#o.logger.warn({ err: (err as Error).message }, 'memory refresh failed; keeping the cached blocks');
        }
      } while (this.#again);
    })().finally(() => {
      this.#refreshing = null;
    });
  }

  async #fetch(): Promise<void> {
    // One request: iterating the page would cost a second round trip for the empty next page.
    const page = await this.#o.client.agents.blocks.list(this.#o.agentId, { limit: 50 });
    this.#blocks = page.items.map((b) => ({
      label: b.label ?? 'memory',
      value: b.value,
      ...(b.description ? { description: b.description } : {}),
    }));
    await this.#readPending();
  }

  async #readPending(): Promise<void> {
    try {
      this.#recent = await this.#o.pendingTurns();
    } catch (err) {
      this.#o.logger.warn(
        { event: 'journal_read_failed', err: (err as Error).name },
        'could not read unacknowledged turns from the journal; keeping what was read before',
      );
    }
  }
}
