/**
 * Gets every finished turn into Letta exactly once, in the background.
 *
 * `submit` journals the turn before anything else, then queues it in its Letta agent's lane (one
 * request in flight per agent; see agent-lane.ts). Each batch is delivered exactly once (see
 * batch-delivery.ts), holding its agent across every writer that shares the journal. `replay`
 * takes over what writers that died left in the journal; it runs at start and then every
 * `claimIntervalMs`. Nothing is dropped: what is not acknowledged when the writer closes stays
 * journaled for the next writer.
 */
import { EventEmitter } from 'node:events';
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Logger } from '../../telemetry/logger.ts';
import { MEMORY_ONLY, type JournaledBatch, type JournaledTurn, type TurnJournal } from '../journal/journal.ts';
import type { LettaWrites, WriteMode } from '../letta-writes.ts';
import type { Turn } from '../turn.ts';
import { AgentLane, type LaneItem } from './agent-lane.ts';
import { BatchDelivery, type DeliveryListener } from './batch-delivery.ts';
import { Backoff, summary } from './retry-policy.ts';
import type { TurnWriterEvents, TurnWriterStats } from './writer-events.ts';

export interface TurnWriterOptions {
  journal: TurnJournal;
  writes: LettaWrites;
  logger: Logger;
  /**
   * Awaited before every Letta request the writer makes. The voice layer holds it between "the
   * caller stopped speaking" and "the first token", so memory traffic never competes with a reply.
   */
  beforeRequest?: () => Promise<void>;
  maxBatchTurns?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Per-attempt timeout of a write, by mode (messages runs an LLM step on Letta's side). */
  requestTimeoutMs?: Partial<Record<WriteMode, number>>;
  /** Per-attempt timeout of a check (an active run, a landed batch). */
  checkTimeoutMs?: number;
  /** How long after a send began Letta may still be starting it (see batch-delivery.ts). */
  sendSettleMs?: number;
  /** An active run older than this is taken for one a crashed Letta left behind. */
  maxRunMs?: number;
  /** Upper bound on a server-requested Retry-After. */
  maxRetryAfterMs?: number;
  /** How often, after the first `replay`, to look for work of writers that died meanwhile (0: never). */
  claimIntervalMs?: number;
  /** How many recent per-turn lags `stats()` keeps. */
  lagSamples?: number;
  /** Jitter source in [0, 1). */
  random?: () => number;
}

export const defaultTurnWriterOptions = {
  maxBatchTurns: 20,
  backoffBaseMs: 500,
  backoffCapMs: 30_000,
  requestTimeoutMs: { messages: 30_000, archival: 10_000, capture: 10_000 },
  checkTimeoutMs: 10_000,
  sendSettleMs: 2000,
  maxRunMs: 10 * 60_000,
  maxRetryAfterMs: 5 * 60_000,
  claimIntervalMs: 30_000,
  lagSamples: 1000,
} as const;

/** After the journal could not hold an agent (its store unreachable), before trying again. */
const HOLD_RETRY_MS = 1000;

export interface FlushResult {
  drained: boolean;
  /** Turns still unacknowledged; they stay journaled for the next start's replay. */
  pending: Turn[];
}

export interface ReplayResult {
  batches: number;
  turns: number;
}

export class TurnWriter extends EventEmitter<TurnWriterEvents> {
  readonly journal: TurnJournal;
  readonly #writes: LettaWrites;
  readonly #logger: Logger;
  readonly #maxBatch: number;
  readonly #claimIntervalMs: number;
  readonly #lagSamples: number;
  readonly #lanes = new Map<string, AgentLane>();
  readonly #abort = new AbortController();
  readonly #delivery: BatchDelivery;
  readonly #beforeRequest: () => Promise<void>;
  #changed: (() => void)[] = [];
  #closed = false;
  #replaying: Promise<unknown> | null = null;
  #claimTimer: NodeJS.Timeout | undefined;
  #acked = 0;
  #retries = 0;
  #deadLetters = 0;
  #lags: number[] = [];

