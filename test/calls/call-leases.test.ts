/**
 * Call leases in both stores (a real redis-server on 127.0.0.1, files in a temporary directory):
 * a held lease never lapses, a lease whose holder stopped renewing lapses and is claimed exactly
 * once, an ended one is gone, a claimed one cannot be brought back by a late holder, and the open
 * turn a holder updates is what the claimer gets.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LocalRedis, redisServerPath, startRedis } from '../../bench/redis-server.ts';
import type { CallLeases, CallRecord } from '../../src/calls/call-leases.ts';
import { FileCallLeases } from '../../src/calls/file-call-leases.ts';
import { RedisCallLeases } from '../../src/calls/redis-call-leases.ts';
import { recordingLogger } from '../memory/helpers.ts';

const LEASE_MS = 1000;
const call = (room: string, job = `job-${room}`): CallRecord => ({
  room,
  job,
  caller: 'caller-1',
  agentIdentity: `agent-${job}`,
  agentName: '',
});

const stores: [string, () => Promise<{ open: () => CallLeases; stop: () => Promise<void> }>][] = [
  [
    'files',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'leases-'));
      const logger = recordingLogger().logger;
      return {
        open: () => new FileCallLeases({ dir, leaseMs: LEASE_MS, logger }),
        stop: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  ],
];
if (redisServerPath() !== undefined)
  stores.push([
    'Redis',
    async () => {
      const redis: LocalRedis = await startRedis();
      const logger = recordingLogger().logger;
      return {
        open: () => new RedisCallLeases({ url: redis.url, leaseMs: LEASE_MS, logger }),
        stop: () => redis.stop(),
      };
    },
  ]);

describe.each(stores)('call leases in %s', (_name, make) => {
  let store: Awaited<ReturnType<typeof make>>;
  const opened: CallLeases[] = [];
  const open = () => {
    const l = store.open();
    opened.push(l);
    return l;
  };
  beforeEach(async () => {
    store = await make();
  });
  afterEach(async () => {
    for (const l of opened.splice(0)) await l.close();
    await store.stop();
  });

  it('a held lease stays; once its holder stops renewing it lapses and exactly one claimer gets it', async () => {
    const job = open();
    const [a, b] = [open(), open()];
    const hold = job.hold(call('room-1'));
    await sleep(LEASE_MS * 2);
    expect(await a.lapsed()).toEqual([]);
    // The job process dies: its renewals stop (closing the store stops them, ending nothing).
    await job.close();
    // An ended call is gone at once, and never lapses.
    const ended = open().hold(call('room-2'));
    await ended.end();
    void hold;
    await sleep(LEASE_MS * 1.5);
    const lapsed = await a.lapsed();
    expect(lapsed.map((c) => c.room)).toEqual(['room-1']);
    const claims = await Promise.all([a.claim(lapsed[0]!), b.claim(lapsed[0]!)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await a.lapsed()).toEqual([]);
  });

  it('the open turn reaches the claimer; a claimed lease is not renewed by its late holder', async () => {
    const job = open();
    const rescuer = open();
    const hold = job.hold(call('room-3'));
    hold.update({ user: 'What is the weather?', userAt: 42 });
    await sleep(LEASE_MS / 2);
    expect(await rescuer.lapsed()).toEqual([]);
    await job.close();
    await sleep(LEASE_MS * 1.5);
    const [lapsed] = await rescuer.lapsed();
    expect(lapsed?.openTurn).toEqual({ user: 'What is the weather?', userAt: 42 });
    expect(await rescuer.claim(lapsed!)).toBe(true);
    expect(await rescuer.claim(lapsed!)).toBe(false);
  });
});
