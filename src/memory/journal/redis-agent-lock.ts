/**
 * One delivery per Letta agent at a time across every worker sharing a Redis journal: a lease
 * (`SET NX PX`) renewed while held and released only by its holder, so a holder that dies frees
 * the agent after one lease at most.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { AgentHold } from './journal.ts';
import { RELEASE, RENEW } from './redis-scripts.ts';

/** Between two tries for a lock another worker holds: short, since its holder is writing right now. */
const POLL_MS = { min: 50, max: 500 } as const;

export class AgentLocks {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #owner: string;
  readonly #leaseMs: number;
  readonly #renewals = new Set<NodeJS.Timeout>();

  constructor(redis: Redis, prefix: string, owner: string, leaseMs: number) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#owner = owner;
    this.#leaseMs = leaseMs;
  }

  /** Waits until this worker holds the agent (rejects when `signal` aborts). */
  async hold(agentId: string, signal: AbortSignal): Promise<AgentHold> {
    const key = `${this.#prefix}${agentId}`;
    const token = `${this.#owner}:${randomBytes(6).toString('hex')}`;
    for (let tries = 0; ; tries++) {
      signal.throwIfAborted();
      if ((await this.#redis.set(key, token, 'PX', this.#leaseMs, 'NX')) === 'OK') break;
      const wait = Math.min(POLL_MS.max, POLL_MS.min * 2 ** tries) * (0.5 + Math.random() / 2);
      await sleepFor(wait, undefined, { signal });
    }
    const renew = setInterval(() => {
      this.#redis.eval(RENEW, 1, key, token, this.#leaseMs).catch(() => undefined);
    }, this.#leaseMs / 3);
    renew.unref();
    this.#renewals.add(renew);
    return {
      release: async () => {
        clearInterval(renew);
        this.#renewals.delete(renew);
        await this.#redis.eval(RELEASE, 1, key, token);
      },
    };
  }

  close(): void {
    for (const r of this.#renewals) clearInterval(r);
    this.#renewals.clear();
  }
}
