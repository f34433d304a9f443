/**
 * The journal on local disk: this process's own journal file, plus the files it claimed from dead
 * processes (a claimed batch is acknowledged in the file that holds it). Dead letters go to
 * `dead-letter.jsonl` beside them. Good for one machine whose disk outlives the process; see the
 * Redis journal for anything else.
 */
import type { Logger } from '../../telemetry/logger.ts';
import type { Turn } from '../turn.ts';
import { JournalFile, type JournalOptions, allPendingTurns, claimOrphanFiles, pendingTurnsIn } from './process-file.ts';
import { appendDeadLetter, readDeadLetters, requeueDeadLetterFile } from './dead-letter-file.ts';
import {
  type AgentHold,
  type DeadLetter,
  type JournaledBatch,
  type JournalStatus,
  type JournaledTurn,
  MEMORY_ONLY,
  type PendingWork,
  type TurnJournal,
} from './journal.ts';

/** One process's lanes already send one request per agent at a time; Letta's 409 tells processes apart. */
const NO_HOLD: AgentHold = { release: () => Promise.resolve() };

export class FileJournal implements TurnJournal {
  readonly where: string;
  readonly #dir: string;
  readonly #opts: JournalOptions;
  readonly #logger: Logger | undefined;
  readonly #own: JournalFile;
  /** Every file this process appends to, by path (a turn's origin). */
  readonly #files = new Map<string, JournalFile>();

  constructor(dir: string, opts: JournalOptions = {}) {
    this.#dir = dir;
    this.#opts = opts;
    this.#logger = opts.logger;
    this.#own = JournalFile.create(dir, opts);
    this.#files.set(this.#own.path, this.#own);
    this.where = `file:${this.#own.dir}`;
  }

  async append(turn: Turn): Promise<JournaledTurn> {
    await this.#own.append({ op: 'turn', turn });
    return { turn, origin: this.#own.path, ref: turn.id };
  }

  async recordSend(batch: JournaledBatch, at: number): Promise<void> {
    const turnIds = batch.turns.map((t) => t.ref);
    await this.#file(batch)?.append({ op: 'batch', batchId: batch.id, agentId: batch.agentId, turnIds, at });
  }

  async ack(batch: JournaledBatch): Promise<void> {
    await this.#file(batch)?.append({ op: 'ack', batchId: batch.id });
  }

  async deadLetter(batch: JournaledBatch, letter: DeadLetter): Promise<string> {
    const path = await appendDeadLetter(this.#dir, letter);
    // Marked dead only once its turns are saved elsewhere: otherwise the journal keeps them.
    await this.#file(batch)?.append({ op: 'dead', batchId: batch.id, reason: letter.reason });
    return path;
  }

  async claimOrphans(): Promise<PendingWork> {
    const work: PendingWork = { batches: [], turns: [] };
    for (const { file, pending, from } of await claimOrphanFiles(this.#dir, this.#opts)) {
      this.#files.set(file.path, file);
      for (const b of pending.batches) {
        if (b.turns.length === 0) {
          await file
            .append({ op: 'dead', batchId: b.batchId, reason: 'turn records missing from the journal' })
            .catch((err: unknown) =>
              this.#logger?.warn(
                { event: 'journal_append_failed', err: (err as Error).name, batchId: b.batchId },
                'could not journal a dead batch',
              ),
            );
          continue;
        }
        work.batches.push({
          id: b.batchId,
          agentId: b.agentId,
          origin: file.path,
          turns: b.turns.map((turn) => ({ turn, origin: file.path, ref: turn.id })),
          sentAt: b.sentAt,
        });
      }
      work.turns.push(...pending.turns.map((turn) => ({ turn, origin: file.path, ref: turn.id })));
      this.#logger?.info(
        { event: 'memory_replay', file: from, batches: pending.batches.length, turns: pending.turns.length },
        'replaying turns a previous process left unacknowledged',
      );
    }
    return work;
  }

  async pendingTurnsFor(agentId: string): Promise<Turn[]> {
    return pendingTurnsIn(this.#dir, agentId, this.#logger);
  }

  /** A live process's file is never claimed (only a dead or long-stale one is). */
  async owns(): Promise<boolean> {
    return true;
  }

  async holdAgent(): Promise<AgentHold> {
    return NO_HOLD;
  }

  async keepLate(turn: Turn): Promise<void> {
    const late = JournalFile.create(this.#dir, this.#opts);
    try {
      await late.append({ op: 'turn', turn });
    } finally {
      await late.close();
    }
  }

  async status(): Promise<JournalStatus> {
    const pending = allPendingTurns(this.#dir, this.#logger);
    return {
      where: this.where,
      pendingTurns: pending.length,
      oldestPendingAt: pending.length ? Math.min(...pending.map((t) => t.finishedAt)) : null,
      deadLetters: (await readDeadLetters(this.#dir, this.#logger)).length,
    };
  }

  requeueDeadLetters(): Promise<{ letters: number; turns: number }> {
    return requeueDeadLetterFile(this.#dir, this.#opts);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#files.values()].map((f) => f.close()));
  }

  /** The file holding the batch; none for a batch kept in memory only. */
  #file(batch: JournaledBatch): JournalFile | undefined {
    if (batch.origin === MEMORY_ONLY) return undefined;
    const f = this.#files.get(batch.origin);
    if (!f) throw new Error(`no journal file ${batch.origin} in this process`);
    return f;
  }
}
