/**
 * One Letta agent's lane: the turns and batches waiting for it, in order, and the one batch in
 * flight. Concurrent requests to one Letta agent are undefined behaviour, so a lane sends one at a
 * time; turns that arrive meanwhile are coalesced into its next batch.
 */
import { randomUUID } from 'node:crypto';
import type { JournaledBatch, JournaledTurn } from '../journal/journal.ts';
import type { Turn } from '../turn.ts';

export type LaneItem =
  | { kind: 'turn'; turn: JournaledTurn; replayed: boolean }
  /** A batch in doubt: an earlier send's outcome is unknown, that send began at `sentAt` (0: not known when). */
  | { kind: 'batch'; batch: JournaledBatch; replayed: boolean; sentAt: number };

/** Work that needs the agent to itself (a caller's text through Letta), run between two batches. */
export interface LaneTask {
  run(): Promise<void>;
}

export interface NextBatch {
  batch: JournaledBatch;
  /** When an earlier process or delivery last sent it; undefined: never sent. */
  sentAt?: number;
}

export class AgentLane {
  readonly agentId: string;
  readonly #maxBatch: number;
  #items: LaneItem[] = [];
  /** Tasks go before batches: a caller is waiting for them. */
  #tasks: LaneTask[] = [];
  inFlight: JournaledBatch | null = null;
  /** The lane's send loop while it runs. */
  loop: Promise<void> | null = null;

  constructor(agentId: string, maxBatchTurns: number) {
    this.agentId = agentId;
    this.#maxBatch = maxBatchTurns;
  }

  /** Replayed work is older than anything submitted in this process: it goes first. */
  add(item: LaneItem): void {
    const at = item.replayed ? this.#firstOwn() : -1;
    if (at < 0) this.#items.push(item);
    else this.#items.splice(at, 0, item);
  }

  addTask(task: LaneTask): void {
    this.#tasks.push(task);
  }

  takeTask(): LaneTask | undefined {
    return this.#tasks.shift();
  }

  /** A batch whose delivery stopped goes back as it was: behind replayed work, before newer turns. */
  putBack(batch: JournaledBatch, sentAt: number): void {
    const at = this.#firstOwn();
    this.#items.splice(at < 0 ? this.#items.length : at, 0, { kind: 'batch', batch, replayed: false, sentAt });
  }

  #firstOwn(): number {
    return this.#items.findIndex((i) => !i.replayed);
  }

  /** Next batch: a replayed one as it was, or consecutive turns of one origin and session. */
  take(): NextBatch | undefined {
    const head = this.#items[0];
    if (!head) return undefined;
    if (head.kind === 'batch') {
      this.#items.shift();
      return { batch: head.batch, sentAt: head.sentAt };
    }
    const turns: JournaledTurn[] = [];
    const { origin } = head.turn;
    const session = head.turn.turn.sessionId;
    while (turns.length < this.#maxBatch) {
      const next = this.#items[0];
      if (!next || next.kind !== 'turn' || next.turn.origin !== origin || next.turn.turn.sessionId !== session) break;
      turns.push(next.turn);
      this.#items.shift();
    }
    return { batch: { id: randomUUID(), agentId: this.agentId, origin, turns } };
  }

  /** Turns not yet acknowledged: in flight or waiting. */
  turns(): Turn[] {
    const out: Turn[] = this.inFlight ? this.inFlight.turns.map((t) => t.turn) : [];
    for (const i of this.#items)
      if (i.kind === 'turn') out.push(i.turn.turn);
      else out.push(...i.batch.turns.map((t) => t.turn));
    return out;
  }

  get depth(): number {
    let n = this.inFlight?.turns.length ?? 0;
    for (const i of this.#items) n += i.kind === 'turn' ? 1 : i.batch.turns.length;
    return n;
  }

  get idle(): boolean {
    return this.#items.length === 0 && this.#tasks.length === 0;
  }
}
