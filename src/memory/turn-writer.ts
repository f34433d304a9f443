/**
 * Gets every finished turn into Letta exactly once, in the background.
 *
 * `submit` journals the turn (fsync) before anything else, then queues it for its Letta agent.
 * Each agent has one request in flight at most (concurrent requests to one agent are undefined
 * behaviour in Letta); turns that arrive meanwhile are coalesced into the next batch. A batch is
 * journaled before every send, with the time the send began. After an ambiguous failure (timeout,
 * 5xx, connection lost), or for a batch a dead process may have sent, the earlier send's outcome is
 * unknown, and Letta finishes requests whose client went away: so before sending again the writer
 * waits until that send cannot still be running (`sendSettleMs` after it began, and no active run on
 * the agent), then asks Letta whether the batch landed. A 409 leaves a batch in doubt as it was, so
 * the check runs again after it. A retry never processes a turn twice. Validation errors
 * dead-letter the batch; a bad API key never drops a turn.
 */
import { EventEmitter } from 'node:events';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { APIConnectionError, APIError, APIUserAbortError } from '@letta-ai/letta-client';
import type { Logger } from '../telemetry/logger.ts';
import { Journal, type JournalOptions, appendDeadLetter, claimOrphans } from './journal.ts';
import { type Batch, type LettaWrites, type WriteMode, WriteModeChanged } from './letta-writes.ts';
import type { Turn } from './turn.ts';

export interface TurnWriterOptions {
  journalDir: string;
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
  /** Per-attempt timeout of a "did this batch land?" check. */
  checkTimeoutMs?: number;
  /**
   * How long after a send began Letta may still be starting it: a request in transit or being
   * admitted is not a run yet. A batch in doubt is not checked (nor sent again) before this.
   */
  sendSettleMs?: number;
  /** An active run older than this is taken for one a crashed Letta left behind, not a running send. */
  maxRunMs?: number;
  /** Upper bound on a server-requested Retry-After. */
  maxRetryAfterMs?: number;
  /** How many recent per-turn lags `stats()` keeps. */
  lagSamples?: number;
  journal?: Omit<JournalOptions, 'logger'>;
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
  lagSamples: 1000,
} as const;

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

export interface FlushResult {
  drained: boolean;
  /** Turns still unacknowledged; they stay journaled for the next start's replay. */
  pending: Turn[];
}

export interface ReplayResult {
  files: number;
  batches: number;
  turns: number;
}

type Item =
  | { kind: 'turn'; turn: Turn; journal: Journal; replayed: boolean }
  /** A batch that may have been sent, last at `sentAt` (0: not known when). */
  | { kind: 'batch'; batch: Batch; journal: Journal; replayed: true; sentAt: number };

interface AgentQueue {
  items: Item[];
  inFlight: Batch | null;
  loop: Promise<void> | null;
}

/** What to do after a failed request. */
type Failure =
  | { kind: 'mode-changed' }
  /** 409: another request for this agent is running. Not a failure of ours. */
  | { kind: 'busy'; retryAfterMs?: number }
  /** 429 or connection refused: nothing processed. */
  | { kind: 'refused'; retryAfterMs?: number }
  /** Timeout, 408, 5xx, connection lost: the request may have been processed. */
  | { kind: 'ambiguous'; retryAfterMs?: number }
  | { kind: 'auth'; status: number }
  /** Other 4xx: the request itself is wrong; sending it again cannot help. */
  | { kind: 'invalid'; status: number };

