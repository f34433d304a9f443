/**
 * The speech path's view of long-term memory. The llm node asks for a snapshot synchronously on
 * every turn: whatever memory is cached right now, never a network call. The Letta implementation
 * lives in src/memory and is wired in by src/agent.ts; this module must not import it.
 */

export interface MemoryBlock {
  label: string;
  value: string;
  description?: string;
}

/** A finished exchange that the memory service has not acknowledged yet. */
export interface PendingTurn {
  user: string;
  assistant: string;
  /** Epoch ms when the turn finished. */
  at: number;
  interrupted: boolean;
  /** A turn of this very call, from an agent of it that died (see src/calls/call-rescue.ts). */
  thisCall?: true;
}

export interface MemorySnapshot {
  blocks: MemoryBlock[];
  /** Turns of this caller from earlier sessions that long-term memory does not hold yet, oldest first. */
  recentTurns: PendingTurn[];
}

export interface MemoryContext {
  snapshot(): MemorySnapshot;
}

export const emptySnapshot: MemorySnapshot = Object.freeze({ blocks: [], recentTurns: [] });

/** The provider used when no memory service is configured. */
export const noMemory: MemoryContext = { snapshot: () => emptySnapshot };
