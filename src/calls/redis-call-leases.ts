/**
 * Call leases in Redis: a hash of calls (room → record) and one expiring key per call that the
 * serving job renews. Renewal, end and claim check the record first, so a job that was given up
 * for dead (a stall longer than the lease) cannot bring its lease back.
 */
import { Redis } from 'ioredis';
import type { Logger } from '../telemetry/logger.ts';
import { type CallHold, type CallLeases, type CallRecord, parseCall, renewEvery } from './call-leases.ts';

/** Whether the room's record is this job's (ARGV[1] room, ARGV[2] job). */
const MINE = `
local function mine()
  local rec = redis.call('HGET', KEYS[1], ARGV[1])
  return rec and cjson.decode(rec).job == ARGV[2]
end`;

/** KEYS: calls hash, alive key. ARGV: room, job, lease ms. Renews only the job's own lease. */
const RENEW = `${MINE}
if not mine() then return 0 end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
return 1`;

/** KEYS: calls hash. ARGV: room, job, new record. */
const UPDATE = `${MINE}
if not mine() then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1`;

/** KEYS: calls hash, alive key. ARGV: room, job. */
const END = `${MINE}
if not mine() then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1`;

/** KEYS: calls hash, alive key. ARGV: room, job. Only a lapsed lease, and only once. */
const CLAIM = `${MINE}
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if not mine() then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1`;

export class RedisCallLeases implements CallLeases {
  readonly leaseMs: number;
  /** Renewal timers of the holds of this process: closing stops them (the leases then lapse). */
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #logger: Logger;

  constructor(o: { url: string; leaseMs: number; logger: Logger; prefix?: string }) {
    this.leaseMs = o.leaseMs;
    this.#logger = o.logger;
    this.#prefix = o.prefix ?? 'lk-calls';
    this.#redis = new Redis(o.url, {
      maxRetriesPerRequest: null,
      commandTimeout: 5000,
      retryStrategy: (times) => Math.min(100 * times, 2000),
    });
    // Reconnects by itself; the journal says it loudly when Redis is down, this only at debug.
    this.#redis.on('error', (err: Error) => this.#logger.debug({ event: 'call_leases_unreachable', err: err.name }));
  }

  hold(call: CallRecord): CallHold {
    const record = JSON.stringify(call);
    const keys = [this.#calls(), this.#alive(call.room)];
    const renew = () => this.#redis.eval(RENEW, 2, ...keys, call.room, call.job, this.leaseMs);
    const started = this.#redis
      .multi()
      .hset(keys[0]!, call.room, record)
      .set(keys[1]!, '1', 'PX', this.leaseMs)
      .exec()
      .catch((err: unknown) => this.#logger.warn({ err: (err as Error).message }, 'could not record the call lease'));
    const timer = setInterval(() => {
      renew().catch((err: unknown) =>
        this.#logger.debug({ event: 'call_lease_renew_failed', err: (err as Error).name }),
      );
    }, renewEvery(this.leaseMs));
    timer.unref();
    // Updates in order: a later one never overtaken by an earlier one.
    let updates: Promise<unknown> = started;
    return {
      update: (openTurn) => {
        const next = JSON.stringify({ ...call, ...(openTurn ? { openTurn } : {}) });
        updates = updates
          .then(() => this.#redis.eval(UPDATE, 1, keys[0]!, call.room, call.job, next))
          .catch((err: unknown) => this.#logger.debug({ event: 'call_lease_update_failed', err: (err as Error).name }));
      },
      end: async () => {
        clearInterval(timer);
        this.#timers.delete(timer);
        await updates;
        await this.#redis.eval(END, 2, ...keys, call.room, call.job);
      },
    };
  }

  async lapsed(): Promise<CallRecord[]> {
    const all = await this.#redis.hgetall(this.#calls());
    const calls = Object.values(all)
      .map(parseCall)
      .filter((c): c is CallRecord => c !== null);
    if (calls.length === 0) return [];
    const flags = await Promise.all(calls.map((c) => this.#redis.exists(this.#alive(c.room))));
    return calls.filter((_, i) => flags[i] === 0);
  }

  async claim(call: CallRecord): Promise<boolean> {
    const keys = [this.#calls(), this.#alive(call.room)];
    return (await this.#redis.eval(CLAIM, 2, ...keys, call.room, call.job)) === 1;
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers.clear();
    if (this.#redis.status === 'ready') await this.#redis.quit().catch(() => this.#redis.disconnect());
    else this.#redis.disconnect();
  }

  #calls(): string {
    return `${this.#prefix}:calls`;
  }

  #alive(room: string): string {
    return `${this.#prefix}:alive:${room}`;
  }
}
