/**
 * The journal: what has been said but is not yet known to be in Letta survives a crash, and goes to
 * another writer when its owner dies. One interface, two stores: files on local disk (one machine,
 * the default) and Redis Streams (many workers, or containers whose disk does not outlive them).
 *
 * The writer's protocol over it: `append` a turn before anything is sent; `recordSend` a batch
 * (which turns, under which idempotency key, sent when) before every send; `ack` once Letta has the
 * batch, or `deadLetter` once Letta refused it for good. A batch recorded but neither acked nor
 * dead may have been sent: whoever takes it over must find out whether it landed before sending it
 * again.
 */
import type { Turn } from '../turn.ts';

/** A turn as the journal holds it. */
export interface JournaledTurn {
  turn: Turn;
  /** The record it lives in (a journal file, a worker's stream): a batch never spans two. */
  origin: string;
  /** The store's own id for it: the turn id in a file, the entry id in a stream. */
  ref: string;
}

/** Turns of one origin and session for one Letta agent, sent and acknowledged together under `id`. */
export interface JournaledBatch {
  id: string;
  agentId: string;
  origin: string;
  turns: readonly JournaledTurn[];
}

export interface PendingBatch extends JournaledBatch {
  /** When its last send began, in ms since the epoch (0: the journal does not say). */
  sentAt: number;
}

export interface PendingWork {
  /** Batches recorded (perhaps sent) but neither acknowledged nor dead, oldest first. */
  batches: PendingBatch[];
  /** Turns in no batch yet, oldest first. */
  turns: JournaledTurn[];
}

export interface DeadLetter {
  at: string;
  batchId: string;
  agentId: string;
  mode: string;
  reason: string;
  error: { status?: number; body?: unknown; message: string };
  turns: Turn[];
}

/** One Letta agent held for one delivery; `release` lets the next writer have it. */
export interface AgentHold {
  release(): Promise<void>;
}

/** What the journal holds right now, across every writer sharing it. */
export interface JournalStatus {
  where: string;
  /** Turns no writer has seen acknowledged (nor dead-lettered). */
  pendingTurns: number;
  /** When the oldest of them finished (ms since the epoch); null when there are none. */
  oldestPendingAt: number | null;
  /** Batches Letta refused for good, kept until requeued. */
  deadLetters: number;
}

/** A turn kept only in this process's memory because the journal could not store it. */
export const MEMORY_ONLY = 'memory-only';

export interface TurnJournal {
  /** Where the turns are kept, safe to log (no credentials). */
  readonly where: string;
  /** Stores the turn durably; resolves once it is (rejects when the store cannot be reached). */
  append(turn: Turn): Promise<JournaledTurn>;
  /** Before every send: which turns go under which idempotency key, and when the send began. */
  recordSend(batch: JournaledBatch, at: number): Promise<void>;
  /** Letta has the batch: its turns are done. */
  ack(batch: JournaledBatch): Promise<void>;
  /** Letta refused the batch for good: its turns go to the dead letters; resolves with where. */
  deadLetter(batch: JournaledBatch, letter: DeadLetter): Promise<string>;
  /** Takes over the work of writers that are gone. */
  claimOrphans(): Promise<PendingWork>;
  /** Every turn for one Letta agent no writer has seen acknowledged (or dead), oldest first. */
  pendingTurnsFor(agentId: string): Promise<Turn[]>;
  /** Whether the batch is still this writer's to send (false once another writer claimed it). */
  owns(batch: JournaledBatch): Promise<boolean>;
  /** Holds one Letta agent for one delivery, across every writer sharing this journal. */
  holdAgent(agentId: string, signal: AbortSignal): Promise<AgentHold>;
  /** Keeps a turn that came after `close` for a later process. */
  keepLate(turn: Turn): Promise<void>;
  status(): Promise<JournalStatus>;
  /**
   * Puts every dead letter back as the batch it was (same id), for a writer to send again once the
   * cause is fixed. Exactly once: a requeued batch is in doubt, so a second copy is found in Letta.
   */
  requeueDeadLetters(): Promise<{ letters: number; turns: number }>;
  close(): Promise<void>;
}
