/**
 * Memory lag (a turn finishing → Letta acknowledging it), retries, dead letters and queue depth,
 * read from the turn writer's events only: it never looks inside the writer.
 */
import type { AckEvent, DeadEvent, QueuedEvent, RetryEvent } from '../memory/writer/writer-events.ts';
import type { Logger } from './logger.ts';

/** The part of the writer this observer needs: its typed events. */
export interface MemoryWriteEvents {
  on(event: 'queued', listener: (e: QueuedEvent) => void): unknown;
  on(event: 'ack', listener: (e: AckEvent) => void): unknown;
  on(event: 'retry', listener: (e: RetryEvent) => void): unknown;
  on(event: 'dead', listener: (e: DeadEvent) => void): unknown;
  off(event: 'queued', listener: (e: QueuedEvent) => void): unknown;
  off(event: 'ack', listener: (e: AckEvent) => void): unknown;
  off(event: 'retry', listener: (e: RetryEvent) => void): unknown;
  off(event: 'dead', listener: (e: DeadEvent) => void): unknown;
}

export interface MemoryMetricsSnapshot {
  /** Per acknowledged turn, in acknowledgement order (the most recent `maxSamples`). */
  lagMs: number[];
  retries: number;
  deadLetters: number;
  /** Turns not yet acknowledged, as of the latest event. */
  queueDepth: number;
}

export interface MemoryMetrics {
  snapshot(): MemoryMetricsSnapshot;
  stop(): void;
}

/**
 * Subscribes to a writer's events. With a logger, logs each batch's per-turn lag at debug (the
 * writer already logs one info line per acknowledgement).
 */
export function observeMemoryWrites(
  source: MemoryWriteEvents,
  opts: { logger?: Logger; maxSamples?: number } = {},
): MemoryMetrics {
  const max = opts.maxSamples ?? 10_000;
  const lagMs: number[] = [];
  let retries = 0;
  let deadLetters = 0;
  let queueDepth = 0;

  const onQueued = (e: QueuedEvent) => {
    queueDepth = e.queueDepth;
  };
  const onAck = (e: AckEvent) => {
    queueDepth = e.queueDepth;
    lagMs.push(...e.lagMs);
    if (lagMs.length > max) lagMs.splice(0, lagMs.length - max);
    opts.logger?.debug(
      { event: 'memory_lag', agentId: e.agentId, batchId: e.batchId, lagMs: e.lagMs, queueDepth: e.queueDepth },
      'memory lag',
    );
  };
  const onRetry = (e: RetryEvent) => {
    queueDepth = e.queueDepth;
    retries += 1;
  };
  const onDead = (e: DeadEvent) => {
    queueDepth = e.queueDepth;
    deadLetters += 1;
  };
  source.on('queued', onQueued);
  source.on('ack', onAck);
  source.on('retry', onRetry);
  source.on('dead', onDead);
  return {
    snapshot: () => ({ lagMs: [...lagMs], retries, deadLetters, queueDepth }),
    stop: () => {
      source.off('queued', onQueued);
      source.off('ack', onAck);
      source.off('retry', onRetry);
      source.off('dead', onDead);
    },
  };
}