function retryAfterMs(err: APIError): number | undefined {
  const h = err.headers;
  if (!h) return undefined;
  const ms = Number.parseFloat(h.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const ra = h.get('retry-after');
  if (ra === null) return undefined;
  const s = Number.parseFloat(ra);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const at = Date.parse(ra);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function withRetryAfter<K extends 'busy' | 'refused' | 'ambiguous'>(
  kind: K,
  err: APIError,
): { kind: K; retryAfterMs?: number } {
  const ra = retryAfterMs(err);
  return ra === undefined ? { kind } : { kind, retryAfterMs: ra };
}

/** The system error code under a connection error (fetch wraps it twice), e.g. ECONNREFUSED. */
function connectionCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function classify(err: unknown): Failure {
  if (err instanceof WriteModeChanged) return { kind: 'mode-changed' };
  // Refused before a byte was sent: certainly not processed.
  if (err instanceof APIConnectionError && connectionCode(err) === 'ECONNREFUSED') return { kind: 'refused' };
  // Other connection errors (incl. timeouts) carry no status: the request may have reached Letta.
  if (!(err instanceof APIError) || err instanceof APIConnectionError || err.status === undefined)
    return { kind: 'ambiguous' };
  const s = err.status;
  if (s === 409) return withRetryAfter('busy', err);
  if (s === 429) return withRetryAfter('refused', err);
  if (s === 408 || s >= 500) return withRetryAfter('ambiguous', err);
  if (s === 401 || s === 403) return { kind: 'auth', status: s };
  if (s >= 400) return { kind: 'invalid', status: s };
  return { kind: 'ambiguous' };
}

/** A log-safe description: status and error class, never a body (bodies can quote the transcript). */
function summary(err: unknown): string {
  if (err instanceof APIError) {
    if (err.status !== undefined) return `${err.status} ${err.constructor.name}`;
    const code = connectionCode(err);
    return code ? `${err.constructor.name} (${code})` : err.constructor.name;
  }
  return err instanceof Error ? err.constructor.name : 'unknown error';
}

export class TurnWriter extends EventEmitter<TurnWriterEvents> {
  readonly #dir: string;
  readonly #writes: LettaWrites;
  readonly #logger: Logger;
  readonly #beforeRequest: () => Promise<void>;
  readonly #maxBatch: number;
  readonly #baseMs: number;
  readonly #capMs: number;
  readonly #timeouts: Record<WriteMode, number>;
  readonly #checkTimeoutMs: number;
  readonly #settleMs: number;
  readonly #maxRunMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #lagSamples: number;
  readonly #journalOpts: JournalOptions;
  readonly #random: () => number;
  readonly #journal: Journal;
  readonly #journals = new Set<Journal>();
  readonly #queues = new Map<string, AgentQueue>();
  readonly #abort = new AbortController();
  readonly #closedSignal: Promise<void>;
  #changed: (() => void)[] = [];
  #closed = false;
  #replaying: Promise<unknown> | null = null;
  #acked = 0;
  #retries = 0;
  #deadLetters = 0;
  #lags: number[] = [];

  constructor(opts: TurnWriterOptions) {
    super();
    const d = defaultTurnWriterOptions;
    this.#dir = opts.journalDir;
    this.#writes = opts.writes;
    this.#logger = opts.logger;
    this.#beforeRequest = opts.beforeRequest ?? (() => Promise.resolve());
    this.#maxBatch = opts.maxBatchTurns ?? d.maxBatchTurns;
    this.#baseMs = opts.backoffBaseMs ?? d.backoffBaseMs;
    this.#capMs = opts.backoffCapMs ?? d.backoffCapMs;
    this.#timeouts = { ...d.requestTimeoutMs, ...opts.requestTimeoutMs };
    this.#checkTimeoutMs = opts.checkTimeoutMs ?? d.checkTimeoutMs;
    this.#settleMs = opts.sendSettleMs ?? d.sendSettleMs;
    this.#maxRunMs = opts.maxRunMs ?? d.maxRunMs;
    this.#maxRetryAfterMs = opts.maxRetryAfterMs ?? d.maxRetryAfterMs;
    this.#lagSamples = opts.lagSamples ?? d.lagSamples;
    this.#journalOpts = { ...opts.journal, logger: opts.logger };
    this.#random = opts.random ?? Math.random;
    this.#journal = Journal.create(this.#dir, this.#journalOpts);
    this.#journals.add(this.#journal);
    this.#closedSignal = new Promise((resolve) =>
      this.#abort.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
  }

  /**
   * Journals the turn (fsync), then queues it. Resolves once it is on disk; never rejects, so the
   * voice layer can fire and forget. If the disk fails the turn is still written, from memory.
   */
  async submit(turn: Turn): Promise<void> {
    if (this.#closed) {
      // Too late to send, not too late to keep: a journal of its own, for the next start's replay.
      const late = Journal.create(this.#dir, this.#journalOpts);
      await late
        .append({ op: 'turn', turn })
        .catch((err: unknown) =>
          this.#logger.error(
            { event: 'journal_append_failed', err: summary(err), turnId: turn.id },
            'could not journal a turn',
          ),
        );
      await late.close();
      this.#logger.warn(
        { event: 'memory_submit_after_close', turnId: turn.id },
        'turn submitted after the memory writer closed: journaled for the next start',
      );
      return;
    }
    try {
      await this.#journal.append({ op: 'turn', turn });
    } catch (err) {
      this.#logger.error(
        { event: 'journal_append_failed', err: summary(err), turnId: turn.id },
        'could not journal a turn; writing it from memory only',
      );
    }
    this.#enqueue(turn.agentId, { kind: 'turn', turn, journal: this.#journal, replayed: false });
    this.emit('queued', { agentId: turn.agentId, turnId: turn.id, queueDepth: this.#queueDepth() });
  }

  /**
   * Claims journals left by dead processes and queues their pending batches and turns. Call at
   * start. Sending waits while a replay runs: older turns go to Letta before newer ones.
   */
  replay(): Promise<ReplayResult> {
    const run = this.#claim().finally(() => {
      if (this.#replaying === run) this.#replaying = null;
    });
    this.#replaying = run;
    return run;
  }

  async #claim(): Promise<ReplayResult> {
    const claimed = await claimOrphans(this.#dir, this.#journalOpts);
    const result: ReplayResult = { files: claimed.length, batches: 0, turns: 0 };
    for (const { journal, pending, from } of claimed) {
      this.#journals.add(journal);
      for (const b of pending.batches) {
        if (b.turns.length === 0) {
          await journal
            .append({ op: 'dead', batchId: b.batchId, reason: 'turn records missing from the journal' })
            .catch((err: unknown) =>
              this.#logger.warn(
                { event: 'journal_append_failed', err: summary(err), batchId: b.batchId },
                'could not journal a dead batch',
              ),
            );
          continue;
        }
        this.#enqueue(b.agentId, {
          kind: 'batch',
          batch: { id: b.batchId, agentId: b.agentId, turns: b.turns },
          journal,
          replayed: true,
          sentAt: b.sentAt,
        });
        result.batches += 1;
        result.turns += b.turns.length;
      }
      for (const t of pending.turns) this.#enqueue(t.agentId, { kind: 'turn', turn: t, journal, replayed: true });
      result.turns += pending.turns.length;
      this.#logger.info(
        { event: 'memory_replay', file: from, batches: pending.batches.length, turns: pending.turns.length },
        'replaying turns a previous process left unacknowledged',
      );
    }
    return result;
  }

  /** Resolves when every queue is empty, or when the time is up with what is left. */
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
    const pending = this.#pendingTurns();
    return { drained: pending.length === 0, pending };
  }

  stats(): TurnWriterStats {
    let inFlight = 0;
    for (const q of this.#queues.values()) if (q.inFlight) inFlight += 1;
    return {
      queueDepth: this.#queueDepth(),
      inFlight,
      acked: this.#acked,
      retries: this.#retries,
      deadLetters: this.#deadLetters,
      lagMs: [...this.#lags],
    };
  }

  /** Stops sending (aborting requests in flight) and releases the journals; pending turns stay journaled. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    this.#notify();
    await Promise.allSettled([...this.#queues.values()].map((q) => q.loop));
    await Promise.allSettled([...this.#journals].map((j) => j.close()));
  }

  #enqueue(agentId: string, item: Item): void {
    let q = this.#queues.get(agentId);
    if (!q) {
      q = { items: [], inFlight: null, loop: null };
      this.#queues.set(agentId, q);
    }
    // Replayed work is older than anything submitted in this process: it goes first.
    const at = item.replayed ? q.items.findIndex((i) => !i.replayed) : -1;
    if (at < 0) q.items.push(item);
    else q.items.splice(at, 0, item);
    if (!q.loop && !this.#closed) {
      const queue = q;
      queue.loop = this.#drain(agentId, queue)
        .catch((err: unknown) =>
          this.#logger.error({ event: 'memory_writer_bug', err, agentId }, 'memory write loop failed'),
        )
        .finally(() => {
          queue.loop = null;
          this.#notify();
        });
    }
  }

  #queueDepth(): number {
    let n = 0;
    for (const q of this.#queues.values()) {
      n += q.inFlight?.turns.length ?? 0;
      for (const i of q.items) n += i.kind === 'turn' ? 1 : i.batch.turns.length;
    }
    return n;
  }

  #pendingTurns(): Turn[] {
    const out: Turn[] = [];
    for (const q of this.#queues.values()) {
      if (q.inFlight) out.push(...q.inFlight.turns);
      for (const i of q.items) i.kind === 'turn' ? out.push(i.turn) : out.push(...i.batch.turns);
    }
    return out;
  }

  #notify(): void {
    const waiters = this.#changed;
    this.#changed = [];
    for (const w of waiters) w();
  }

  /**
   * Next batch: a replayed one as it was (with when it was last sent), or consecutive turns of one
   * journal and session (never sent: `sentAt` undefined).
   */
  #take(agentId: string, q: AgentQueue): { batch: Batch; journal: Journal; sentAt?: number } | undefined {
    const head = q.items[0];
    if (!head) return undefined;
    if (head.kind === 'batch') {
      q.items.shift();
      return { batch: head.batch, journal: head.journal, sentAt: head.sentAt };
    }
    const turns: Turn[] = [];
    while (turns.length < this.#maxBatch) {
      const next = q.items[0];
      if (!next || next.kind !== 'turn' || next.journal !== head.journal || next.turn.sessionId !== head.turn.sessionId)
        break;
      turns.push(next.turn);
      q.items.shift();
    }
    return { batch: { id: randomUUID(), agentId, turns }, journal: head.journal };
  }

  async #drain(agentId: string, q: AgentQueue): Promise<void> {
    while (!this.#closed) {
      if (this.#replaying) await this.#replaying.catch(() => undefined);
      const next = this.#take(agentId, q);
      if (!next) return;
      const { batch, journal } = next;
      q.inFlight = batch;
      const outcome = await this.#deliver(batch, journal, next.sentAt);
      if (outcome !== 'done') {
        // Closed mid-delivery: the batch stays journaled (and in the pending list for flush).
        q.items.unshift({ kind: 'batch', batch, journal, replayed: true, sentAt: outcome.sentAt });
      }
      q.inFlight = null;
      this.#notify();
    }
  }

  #backoff(n: number): number {
    return Math.round(this.#random() * Math.min(this.#capMs, this.#baseMs * 2 ** n));
  }

  /** Resolves true when the gate opens, false when the writer closes first. */
  async #gate(): Promise<boolean> {
    if (this.#closed) return false;
    const open = this.#beforeRequest().catch((err: unknown) =>
      this.#logger.warn(
        { event: 'memory_gate_failed', err: summary(err) },
        'beforeRequest hook failed; sending anyway',
      ),
    );
    await Promise.race([open, this.#closedSignal]);
    return !this.#closed;
  }

  async #wait(ms: number): Promise<void> {
    await sleepFor(ms, undefined, { signal: this.#abort.signal }).catch(() => undefined);
  }

  /**
   * Sends until acknowledged or dead-lettered ('done'), or until the writer closes (then: when it
   * was last sent). `sentAt`: when an earlier process or delivery last sent it, if ever.
   */
  async #deliver(batch: Batch, journal: Journal, sentAt?: number): Promise<'done' | { sentAt: number }> {
    // An earlier send's outcome is unknown: it may have landed, or still be running.
    let unsure = sentAt !== undefined;
    const stopped = { sentAt: sentAt ?? 0 };
    let attempts = 0;
    const requests = { n: 0 };
    let failures = 0;
    let busy = 0;
    while (!this.#closed) {
      if (unsure) {
        const landed = await this.#resolveDoubt(batch, stopped.sentAt, requests);
        if (landed === undefined) return stopped;
        if (landed) {
          await this.#ack(batch, journal, attempts);
          return 'done';
        }
      }
      if (!(await this.#gate())) return stopped;
      stopped.sentAt = Date.now();
      await this.#recordSend(batch, journal, stopped.sentAt);
      attempts += 1;
      requests.n += 1;
      try {
        await this.#writes.write(batch, { timeoutMs: this.#timeouts[this.#writes.mode], signal: this.#abort.signal });
        await this.#ack(batch, journal, attempts);
        return 'done';
      } catch (err) {
        if (this.#closed || err instanceof APIUserAbortError) return stopped;
        const f = classify(err);
        let delayMs: number;
        switch (f.kind) {
          case 'mode-changed':
            continue;
          case 'invalid':
            await this.#deadLetter(batch, journal, err);
            return 'done';
          case 'auth':
            delayMs = this.#capMs;
            this.#authFailed(f.status, batch.agentId);
            break;
          case 'busy':
            // Another request holds the agent: wait for it without counting a failure. A batch in
            // doubt stays in doubt: the request holding the agent may be its earlier send.
            delayMs = f.retryAfterMs ?? this.#backoff(busy++);
            break;
          case 'ambiguous':
            unsure = true;
            delayMs = f.retryAfterMs ?? this.#backoff(failures++);
            break;
          case 'refused':
            delayMs = f.retryAfterMs ?? this.#backoff(failures++);
            break;
        }
        this.#retry(batch, requests.n, Math.min(delayMs, this.#maxRetryAfterMs), summary(err), err);
        await this.#wait(Math.min(delayMs, this.#maxRetryAfterMs));
      }
    }
    return stopped;
  }

  /** The batch record, before every send: a resend after a crash carries the same turns under the same id. */
  async #recordSend(batch: Batch, journal: Journal, at: number): Promise<void> {
    const turnIds = batch.turns.map((t) => t.id);
    try {
      await journal.append({ op: 'batch', batchId: batch.id, agentId: batch.agentId, turnIds, at });
    } catch (err) {
      this.#logger.error(
        { event: 'journal_append_failed', err: summary(err), batchId: batch.id },
        'could not journal a batch; sending it anyway',
      );
    }
  }

  /**
   * Whether a batch in doubt is in Letta, answered only once its earlier send cannot still be
   * running: `sendSettleMs` after that send began, and then with no active run on the agent (it may
   * be that send). Retried with backoff until Letta answers; undefined when the writer closes.
   */
  async #resolveDoubt(batch: Batch, sentAt: number, requests: { n: number }): Promise<boolean | undefined> {
    await this.#wait(sentAt + this.#settleMs - Date.now());
    let failures = 0;
    let running = 0;
    while (await this.#gate()) {
      const call = { timeoutMs: this.#checkTimeoutMs, signal: this.#abort.signal };
      requests.n += 1;
      try {
        if (await this.#writes.agentBusy(batch, { ...call, maxRunMs: this.#maxRunMs })) {
          if (running === 0)
            this.#logger.info(
              { event: 'memory_wait_active_run', agentId: batch.agentId, batchId: batch.id },
              'Letta is running a request on the agent (perhaps an earlier send of this batch): checking again once it ends',
            );
          await this.#wait(Math.max(this.#baseMs, this.#backoff(running++)));
          continue;
        }
        if (!(await this.#gate())) return undefined;
        requests.n += 1;
        return await this.#writes.batchLanded(batch, call);
      } catch (err) {
        if (this.#closed || err instanceof APIUserAbortError) return undefined;
        const f = classify(err);
        // A check refused as invalid cannot tell us anything: let the write get the real answer.
        if (f.kind === 'invalid') return false;
        if (f.kind === 'auth') this.#authFailed(f.status, batch.agentId);
        const ra = 'retryAfterMs' in f ? f.retryAfterMs : undefined;
        const delayMs = Math.min(
          ra ?? (f.kind === 'auth' ? this.#capMs : this.#backoff(failures++)),
          this.#maxRetryAfterMs,
        );
        this.#retry(batch, requests.n, delayMs, `check: ${summary(err)}`, err);
        await this.#wait(delayMs);
      }
    }
    return undefined;
  }

  #authFailed(status: number, agentId: string): void {
    this.#logger.error(
      { event: 'memory_auth_failed', status, agentId },
      `Letta refused the credentials (${status}): check LETTA_API_KEY (and LETTA_BASE_URL). Turns stay journaled and are retried.`,
    );
  }

  #retry(batch: Batch, attempt: number, delayMs: number, reason: string, err: unknown): void {
    this.#retries += 1;
    this.#logger.warn(
      { event: 'memory_retry', agentId: batch.agentId, batchId: batch.id, attempt, delayMs, reason },
      'memory write will be retried',
    );
    this.#logger.debug({
      event: 'memory_retry_detail',
      batchId: batch.id,
      pii: { error: err instanceof Error ? err.message : String(err) },
    });
    this.emit('retry', {
      agentId: batch.agentId,
      batchId: batch.id,
      attempt,
      delayMs,
      reason,
      queueDepth: this.#queueDepth(),
    });
  }

  async #ack(batch: Batch, journal: Journal, attempts: number): Promise<void> {
    try {
      await journal.append({ op: 'ack', batchId: batch.id });
    } catch (err) {
      this.#logger.error(
        { event: 'journal_append_failed', err: summary(err), batchId: batch.id },
        'could not journal an ack; the batch may be checked again after a restart',
      );
    }
    const now = Date.now();
    const lagMs = batch.turns.map((t) => now - t.finishedAt);
    this.#acked += batch.turns.length;
    this.#lags.push(...lagMs);
    if (this.#lags.length > this.#lagSamples) this.#lags.splice(0, this.#lags.length - this.#lagSamples);
    const mode = this.#writes.mode;
    this.#logger.info(
      {
        event: 'memory_ack',
        agentId: batch.agentId,
        batchId: batch.id,
        mode,
        turns: batch.turns.length,
        attempts,
        lagMs,
      },
      'turns are in long-term memory',
    );
    // The batch leaves the queue before listeners look at the depth.
    const q = this.#queues.get(batch.agentId);
    if (q?.inFlight === batch) q.inFlight = null;
    this.emit('ack', {
      agentId: batch.agentId,
      batchId: batch.id,
      mode,
      turnIds: batch.turns.map((t) => t.id),
      lagMs,
      attempts,
      queueDepth: this.#queueDepth(),
    });
  }

  async #deadLetter(batch: Batch, journal: Journal, err: unknown): Promise<void> {
    const reason = summary(err);
    let file: string | undefined;
    try {
      file = await appendDeadLetter(this.#dir, {
        at: new Date().toISOString(),
        batchId: batch.id,
        agentId: batch.agentId,
        mode: this.#writes.mode,
        reason,
        error: {
          message: err instanceof Error ? err.message : String(err),
          ...(err instanceof APIError && err.status !== undefined ? { status: err.status, body: err.error } : {}),
        },
        turns: [...batch.turns],
      });
    } catch (e) {
      this.#logger.error(
        { event: 'dead_letter_write_failed', err: summary(e), batchId: batch.id },
        'could not write the dead-letter file',
      );
    }
    // Marked dead only once its turns are saved elsewhere: otherwise the journal keeps them.
    if (file !== undefined) {
      await journal
        .append({ op: 'dead', batchId: batch.id, reason })
        .catch((e: unknown) =>
          this.#logger.error(
            { event: 'journal_append_failed', err: summary(e), batchId: batch.id },
            'could not journal a dead batch',
          ),
        );
    }
    this.#deadLetters += 1;
    this.#logger.error(
      {
        event: 'memory_dead_letter',
        agentId: batch.agentId,
        batchId: batch.id,
        turns: batch.turns.length,
        reason,
        file,
      },
      `Letta rejected a memory batch (${reason}); it will not be retried. Its turns are in ${file ?? 'the journal (the dead-letter file could not be written)'}.`,
    );
    this.#logger.debug({
      event: 'memory_dead_letter_detail',
      batchId: batch.id,
      pii: { error: err instanceof Error ? err.message : String(err) },
    });
    const q = this.#queues.get(batch.agentId);
    if (q?.inFlight === batch) q.inFlight = null;
    this.emit('dead', {
      agentId: batch.agentId,
      batchId: batch.id,
      turnIds: batch.turns.map((t) => t.id),
      reason,
      queueDepth: this.#queueDepth(),
    });
  }
}
