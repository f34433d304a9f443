/**
 * `npm run memory` as a user runs it: status of a real journal (files, or a real redis-server of
 * the test's own), and dead letters replayed after a fix, each landing in Letta exactly once.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type LocalRedis, noRedisReason, redisServerPath, startRedis } from '../../bench/redis-server.ts';
import { type LettaStandIn, startLettaStandIn } from '../../sim/index.ts';
import { FileJournal } from '../../src/memory/journal/file-journal.ts';
import type { TurnJournal } from '../../src/memory/journal/journal.ts';
import { RedisJournal } from '../../src/memory/journal/redis-journal.ts';
import { makeTurn, occurrences, recordingLogger, startWriter, userTexts } from '../memory/helpers.ts';
import { cleanEnv, runNode } from '../helpers/run.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function memory(args: string[], env: Record<string, string>) {
  return runNode(['src/cli/memory.ts', ...args], { env: cleanEnv(env), timeoutMs: 60_000 });
}

interface Setup {
  env: Record<string, string>;
  journal: () => TurnJournal;
}

async function fileSetup(): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'memory-cli-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return {
    env: { MEMORY_JOURNAL_DIR: dir },
    journal: () => new FileJournal(dir, { logger: recordingLogger().logger }),
  };
}

async function redisSetup(): Promise<Setup> {
  const redis: LocalRedis = await startRedis();
  cleanups.push(() => redis.stop());
  const claimIdleMs = 1000;
  return {
    env: { MEMORY_JOURNAL_URL: redis.url, MEMORY_JOURNAL_CLAIM_IDLE_MS: String(claimIdleMs) },
    journal: () => new RedisJournal({ url: redis.url, claimIdleMs, logger: recordingLogger().logger }),
  };
}

const kinds = [['file', fileSetup] as const, ...(redisServerPath() ? [['redis', redisSetup] as const] : [])];

describe('npm run memory', () => {
  // Without redis-server the Redis case does not run; this says so, with the reason, in the report.
  if (!redisServerPath()) it.skip(`the Redis journal cases: ${noRedisReason}`, () => undefined);

  it('rejects a missing or unknown command with the usage and exit code 2', async () => {
    for (const args of [[], ['bogus'], ['status', 'extra'], ['replay-dead-letters', '--json']]) {
      const r = await memory(args, {});
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('Usage: npm run memory');
    }
  });

  it.each(kinds)(
    'status and replay-dead-letters on the %s journal: each replayed turn lands once',
    async (_kind, setup) => {
      const s = await setup();
      const letta: LettaStandIn = await startLettaStandIn();
      cleanups.push(() => letta.close());
      const agentId = letta.store.createAgent({ name: 'caller' }).id;
      const { logger } = recordingLogger();

      // Letta refuses one batch for good (a 422): it becomes a dead letter; the next turn lands.
      await letta.faults.set({ kind: 'status', status: 422, count: 1, match: { method: 'POST' } });
      const bad = makeTurn(agentId, 1);
      const first = startWriter(letta, '', 'messages', logger, { journal: s.journal() });
      await first.submit(bad);
      expect((await first.flush(10_000)).drained).toBe(true);
      await first.submit(makeTurn(agentId, 2));
      expect((await first.flush(10_000)).drained).toBe(true);
      expect(first.stats().deadLetters).toBe(1);
      await first.close();

      const status = await memory(['status', '--json'], s.env);
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ pendingTurns: 0, oldestPendingAt: null, deadLetters: 1 });
      const human = await memory(['status'], s.env);
      expect(human.stdout).toMatch(
        /dead letters: +1 \(after fixing the cause: npm run memory -- replay-dead-letters\)/,
      );

      // The cause is fixed (the fault is gone); the letters go back, once however often asked.
      const replayed = await memory(['replay-dead-letters'], s.env);
      expect(replayed.code).toBe(0);
      expect(replayed.stdout).toContain('1 dead letter(s), 1 turn(s) back in the journal');
      expect((await memory(['replay-dead-letters'], s.env)).stdout).toContain('no dead letters to replay');
      const after = JSON.parse((await memory(['status', '--json'], s.env)).stdout) as Record<string, unknown>;
      expect(after).toMatchObject({ pendingTurns: 1, deadLetters: 0 });

      // A Redis journal's requeued turns belong to the CLI's writer: another claims them once idle.
      await new Promise((r) => setTimeout(r, 1200));
      const second = startWriter(letta, '', 'messages', logger, { journal: s.journal() });
      cleanups.push(() => second.close());
      expect((await second.replay()).batches).toBe(1);
      expect((await second.flush(10_000)).drained).toBe(true);
      expect(occurrences(userTexts(letta, agentId), [bad.user, 'caller says [2]'])).toEqual([1, 1]);
      expect(JSON.parse((await memory(['status', '--json'], s.env)).stdout)).toMatchObject({ pendingTurns: 0 });
    },
  );

  it('a replay interrupted after the batch was journaled, then run again, still lands the turn once', async () => {
    const s = await fileSetup();
    const dir = s.env.MEMORY_JOURNAL_DIR ?? '';
    const letta = await startLettaStandIn();
    cleanups.push(() => letta.close());
    const agentId = letta.store.createAgent({ name: 'caller' }).id;
    const { logger } = recordingLogger();
    await letta.faults.set({ kind: 'status', status: 422, count: 1, match: { method: 'POST' } });
    const first = startWriter(letta, dir, 'messages', logger);
    const bad = makeTurn(agentId, 1);
    await first.submit(bad);
    expect((await first.flush(10_000)).drained).toBe(true);
    await first.close();
    const letters = await readFile(join(dir, 'dead-letter.jsonl'), 'utf8');
    expect((await memory(['replay-dead-letters'], s.env)).code).toBe(0);
    // As if the first replay died before removing the letters: they are back, and replayed again.
    await writeFile(join(dir, 'dead-letter.jsonl'), letters);
    expect((await memory(['replay-dead-letters'], s.env)).stdout).toContain('1 dead letter(s)');
    const second = startWriter(letta, dir, 'messages', logger);
    cleanups.push(() => second.close());
    expect(await second.replay()).toEqual({ batches: 2, turns: 2 });
    expect((await second.flush(10_000)).drained).toBe(true);
    // Both copies carry the batch's id: the second is found in Letta and not sent.
    expect(occurrences(userTexts(letta, agentId), [bad.user])).toEqual([1]);
  });
});
