/**
 * The journal in Redis Streams, for several workers or for containers whose disk dies with them
 * (LiveKit Cloud agents have no persistent volume).
 *
 * Each writer appends to a stream of its own and reads every entry into its pending list in the
 * same step (consumer group `writers`; see redis-scripts.ts), so turns of one call stay in order
 * with one writer. An entry is acknowledged (XACK, then deleted) only after Letta acknowledged it.
 * A live writer resets the idle time of what it holds every third of `claimIdleMs`; entries idle
 * longer belong to a writer that died, and any other writer takes them over with XAUTOCLAIM. A
 * batch's record (its id, its entries, when it was last sent) lets the claimer resend exactly that
 * batch under the same idempotency key, after checking whether it landed. Durability is Redis's:
 * run it with `appendonly yes` and `appendfsync always` for a turn to survive a Redis crash.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import type { Logger } from '../../telemetry/logger.ts';
import type { Turn } from '../turn.ts';
import {
  type AgentHold,
  type DeadLetter,
  type JournalStatus,
  type JournaledBatch,
  type JournaledTurn,
  MEMORY_ONLY,
  type PendingBatch,
  type PendingWork,
  type TurnJournal,
} from './journal.ts';
import { AgentLocks } from './redis-agent-lock.ts';
import { APPEND, FORGET, OWNS, REQUEUE, TOUCH } from './redis-scripts.ts';

export interface RedisJournalOptions {
  /** `redis://` or `rediss://` (TLS); user and password from the URL. */
  url: string;
  logger?: Logger;
  /**
   * How long what a writer holds (its entries, an agent's lock) outlives it: entries idle this long
   * are claimed by another writer, and an agent's lock lapses after it unless renewed.
   */
  claimIdleMs?: number;
  /** Prefix of every key (several deployments can share one Redis). */
  prefix?: string;
  /** Per-command timeout, reconnects included: past it an append fails and the turn is kept in memory. */
  commandTimeoutMs?: number;
}

export const defaultRedisJournalOptions = {
  claimIdleMs: 30_000,
  prefix: 'lk-memory',
  commandTimeoutMs: 10_000,
} as const;

const GROUP = 'writers';

