/**
 * The Redis journal against a real redis-server (AOF, appendfsync always) that each test starts on
 * 127.0.0.1: what a writer appends is pending until acknowledged, a dead writer's turns and batches
 * go to exactly one other writer once idle, a live writer's never do, one agent is held by one
 * writer at a time, and a Redis crash loses nothing that was handed over.
 */
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LocalRedis, noRedisReason, redisServerPath, startRedis } from '../../bench/redis-server.ts';
import type { JournaledBatch } from '../../src/memory/journal/journal.ts';
import { RedisJournal, redisWhere } from '../../src/memory/journal/redis-journal.ts';
import { makeTurn, recordingLogger } from './helpers.ts';

const AGENT = 'agent-00000000-0000-4000-8000-000000000001';
const present = redisServerPath() !== undefined;
const suite = present ? describe : describe.skip;

suite(present ? 'Redis journal (real redis-server)' : `Redis journal: skipped, ${noRedisReason}`, () => {
  let redis: LocalRedis;
  const journals: RedisJournal[] = [];
  const open = (claimIdleMs = 30_000) => {
    const j = new RedisJournal({ url: redis.url, claimIdleMs, logger: recordingLogger().logger });
    journals.push(j);
    return j;
  };

  beforeEach(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    for (const j of journals.splice(0)) await j.close().catch(() => undefined);
    await redis.stop();
  });

  const batchOf = (id: string, turns: JournaledBatch['turns']): JournaledBatch => ({
    id,
    agentId: AGENT,
    origin: turns[0]?.origin ?? '',
    turns,
  });

  it('keeps a turn pending from append until its batch is acknowledged, then keeps nothing', async () => {
    const j = open();
    const a = await j.append(makeTurn(AGENT, 1));
    const b = await j.append(makeTurn(AGENT, 2));
    expect((await j.pendingTurnsFor(AGENT)).map((t) => t.id)).toEqual([a.turn.id, b.turn.id]);
    expect(await j.pendingTurnsFor('agent-other')).toEqual([]);
    const batch = batchOf('batch-1', [a, b]);
    await j.recordSend(batch, Date.now());
    expect(await j.owns(batch)).toBe(true);
    await j.ack(batch);
    expect(await j.pendingTurnsFor(AGENT)).toEqual([]);
    const probe = new Redis(redis.url);
    try {
      // Only the writer registry and liveness remain: no entry, no batch record, no index.
      expect((await probe.keys('*')).sort()).toEqual(
        expect.arrayContaining(['lk-memory:writers', expect.stringMatching(/^lk-memory:w:.+:alive$/)]),
      );
      expect(await probe.keys('lk-memory:batch:*')).toEqual([]);
      expect(await probe.xlen(batch.origin)).toBe(0);
    } finally {
      probe.disconnect();
    }
  });

  it('gives a dead writer’s batch (as it was sent) and loose turns to one other writer, once idle', async () => {
    const dead = open(1000);
    const turns = [];
    for (const n of [1, 2, 3]) turns.push(await dead.append(makeTurn(AGENT, n)));
    const sentAt = Date.now();
    await dead.recordSend(batchOf('batch-dead', turns.slice(0, 2)), sentAt);
    await dead.close();

    const [b, c] = [open(1000), open(1000)];
    // Not idle long enough yet: nobody takes it.
    expect(await b.claimOrphans()).toEqual({ batches: [], turns: [] });
    await new Promise((r) => setTimeout(r, 1200));
    const [got, other] = await Promise.all([b.claimOrphans(), c.claimOrphans()]);
    const winner = got.batches.length > 0 ? got : other;
    const loser = winner === got ? other : got;
    expect(loser).toEqual({ batches: [], turns: [] });
    expect(winner.batches).toEqual([
      expect.objectContaining({ id: 'batch-dead', agentId: AGENT, sentAt, turns: turns.slice(0, 2) }),
    ]);
    expect(winner.turns).toEqual([turns[2]]);
    const claimer = winner === got ? b : c;
    expect(await claimer.owns(batchOf('batch-dead', turns.slice(0, 2)))).toBe(true);
  });

  it('never takes turns from a live writer, however long they wait', async () => {
    const live = open(1000);
    await live.append(makeTurn(AGENT, 1));
    const other = open(1000);
    // The live writer touches what it holds every third of the idle time.
    await new Promise((r) => setTimeout(r, 2500));
    expect(await other.claimOrphans()).toEqual({ batches: [], turns: [] });
    expect(await other.pendingTurnsFor(AGENT)).toHaveLength(1);
  });

  it('holds one agent for one writer at a time, across journals', async () => {
    const [a, b] = [open(), open()];
    const signal = new AbortController().signal;
    const first = await a.holdAgent(AGENT, signal);
    let second = false;
    const waiting = b.holdAgent(AGENT, signal).then((h) => {
      second = true;
      return h;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(second).toBe(false);
    // Another agent is free meanwhile.
    await (await b.holdAgent('agent-other', signal)).release();
    await first.release();
    await (await waiting).release();
    expect(second).toBe(true);
  });

  it('loses no turn it acknowledged to the writer when Redis crashes and comes back', async () => {
    const j = open();
    const before = await j.append(makeTurn(AGENT, 1));
    await redis.crashAndRestart();
    // The client reconnects by itself: the next append waits for it instead of failing.
    const after = await j.append(makeTurn(AGENT, 2));
    expect((await j.pendingTurnsFor(AGENT)).map((t) => t.id)).toEqual([before.turn.id, after.turn.id]);
    const batch = batchOf('batch-1', [before, after]);
    expect(await j.owns(batch)).toBe(true);
  });

  it('names where it keeps turns without the credentials', () => {
    expect(redisWhere('rediss://user:secret-pass@cache.example:6380/2')).toBe('rediss://cache.example:6380/2');
  });
});
