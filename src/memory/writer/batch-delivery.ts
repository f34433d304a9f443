/**
 * Delivers one batch to Letta exactly once: journal the send, send, and on failure wait and try
 * again as the failure says. A batch whose earlier send has an unknown outcome (a timeout, a 5xx,
 * a connection lost, or a dead process's send) is "in doubt": Letta finishes requests whose client
 * went away, so before sending it again the delivery waits until that send cannot still be running
 * (`sendSettleMs` after it began, then no active run on the agent) and asks Letta whether it landed.
 * After a 409 the batch goes back to its lane, in doubt: the request holding the agent may be its
 * own earlier send, so it is checked again before it is resent.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import { APIError, APIUserAbortError } from '@letta-ai/letta-client';
import type { Logger } from '../../telemetry/logger.ts';
import { MEMORY_ONLY, type JournaledBatch, type TurnJournal } from '../journal/journal.ts';
import type { Batch, LettaWrites, WriteMode } from '../letta-writes.ts';
import { AgentTemplateRefused } from '../agent-directory.ts';
import { type Backoff, type FailureKind, classify, summary } from './retry-policy.ts';

export interface DeliveryOptions {
  /** Per-attempt timeout of a write, by mode (messages runs an LLM step on Letta's side). */
  requestTimeoutMs: Record<WriteMode, number>;
  /** Per-attempt timeout of a check (an active run, a landed batch). */
  checkTimeoutMs: number;
  /**
   * How long after a send began Letta may still be starting it: a request in transit or being
   * admitted is not a run yet. A batch in doubt is not checked (nor sent again) before this.
   */
  sendSettleMs: number;
  /** An active run older than this is taken for one a crashed Letta left behind, not a running send. */
  maxRunMs: number;
}

export interface DeliveryListener {
  /** `lagMs`: per turn, its `finishedAt` → this acknowledgement. */
  acked(batch: JournaledBatch, attempts: number, lagMs: number[]): void;
  retrying(
    batch: { id: string; agentId: string },
    attempt: number,
    delayMs: number,
    reason: string,
    kind: FailureKind,
  ): void;
  dead(batch: JournaledBatch, reason: string): void;
}

export interface DeliveryDeps extends DeliveryOptions {
  writes: LettaWrites;
  journal: TurnJournal;
  logger: Logger;
  backoff: Backoff;
  /** Awaited before every Letta request (the voice layer's quiet window). */
  beforeRequest: () => Promise<void>;
  /** Aborted when the writer closes: every wait and request ends. */
  signal: AbortSignal;
  listener: DeliveryListener;
}

/**
 * 'done': acknowledged or dead-lettered; 'lost': another writer claimed it; else back to the lane,
 * in doubt since `sentAt` (a 409, or the writer closing mid-delivery).
 */
export type DeliveryOutcome = 'done' | 'lost' | { sentAt: number };

export class BatchDelivery {
  readonly #d: DeliveryDeps;
  readonly #closed: Promise<void>;

  constructor(deps: DeliveryDeps) {
    this.#d = deps;
    this.#closed = new Promise((resolve) => deps.signal.addEventListener('abort', () => resolve(), { once: true }));
  }

