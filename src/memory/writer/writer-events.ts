/** What the turn writer tells its observers (metrics, the bench, the memory cache) as it works. */
import type { WriteMode } from '../letta-writes.ts';
import type { FailureKind } from './retry-policy.ts';

export interface QueuedEvent {
  agentId: string;
  turnId: string;
  queueDepth: number;
}

export interface AckEvent {
  agentId: string;
  batchId: string;
  mode: WriteMode;
  turnIds: string[];
  /** Per turn, in order: its `finishedAt` → the acknowledgement. */
  lagMs: number[];
  /** Write attempts this process made for the batch (0: found already landed). */
  attempts: number;
  queueDepth: number;
}

export interface RetryEvent {
  agentId: string;
  batchId: string;
  /** Requests made for this batch so far (writes and checks). */
  attempt: number;
  delayMs: number;
  reason: string;
  /** What the failure means (see retry-policy.ts): busy, refused, ambiguous, auth, … */
  kind: FailureKind;
  queueDepth: number;
}

export interface DeadEvent {
  agentId: string;
  batchId: string;
  turnIds: string[];
  reason: string;
  queueDepth: number;
}

export type TurnWriterEvents = {
  queued: [QueuedEvent];
  ack: [AckEvent];
  retry: [RetryEvent];
  dead: [DeadEvent];
};

export interface TurnWriterStats {
  /** Turns not yet acknowledged (waiting or in flight). */
  queueDepth: number;
  /** Batches being delivered (sent, or waiting to be sent again). */
  inFlight: number;
  /** Turns acknowledged. */
  acked: number;
  retries: number;
  /** Batches dead-lettered. */
  deadLetters: number;
  /** Recent per-turn lags (finishedAt → ack), oldest first. */
  lagMs: number[];
}