  constructor(opts: TurnWriterOptions) {
    super();
    const d = defaultTurnWriterOptions;
    this.journal = opts.journal;
    this.#writes = opts.writes;
    this.#logger = opts.logger;
    this.#maxBatch = opts.maxBatchTurns ?? d.maxBatchTurns;
    this.#claimIntervalMs = opts.claimIntervalMs ?? d.claimIntervalMs;
    this.#lagSamples = opts.lagSamples ?? d.lagSamples;
    this.#beforeRequest = opts.beforeRequest ?? (() => Promise.resolve());
    this.#delivery = new BatchDelivery({
      writes: opts.writes,
      journal: opts.journal,
      logger: opts.logger,
      backoff: new Backoff({
        baseMs: opts.backoffBaseMs ?? d.backoffBaseMs,
        capMs: opts.backoffCapMs ?? d.backoffCapMs,
        maxRetryAfterMs: opts.maxRetryAfterMs ?? d.maxRetryAfterMs,
        random: opts.random ?? Math.random,
      }),
      beforeRequest: this.#beforeRequest,
      signal: this.#abort.signal,
      requestTimeoutMs: { ...d.requestTimeoutMs, ...opts.requestTimeoutMs },
      checkTimeoutMs: opts.checkTimeoutMs ?? d.checkTimeoutMs,
      sendSettleMs: opts.sendSettleMs ?? d.sendSettleMs,
      maxRunMs: opts.maxRunMs ?? d.maxRunMs,
      listener: this.#listener(),
    });
  }

  /**
   * Journals the turn, then queues it. Resolves once it is stored; never rejects, so the voice
   * layer can fire and forget. If the journal fails the turn is still written, from memory.
   */
  async submit(turn: Turn): Promise<void> {
    if (this.#closed) {
      // Too late to send, not too late to keep: journaled for the next start's replay.
      await this.journal
        .keepLate(turn)
        .catch((err: unknown) =>
          this.#logger.error(
            { event: 'journal_append_failed', err: summary(err), turnId: turn.id },
            'could not journal a turn',
          ),
        );
      this.#logger.warn(
        { event: 'memory_submit_after_close', turnId: turn.id },
        'turn submitted after the memory writer closed: journaled for the next start',
      );
      return;
    }
    let journaled: JournaledTurn;
    try {
      journaled = await this.journal.append(turn);
    } catch (err) {
      this.#logger.error(
        { event: 'journal_append_failed', err: summary(err), turnId: turn.id, journal: this.journal.where },
        'could not journal a turn; writing it from memory only',
      );
      journaled = { turn, origin: MEMORY_ONLY, ref: turn.id };
    }
    this.#enqueue(turn.agentId, { kind: 'turn', turn: journaled, replayed: false });
    this.emit('queued', { agentId: turn.agentId, turnId: turn.id, queueDepth: this.#queueDepth() });
  }

  /**
   * Runs `fn` with the agent to itself: after the batch in flight for it (if any), before the next,
   * with the agent held across every writer sharing the journal and the quiet window respected.
   * For requests through the agent that are not turn writes (a caller's text through Letta).
   * `fn` gets a signal that aborts when the writer closes: it must end its request then.
   */
  withAgent<T>(agentId: string, fn: (closing: AbortSignal) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('the memory writer is closed'));
    return new Promise<T>((resolve, reject) => {
      const lane = this.#lane(agentId);
      lane.addTask({
        run: async () => {
          const closed = new Promise<void>((r) =>
            this.#abort.signal.addEventListener('abort', () => r(), { once: true }),
          );
          await Promise.race([this.#beforeRequest().catch(() => undefined), closed]);
          await fn(this.#abort.signal).then(resolve, reject);
        },
      });
      this.#run(lane);
    });
  }

  /**
   * Journals turns that already went to Letta in a request of their own under `batchId` (a text
   * exchange whose answer did not come back): the writer checks Letta for that id before it writes
   * them, so they land once whether or not that request got through.
   */
  async submitSent(turns: Turn[], batchId: string, sentAt: number): Promise<void> {
    const first = turns[0];
    if (!first) return;
    const journaled: JournaledTurn[] = [];
    try {
      for (const t of turns) journaled.push(await this.journal.append(t));
    } catch (err) {
      this.#logger.error(
        { event: 'journal_append_failed', err: summary(err), batchId, journal: this.journal.where },
        'could not journal a text exchange; writing it from memory only',
      );
      journaled.splice(0, journaled.length, ...turns.map((turn) => ({ turn, origin: MEMORY_ONLY, ref: turn.id })));
    }
    const origin = journaled[0]?.origin ?? MEMORY_ONLY;
    const batch = { id: batchId, agentId: first.agentId, origin, turns: journaled };
    await this.journal.recordSend(batch, sentAt).catch(() => undefined);
    this.#enqueue(first.agentId, { kind: 'batch', batch, replayed: false, sentAt });
    for (const t of turns) this.emit('queued', { agentId: t.agentId, turnId: t.id, queueDepth: this.#queueDepth() });
  }

  /**
   * Takes over what writers that died left in the journal and queues it; then again every
   * `claimIntervalMs`. Call at start. Sending waits while a replay runs: older turns go first.
   */
  replay(): Promise<ReplayResult> {
    if (this.#claimIntervalMs > 0 && !this.#claimTimer && !this.#closed) {
      this.#claimTimer = setInterval(() => {
        if (!this.#replaying)
          this.replay().catch((err: unknown) =>
            this.#logger.warn(
              { event: 'memory_claim_failed', err: summary(err), journal: this.journal.where },
              'could not look for turns of writers that died; trying again later',
            ),
          );
      }, this.#claimIntervalMs);
      this.#claimTimer.unref();
    }
    const run = this.#claim().finally(() => {
      if (this.#replaying === run) this.#replaying = null;
    });
    this.#replaying = run;
    return run;
  }

  /** Resolves when every lane is empty, or when the time is up with what is left. */
  async flush(timeoutMs: number): Promise<FlushResult> {
    const deadline = Date.now() + timeoutMs;
    while (this.#queueDepth() > 0 && !this.#closed) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#changed.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    const pending = [...this.#lanes.values()].flatMap((l) => l.turns());
    return { drained: pending.length === 0, pending };
  }

  stats(): TurnWriterStats {
    let inFlight = 0;
    for (const l of this.#lanes.values()) if (l.inFlight) inFlight += 1;
    return {
      queueDepth: this.#queueDepth(),
      inFlight,
      acked: this.#acked,
      retries: this.#retries,
      deadLetters: this.#deadLetters,
      lagMs: [...this.#lags],
    };
  }

  /** Stops sending (aborting requests in flight) and releases the journal; pending turns stay journaled. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#claimTimer);
    this.#abort.abort();
    this.#notify();
    await Promise.allSettled([...this.#lanes.values()].flatMap((l) => (l.loop ? [l.loop] : [])));
    await this.#replaying?.catch(() => undefined);
    await this.journal.close();
  }

  async #claim(): Promise<ReplayResult> {
    const work = await this.journal.claimOrphans();
    for (const b of work.batches)
      this.#enqueue(b.agentId, { kind: 'batch', batch: b, replayed: true, sentAt: b.sentAt });
    for (const t of work.turns) this.#enqueue(t.turn.agentId, { kind: 'turn', turn: t, replayed: true });
    const result = {
      batches: work.batches.length,
      turns: work.turns.length + work.batches.reduce((n, b) => n + b.turns.length, 0),
    };
    if (result.turns > 0)
      this.#logger.info(
        { event: 'memory_replay_queued', ...result, journal: this.journal.where },
        'queued turns that writers which died left unacknowledged',
      );
    return result;
  }

  #enqueue(agentId: string, item: LaneItem): void {
    const lane = this.#lane(agentId);
    lane.add(item);
    this.#run(lane);
  }

  #lane(agentId: string): AgentLane {
    let lane = this.#lanes.get(agentId);
    if (!lane) {
      lane = new AgentLane(agentId, this.#maxBatch);
      this.#lanes.set(agentId, lane);
    }
    return lane;
  }

  /** Starts the lane's send loop unless it runs: one loop per lane, so one request per agent. */
  #run(lane: AgentLane): void {
    if (lane.loop || this.#closed) return;
    lane.loop = this.#drain(lane)
      .catch((err: unknown) =>
        this.#logger.error({ event: 'memory_writer_bug', err, agentId: lane.agentId }, 'memory write loop failed'),
      )
      .finally(() => {
        lane.loop = null;
        this.#notify();
        // Work that came while the loop was ending (after it saw the lane empty) would wait forever.
        if (!lane.idle) this.#run(lane);
      });
  }

  async #drain(lane: AgentLane): Promise<void> {
    while (!this.#closed) {
      if (this.#replaying) await this.#replaying.catch(() => undefined);
      if (lane.idle) return;
      const hold = await this.journal.holdAgent(lane.agentId, this.#abort.signal).catch((err: unknown) => {
        if (!this.#closed)
          this.#logger.error(
            { event: 'memory_hold_failed', err: summary(err), agentId: lane.agentId, journal: this.journal.where },
            'could not hold the agent for a write; trying again',
          );
        return undefined;
      });
      if (!hold) {
        await sleepFor(HOLD_RETRY_MS, undefined, { signal: this.#abort.signal }).catch(() => undefined);
        continue;
      }
      try {
        const task = lane.takeTask();
        if (task) {
          await task.run();
          continue;
        }
        const next = lane.take();
        if (!next) return;
        lane.inFlight = next.batch;
        const outcome = await this.#delivery.deliver(next.batch, next.sentAt);
        // A 409 (checked again after older work), or closed mid-delivery (it stays journaled, and
        // in the pending list for flush).
        if (typeof outcome === 'object') lane.putBack(next.batch, outcome.sentAt);
        lane.inFlight = null;
        this.#notify();
      } finally {
        await hold.release().catch(() => undefined);
      }
    }
  }

  #queueDepth(): number {
    let n = 0;
    for (const l of this.#lanes.values()) n += l.depth;
    return n;
  }

  #notify(): void {
    const waiters = this.#changed;
    this.#changed = [];
    for (const w of waiters) w();
  }

  /** The batch leaves its lane before listeners look at the depth. */
  #settled(batch: JournaledBatch): void {
    const lane = this.#lanes.get(batch.agentId);
    if (lane?.inFlight === batch) lane.inFlight = null;
  }

  #listener(): DeliveryListener {
    return {
      acked: (batch, attempts, lagMs) => {
        this.#acked += batch.turns.length;
        this.#lags.push(...lagMs);
        if (this.#lags.length > this.#lagSamples) this.#lags.splice(0, this.#lags.length - this.#lagSamples);
        this.#settled(batch);
        const turnIds = batch.turns.map((t) => t.turn.id);
        const ev = { agentId: batch.agentId, batchId: batch.id, mode: this.#writes.mode, turnIds, lagMs, attempts };
        this.emit('ack', { ...ev, queueDepth: this.#queueDepth() });
      },
      retrying: (batch, attempt, delayMs, reason, kind) => {
        this.#retries += 1;
        const ev = { agentId: batch.agentId, batchId: batch.id, attempt, delayMs, reason, kind };
        this.emit('retry', { ...ev, queueDepth: this.#queueDepth() });
      },
      dead: (batch, reason) => {
        this.#deadLetters += 1;
        this.#settled(batch);
        const turnIds = batch.turns.map((t) => t.turn.id);
        this.emit('dead', {
          agentId: batch.agentId,
          batchId: batch.id,
          turnIds,
          reason,
          queueDepth: this.#queueDepth(),
        });
      },
    };
  }
}