  /**
   * `sentAt`: when an earlier send of the batch whose outcome is unknown began (0: not known when),
   * if there was one; the batch is then in doubt.
   */
  async deliver(batch: JournaledBatch, sentAt?: number): Promise<DeliveryOutcome> {
    const d = this.#d;
    const letta: Batch = { id: batch.id, agentId: batch.agentId, turns: batch.turns.map((t) => t.turn) };
    /** Start of the latest send whose outcome is unknown, while there is one. */
    let doubtSince = sentAt;
    let lastSend = sentAt ?? 0;
    let attempts = 0;
    const requests = { n: 0 };
    let failures = 0;
    while (!d.signal.aborted) {
      if (doubtSince !== undefined) {
        const landed = await this.#resolveDoubt(letta, doubtSince, requests);
        if (landed === undefined) return { sentAt: lastSend };
        if (landed) {
          await this.#ack(batch, attempts);
          return 'done';
        }
        // That send is over and did not land.
        doubtSince = undefined;
      }
      if (!(await this.#gate())) return { sentAt: lastSend };
      if (!(await this.#stillOurs(batch))) return 'lost';
      lastSend = Date.now();
      await this.#recordSend(batch, lastSend);
      attempts += 1;
      requests.n += 1;
      try {
        await d.writes.write(letta, { timeoutMs: d.requestTimeoutMs[d.writes.mode], signal: d.signal });
        await this.#ack(batch, attempts);
        return 'done';
      } catch (err) {
        if (d.signal.aborted || err instanceof APIUserAbortError) return { sentAt: lastSend };
        const f = classify(err);
        let delayMs: number;
        switch (f.kind) {
          case 'mode-changed':
            continue;
          case 'invalid':
            await this.#deadLetter(batch, err);
            return 'done';
          case 'busy':
            // Another request holds the agent, perhaps an earlier send of this very batch, or a dead
            // writer's whose work this lane now holds too. Not a failure of ours: give the lane back
            // (older work goes first), and check again (no active run, not landed) before resending.
            delayMs = Math.max(
              d.backoff.baseMs,
              d.backoff.after(f.retryAfterMs, () => 0),
            );
            this.#retry(letta, requests.n, delayMs, summary(err), f.kind, err);
            await this.#wait(delayMs);
            return { sentAt: 0 };
          case 'auth':
            delayMs = d.backoff.capMs;
            this.#authFailed(f.status, batch.agentId);
            break;
          case 'ambiguous':
            doubtSince = lastSend;
            delayMs = d.backoff.after(f.retryAfterMs, () => failures++);
            break;
          case 'refused':
            delayMs = d.backoff.after(f.retryAfterMs, () => failures++);
            break;
        }
        this.#retry(letta, requests.n, delayMs, summary(err), f.kind, err);
        await this.#wait(delayMs);
      }
    }
    return { sentAt: lastSend };
  }

  /**
   * Whether a batch in doubt is in Letta, answered only once its earlier send cannot still be
   * running: `sendSettleMs` after that send began, and then with no active run on the agent (it may
   * be that send). Retried with backoff until Letta answers; undefined when the writer closes.
   */
  async #resolveDoubt(batch: Batch, sentAt: number, requests: { n: number }): Promise<boolean | undefined> {
    const d = this.#d;
    await this.#wait(sentAt + d.sendSettleMs - Date.now());
    let failures = 0;
    let running = 0;
    while (await this.#gate()) {
      const call = { timeoutMs: d.checkTimeoutMs, signal: d.signal };
      requests.n += 1;
      try {
        if (await d.writes.agentBusy(batch, { ...call, maxRunMs: d.maxRunMs })) {
          if (running === 0)
            d.logger.info(
              { event: 'memory_wait_active_run', agentId: batch.agentId, batchId: batch.id },
              'Letta is running a request on the agent (perhaps an earlier send of this batch): checking again once it ends',
            );
          await this.#wait(Math.max(d.backoff.baseMs, d.backoff.delay(running++)));
          continue;
        }
        if (!(await this.#gate())) return undefined;
        requests.n += 1;
        return await d.writes.batchLanded(batch, call);
      } catch (err) {
        if (d.signal.aborted || err instanceof APIUserAbortError) return undefined;
        const f = classify(err);
        // A check refused as invalid cannot tell us anything: let the write get the real answer.
        if (f.kind === 'invalid') return false;
        if (f.kind === 'auth') this.#authFailed(f.status, batch.agentId);
        const ra = 'retryAfterMs' in f ? f.retryAfterMs : undefined;
        const delayMs = f.kind === 'auth' ? d.backoff.capMs : d.backoff.after(ra, () => failures++);
        this.#retry(batch, requests.n, delayMs, `check: ${summary(err)}`, f.kind, err);
        await this.#wait(delayMs);
      }
    }
    return undefined;
  }

  /** Resolves true when the gate opens, false when the writer closes first. */
  async #gate(): Promise<boolean> {
    if (this.#d.signal.aborted) return false;
    const open = this.#d
      .beforeRequest()
      .catch((err: unknown) =>
        this.#d.logger.warn(
          { event: 'memory_gate_failed', err: summary(err) },
          'beforeRequest hook failed; sending anyway',
        ),
      );
    await Promise.race([open, this.#closed]);
    return !this.#d.signal.aborted;
  }

  async #wait(ms: number): Promise<void> {
    await sleepFor(Math.max(0, ms), undefined, { signal: this.#d.signal }).catch(() => undefined);
  }

  /** False once another writer claimed the batch (this one was taken for dead): it sends it now. */
  async #stillOurs(batch: JournaledBatch): Promise<boolean> {
    const ours = await this.#d.journal.owns(batch).catch((err: unknown) => {
      this.#journalFailed(err, batch, 'could not check who holds a batch; sending it as ours');
      return true;
    });
    if (!ours)
      this.#d.logger.warn(
        { event: 'memory_batch_claimed', agentId: batch.agentId, batchId: batch.id },
        'another writer took this batch over (this one was taken for dead); leaving it to that writer',
      );
    return ours;
  }

  /** Before every send: a resend after a crash carries the same turns under the same id. */
  async #recordSend(batch: JournaledBatch, at: number): Promise<void> {
    await this.#d.journal
      .recordSend(batch, at)
      .catch((err: unknown) => this.#journalFailed(err, batch, 'could not journal a batch; sending it anyway'));
  }

  async #ack(batch: JournaledBatch, attempts: number): Promise<void> {
    await this.#d.journal
      .ack(batch)
      .catch((err: unknown) =>
        this.#journalFailed(err, batch, 'could not journal an ack; the batch may be checked again after a restart'),
      );
    const now = Date.now();
    const lagMs = batch.turns.map((t) => now - t.turn.finishedAt);
    this.#d.logger.info(
      {
        event: 'memory_ack',
        agentId: batch.agentId,
        batchId: batch.id,
        mode: this.#d.writes.mode,
        turns: batch.turns.length,
        attempts,
        lagMs,
      },
      'turns are in long-term memory',
    );
    this.#d.listener.acked(batch, attempts, lagMs);
  }

  async #deadLetter(batch: JournaledBatch, err: unknown): Promise<void> {
    const d = this.#d;
    const reason = summary(err);
    let where: string | undefined;
    try {
      where = await d.journal.deadLetter(batch, {
        at: new Date().toISOString(),
        batchId: batch.id,
        agentId: batch.agentId,
        mode: d.writes.mode,
        reason,
        error: {
          message: err instanceof Error ? err.message : String(err),
          ...(err instanceof APIError && err.status !== undefined ? { status: err.status, body: err.error } : {}),
        },
        turns: batch.turns.map((t) => t.turn),
      });
    } catch (e) {
      this.#journalFailed(e, batch, 'could not write the dead letter; its turns stay journaled');
    }
    d.logger.error(
      {
        event: 'memory_dead_letter',
        agentId: batch.agentId,
        batchId: batch.id,
        turns: batch.turns.length,
        reason,
        where,
      },
      `Letta rejected a memory batch (${reason}); it will not be retried. Its turns are in ${where ?? 'the journal (the dead letter could not be written)'}.`,
    );
    d.logger.debug({
      event: 'memory_dead_letter_detail',
      batchId: batch.id,
      pii: { error: err instanceof Error ? err.message : String(err) },
    });
    d.listener.dead(batch, reason);
  }

