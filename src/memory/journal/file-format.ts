/**
 * The journal file format: one JSON record per line (turn, batch, ack, dead), and what a file's
 * records add up to. Reading is forgiving: a torn last line (its writer died mid-append) and
 * corrupt lines are skipped and reported, never fatal.
 */
import type { Logger } from '../../telemetry/logger.ts';
import type { Turn } from '../turn.ts';

export type JournalRecord =
  | { op: 'turn'; turn: Turn }
  /** Written before every send of the batch; `at` (ms since the epoch) is when that send began. */
  | { op: 'batch'; batchId: string; agentId: string; turnIds: string[]; at?: number }
  | { op: 'ack'; batchId: string }
  | { op: 'dead'; batchId: string; reason: string };

export interface FileBatch {
  batchId: string;
  agentId: string;
  turns: Turn[];
  /** When its last send began (0 when the file does not say). */
  sentAt: number;
}

export interface FilePending {
  /** Batches recorded (perhaps sent) but neither acknowledged nor dead, in file order. */
  batches: FileBatch[];
  /** Turns not in any batch yet, in file order. */
  turns: Turn[];
}

function isRecord(v: unknown): v is JournalRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  switch (r.op) {
    case 'turn': {
      const t = r.turn as Record<string, unknown> | null;
      return typeof t === 'object' && t !== null && typeof t.id === 'string' && typeof t.agentId === 'string';
    }
    case 'batch':
      return typeof r.batchId === 'string' && typeof r.agentId === 'string' && Array.isArray(r.turnIds);
    case 'ack':
      return typeof r.batchId === 'string';
    case 'dead':
      return typeof r.batchId === 'string' && typeof r.reason === 'string';
    default:
      return false;
  }
}

export interface ParsedJournal {
  records: JournalRecord[];
  /** Byte length of the complete lines: where the next append must start. */
  validBytes: number;
  /** The last line had no newline: the writer died mid-append. */
  torn: boolean;
  /** 1-based numbers of complete lines that are not records. */
  corrupt: number[];
}

export function parseJournal(text: string): ParsedJournal {
  const records: JournalRecord[] = [];
  const corrupt: number[] = [];
  const end = text.lastIndexOf('\n') + 1;
  const lines = text.slice(0, end).split('\n');
  lines.pop();
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const v: unknown = JSON.parse(line);
      if (isRecord(v)) records.push(v);
      else corrupt.push(i + 1);
    } catch {
      corrupt.push(i + 1);
    }
  });
  return { records, validBytes: Buffer.byteLength(text.slice(0, end)), torn: end < text.length, corrupt };
}

export function reportProblems(
  file: string,
  p: ParsedJournal,
  logger: Logger | undefined,
  tornLevel: 'warn' | 'debug',
): void {
  if (p.torn) logger?.[tornLevel]({ event: 'journal_torn_line', file }, 'journal: skipped an incomplete last line');
  for (const line of p.corrupt)
    logger?.warn({ event: 'journal_corrupt_line', file, line }, `journal: skipped corrupt line ${line} of ${file}`);
}

/** What a file's records add up to. Order-preserving, so pending work comes back in journal order. */
export class JournalState {
  readonly records: JournalRecord[] = [];
  readonly #turns = new Map<string, Turn>();
  readonly #batchOfTurn = new Map<string, string>();
  readonly #batches = new Map<string, { agentId: string; turnIds: string[]; sentAt: number }>();
  readonly #finished = new Set<string>();

  apply(r: JournalRecord): void {
    this.records.push(r);
    if (r.op === 'turn') this.#turns.set(r.turn.id, r.turn);
    else if (r.op === 'batch') {
      this.#batches.set(r.batchId, { agentId: r.agentId, turnIds: r.turnIds, sentAt: r.at ?? 0 });
      for (const id of r.turnIds) this.#batchOfTurn.set(id, r.batchId);
    } else this.#finished.add(r.batchId);
  }

  #keep(r: JournalRecord): boolean {
    if (r.op === 'turn') {
      const b = this.#batchOfTurn.get(r.turn.id);
      return b === undefined || !this.#finished.has(b);
    }
    if (r.op === 'batch') return !this.#finished.has(r.batchId);
    return false;
  }

  /** The records a rewrite keeps: pending turns and open batches. */
  pendingRecords(): JournalRecord[] {
    return this.records.filter((r) => this.#keep(r));
  }

  get pendingLines(): number {
    return this.records.reduce((n, r) => n + (this.#keep(r) ? 1 : 0), 0);
  }

  pending(): FilePending {
    const batches: FileBatch[] = [];
    for (const [batchId, b] of this.#batches) {
      if (this.#finished.has(batchId)) continue;
      const turns = b.turnIds.flatMap((id) => this.#turns.get(id) ?? []);
      batches.push({ batchId, agentId: b.agentId, turns, sentAt: b.sentAt });
    }
    const turns = [...this.#turns.values()].filter((t) => !this.#batchOfTurn.has(t.id));
    return { batches, turns };
  }
}