/** The URL without its credentials, for logs. */
export function redisWhere(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname === '/' ? '' : u.pathname}`;
}

type StreamEntry = [id: string, fields: string[]];

function field(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

export class RedisJournal implements TurnJournal {
  readonly where: string;
  readonly #redis: Redis;
  readonly #url: string;
  readonly #logger: Logger | undefined;
  readonly #id = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  readonly #prefix: string;
  readonly #claimIdleMs: number;
  readonly #commandTimeoutMs: number;
  readonly #locks: AgentLocks;
  /** Streams this writer holds entries in: its own, and those it claimed from. */
  readonly #holding = new Set<string>();
  /** Started by the first append: a journal opened only to read (status, the CLI) leaves no trace. */
  #heartbeat: NodeJS.Timeout | undefined;
  #down = false;

  constructor(opts: RedisJournalOptions) {
    const d = defaultRedisJournalOptions;
    this.#url = opts.url;
    this.where = redisWhere(opts.url);
    this.#logger = opts.logger;
    this.#prefix = opts.prefix ?? d.prefix;
    this.#claimIdleMs = opts.claimIdleMs ?? d.claimIdleMs;
    this.#commandTimeoutMs = opts.commandTimeoutMs ?? d.commandTimeoutMs;
    this.#redis = this.#connect();
    this.#locks = new AgentLocks(this.#redis, `${this.#prefix}:lock:`, this.#id, this.#claimIdleMs);
    this.#holding.add(this.#stream(this.#id));
  }

  async append(turn: Turn): Promise<JournaledTurn> {
    this.#beat();
    return this.#appendWith(this.#redis, turn);
  }

  async recordSend(batch: JournaledBatch, at: number): Promise<void> {
    if (batch.origin === MEMORY_ONLY) return;
    const refs = batch.turns.map((t) => t.ref);
    await this.#redis
      .multi()
      .hset(this.#batchKey(batch.id), { agentId: batch.agentId, origin: batch.origin, refs: JSON.stringify(refs), at })
      .hset(`${batch.origin}:batches`, Object.fromEntries(refs.map((r) => [r, batch.id])))
      .exec()
      .then(execOk);
  }

  async ack(batch: JournaledBatch): Promise<void> {
    if (batch.origin === MEMORY_ONLY) return;
    await this.#finish(this.#redis.multi(), batch).exec().then(execOk);
  }

  async deadLetter(batch: JournaledBatch, letter: DeadLetter): Promise<string> {
    const tx = this.#redis.multi().xadd(`${this.#prefix}:dead`, '*', 'letter', JSON.stringify(letter));
    await (batch.origin === MEMORY_ONLY ? tx : this.#finish(tx, batch)).exec().then(execOk);
    return `${this.where} stream ${this.#prefix}:dead`;
  }

  async claimOrphans(): Promise<PendingWork> {
    this.#beat();
    const work: PendingWork = { batches: [], turns: [] };
    const writers = await this.#redis.smembers(`${this.#prefix}:writers`);
    for (const writer of writers.sort()) {
      if (writer === this.#id) continue;
      const stream = this.#stream(writer);
      const claimed = await this.#autoclaim(stream);
      if (claimed.length > 0) {
        this.#holding.add(stream);
        await this.#collect(stream, claimed, work);
        this.#logger?.info(
          { event: 'memory_replay', writer, stream, entries: claimed.length },
          'took over turns a writer that died left unacknowledged',
        );
      }
      await this.#redis.eval(
        FORGET,
        4,
        stream,
        `${stream}:batches`,
        this.#aliveKey(writer),
        `${this.#prefix}:writers`,
        writer,
      );
    }
    return work;
  }

  async pendingTurnsFor(agentId: string): Promise<Turn[]> {
    return this.#pending((agent) => agent === agentId);
  }

  async status(): Promise<JournalStatus> {
    const pending = await this.#pending(() => true);
    return {
      where: this.where,
      pendingTurns: pending.length,
      oldestPendingAt: pending.length ? Math.min(...pending.map((t) => t.finishedAt)) : null,
      deadLetters: await this.#redis.xlen(`${this.#prefix}:dead`),
    };
  }

  async requeueDeadLetters(): Promise<{ letters: number; turns: number }> {
    const stream = this.#stream(this.#id);
    const dead = (await this.#redis.xrange(`${this.#prefix}:dead`, '-', '+')) as StreamEntry[];
    let letters = 0;
    let turns = 0;
    for (const [deadId, fields] of dead) {
      let letter: DeadLetter;
      try {
        letter = JSON.parse(field(fields, 'letter') ?? '') as DeadLetter;
      } catch {
        this.#logger?.warn({ event: 'dead_letter_corrupt_entry', deadId }, 'skipped a dead letter that is not JSON');
        continue;
      }
      const n = (await this.#redis.eval(
        REQUEUE,
        6,
        stream,
        `${this.#prefix}:writers`,
        this.#aliveKey(this.#id),
        this.#batchKey(letter.batchId),
        `${stream}:batches`,
        `${this.#prefix}:dead`,
        GROUP,
        this.#id,
        this.#claimIdleMs,
        deadId,
        letter.batchId,
        letter.agentId,
        ...letter.turns.flatMap((t) => [JSON.stringify(t), t.agentId]),
      )) as number;
      if (n > 0) {
        letters += 1;
        turns += n;
      }
    }
    return { letters, turns };
  }

  async owns(batch: JournaledBatch): Promise<boolean> {
    if (batch.origin === MEMORY_ONLY) return true;
    const refs = batch.turns.map((t) => t.ref);
    return (await this.#redis.eval(OWNS, 1, batch.origin, GROUP, this.#id, ...refs)) === 1;
  }

  holdAgent(agentId: string, signal: AbortSignal): Promise<AgentHold> {
    return this.#locks.hold(agentId, signal);
  }

  /** After close: a short connection of its own; the entry is claimed once it has been idle long enough. */
  async keepLate(turn: Turn): Promise<void> {
    const redis = this.#connect();
    try {
      await this.#appendWith(redis, turn);
    } finally {
      redis.disconnect();
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    this.#locks.close();
    // QUIT would wait in the offline queue (up to the command timeout) while Redis is unreachable.
    if (this.#redis.status === 'ready') await this.#redis.quit().catch(() => this.#redis.disconnect());
    else this.#redis.disconnect();
  }

  #connect(): Redis {
    const redis = new Redis(this.#url, {
      // Commands wait through a reconnect (a Redis restart) up to their own timeout, never forever.
      maxRetriesPerRequest: null,
      commandTimeout: this.#commandTimeoutMs,
      retryStrategy: (times) => Math.min(100 * times, 2000),
    });
    redis.on('error', (err: Error) => {
      if (this.#down) return;
      this.#down = true;
      this.#logger?.error(
        { event: 'journal_unreachable', journal: this.where, err: err.name, code: (err as { code?: string }).code },
        `the Redis journal at ${this.where} is unreachable: reconnecting; a turn it cannot take in time is written to Letta from memory only`,
      );
    });
    redis.on('ready', () => {
      if (!this.#down) return;
      this.#down = false;
      this.#logger?.info({ event: 'journal_reachable', journal: this.where }, 'the Redis journal is reachable again');
    });
    return redis;
  }

  async #appendWith(redis: Redis, turn: Turn): Promise<JournaledTurn> {
    const stream = this.#stream(this.#id);
    const ref = (await redis.eval(
      APPEND,
      3,
      stream,
      `${this.#prefix}:writers`,
      this.#aliveKey(this.#id),
      GROUP,
      this.#id,
      JSON.stringify(turn),
      turn.agentId,
      this.#claimIdleMs,
    )) as string;
    return { turn, origin: stream, ref };
  }

  /** Acknowledge, delete and unindex a batch's entries and drop its record, in one transaction. */
  #finish<T extends ReturnType<Redis['multi']>>(tx: T, batch: JournaledBatch): T {
    const refs = batch.turns.map((t) => t.ref);
    tx.xack(batch.origin, GROUP, ...refs)
      .xdel(batch.origin, ...refs)
      .hdel(`${batch.origin}:batches`, ...refs)
      .del(this.#batchKey(batch.id));
    return tx;
  }

  #beat(): void {
    if (this.#heartbeat) return;
    this.#heartbeat = setInterval(() => void this.#touch(), this.#claimIdleMs / 3);
    this.#heartbeat.unref();
  }

  /** Every turn still in a writer's stream whose agent passes `want`, oldest first. */
  async #pending(want: (agentId: string | undefined) => boolean): Promise<Turn[]> {
    const writers = await this.#redis.smembers(`${this.#prefix}:writers`);
    const out: Turn[] = [];
    for (const writer of writers) {
      const entries = (await this.#redis.xrange(this.#stream(writer), '-', '+')) as StreamEntry[];
      for (const [, fields] of entries) {
        if (!want(field(fields, 'agent'))) continue;
        const turn = this.#parseTurn(fields);
        if (turn) out.push(turn);
      }
    }
    return out.sort((a, b) => a.userAt - b.userAt || a.finishedAt - b.finishedAt);
  }

  async #touch(): Promise<void> {
    try {
      await this.#redis.set(this.#aliveKey(this.#id), '1', 'PX', this.#claimIdleMs);
      for (const stream of this.#holding) await this.#redis.eval(TOUCH, 1, stream, GROUP, this.#id);
    } catch (err) {
      // The connection's error handler has said Redis is unreachable; the next beat tries again.
      this.#logger?.debug({ event: 'journal_touch_failed', err: (err as Error).name });
    }
  }

  /** Every entry of the stream idle past `claimIdleMs`, now this writer's. */
  async #autoclaim(stream: string): Promise<StreamEntry[]> {
    const out: StreamEntry[] = [];
    let cursor = '0-0';
    do {
      const [next, entries] = (await this.#redis.xautoclaim(
        stream,
        GROUP,
        this.#id,
        this.#claimIdleMs,
        cursor,
        'COUNT',
        200,
      )) as [string, (StreamEntry | null)[]];
      for (const e of entries) if (e) out.push(e);
      cursor = next;
    } while (cursor !== '0-0');
    return out;
  }

  /** Groups claimed entries into the batches they were sent in (as they were) and loose turns. */
  async #collect(stream: string, claimed: StreamEntry[], work: PendingWork): Promise<void> {
    const byRef = new Map(claimed.map(([id, fields]) => [id, fields]));
    const batchOf = claimed.length ? await this.#redis.hmget(`${stream}:batches`, ...claimed.map(([id]) => id)) : [];
    const seen = new Set<string>();
    for (const [i, [ref, fields]] of claimed.entries()) {
      const batchId = batchOf[i];
      if (batchId) {
        if (seen.has(batchId)) continue;
        seen.add(batchId);
        const batch = await this.#loadBatch(stream, batchId, byRef);
        if (batch) work.batches.push(batch);
        continue;
      }
      const turn = this.#parseTurn(fields);
      if (turn) work.turns.push({ turn, origin: stream, ref });
    }
  }

  async #loadBatch(stream: string, batchId: string, claimed: Map<string, string[]>): Promise<PendingBatch | undefined> {
    const rec = await this.#redis.hgetall(this.#batchKey(batchId));
    const refs = JSON.parse(rec.refs ?? '[]') as string[];
    const turns: JournaledTurn[] = [];
    for (const ref of refs) {
      const fields = claimed.get(ref);
      const turn = fields && this.#parseTurn(fields);
      // A batch goes out whole or not at all: the same id must always carry the same turns.
      if (!turn) {
        this.#logger?.warn(
          { event: 'journal_batch_incomplete', batchId, stream },
          'a claimed batch is missing entries (held by a live writer?): left for a later claim',
        );
        return undefined;
      }
      turns.push({ turn, origin: stream, ref });
    }
    return { id: batchId, agentId: rec.agentId ?? '', origin: stream, turns, sentAt: Number(rec.at ?? 0) };
  }

  #parseTurn(fields: string[]): Turn | undefined {
    try {
      const t = JSON.parse(field(fields, 'turn') ?? '') as Turn;
      if (typeof t.id === 'string' && typeof t.agentId === 'string') return t;
    } catch {
      // Reported below.
    }
    this.#logger?.warn({ event: 'journal_corrupt_entry' }, 'skipped a journal entry that is not a turn');
    return undefined;
  }

  #stream(writer: string): string {
    return `${this.#prefix}:w:${writer}`;
  }

  #aliveKey(writer: string): string {
    return `${this.#prefix}:w:${writer}:alive`;
  }

  #batchKey(batchId: string): string {
    return `${this.#prefix}:batch:${batchId}`;
  }
}

/** A MULTI's replies: throws the first command error (EXEC does not). */
function execOk(replies: [Error | null, unknown][] | null): void {
  if (replies === null) throw new Error('Redis transaction aborted');
  for (const [err] of replies) if (err) throw err;
}