  #authFailed(status: number, agentId: string): void {
    this.#d.logger.error(
      { event: 'memory_auth_failed', status, agentId },
      `Letta refused the credentials (${status}): check LETTA_API_KEY (and LETTA_BASE_URL). Turns stay journaled and are retried.`,
    );
  }

  #retry(batch: Batch, attempt: number, delayMs: number, reason: string, kind: FailureKind, err: unknown): void {
    // A template Letta refuses is a setting to fix, said once by the memory service: no line per retry.
    const level = err instanceof AgentTemplateRefused ? 'debug' : 'warn';
    this.#d.logger[level](
      { event: 'memory_retry', agentId: batch.agentId, batchId: batch.id, attempt, delayMs, reason, kind },
      'memory write will be retried',
    );
    this.#d.logger.debug({
      event: 'memory_retry_detail',
      batchId: batch.id,
      pii: { error: err instanceof Error ? err.message : String(err) },
    });
    this.#d.listener.retrying(batch, attempt, delayMs, reason, kind);
  }

  #journalFailed(err: unknown, batch: JournaledBatch, msg: string): void {
    if (batch.origin === MEMORY_ONLY) return;
    this.#d.logger.error({ event: 'journal_append_failed', err: summary(err), batchId: batch.id }, msg);
  }
}
