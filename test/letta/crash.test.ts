/**
 * A worker SIGKILLed with a write in flight, against Letta's own server, which finishes the
 * orphaned request: the next process delivers every turn exactly once and in order, with the file
 * journal and with Redis. Checked in the server's own message store.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type LocalRedis, noRedisReason, redisServerPath, startRedis } from '../../bench/redis-server.ts';
import { callerAgentTemplate } from '../../src/memory/agent-template.ts';
import { openJournal } from '../../src/memory/journal/open-journal.ts';
import { createLettaClient } from '../../src/memory/letta-client.ts';
import { LettaWrites } from '../../src/memory/letta-writes.ts';
import { TurnWriter } from '../../src/memory/writer/turn-writer.ts';
import { startCrashWriter } from '../memory/fixtures/crash-writer-process.ts';
import { isSorted, positions, recordingLogger } from '../memory/helpers.ts';
import { activeRuns, lettaUrl, proxyModel, server, serverUserTexts, setStepDelay, waitFor } from './helpers.ts';

const cleanups: (() => Promise<void>)[] = [];
let child: ChildProcess | undefined;
afterEach(async () => {
  child?.kill('SIGKILL');
  await setStepDelay(0);
  for (const c of cleanups.splice(0).reverse()) await c();
});

const CLAIM_IDLE_MS = 1000;
const texts = (tag: string) => [1, 2, 3, 4, 5, 6].map((i) => `${tag} caller says [${i}]`);

async function journalFor(
  kind: 'file' | 'redis',
): Promise<{ env: Record<string, string>; journal: { journalDir: string; journalUrl?: string } }> {
  const dir = await mkdtemp(join(tmpdir(), 'letta-crash-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  if (kind === 'file') return { env: { JOURNAL_DIR: dir }, journal: { journalDir: dir } };
  const redis: LocalRedis = await startRedis();
  cleanups.push(() => redis.stop());
  return {
    env: { JOURNAL_URL: redis.url, CLAIM_IDLE_MS: String(CLAIM_IDLE_MS) },
    journal: { journalDir: dir, journalUrl: redis.url },
  };
}

describe.each(['file', 'redis'] as const)('a worker killed mid-write, %s journal', (kind) => {
  it.skipIf(kind === 'redis' && !redisServerPath())(
    `delivers every turn exactly once, in order, after the server finished the orphaned write${kind === 'redis' && !redisServerPath() ? ` (${noRedisReason})` : ''}`,
    async () => {
      const agentId = (await server.agents.create(callerAgentTemplate(`crash-${kind}`, proxyModel))).id;
      const { env, journal } = await journalFor(kind);
      // Each model call of Letta's agent step takes 2.5 s: the kill lands inside the request.
      await setStepDelay(2500);
      const tag = `crash-${kind}`;
      const run = startCrashWriter({ LETTA_URL: lettaUrl, AGENT_ID: agentId, TAG: tag, BACKOFF_MS: '50', ...env });
      child = run.child;
      await waitFor(
        async () => run.events.some((e) => e.event === 'journaled') && (await activeRuns(agentId)) > 0,
        30_000,
        `six turns journaled and a write running on the server (${run.stderr()})`,
      );
      run.child.kill('SIGKILL');
      expect(await run.exited).toBe('SIGKILL');
      expect(run.events.some((e) => e.event === 'ack')).toBe(false);

      // The real server finishes the write whose client died: the batch lands although nobody heard back.
      await waitFor(async () => (await activeRuns(agentId)) === 0, 60_000, 'the orphaned run to finish');
      const orphaned = await serverUserTexts(agentId);
      expect(orphaned).toHaveLength(1);
      await setStepDelay(0);

      const { logger } = recordingLogger();
      const writer = new TurnWriter({
        journal: openJournal({ ...journal, claimIdleMs: CLAIM_IDLE_MS }, logger),
        writes: new LettaWrites({ client: createLettaClient({ baseURL: lettaUrl }, 30_000), mode: 'messages', logger }),
        logger,
        backoffBaseMs: 50,
        backoffCapMs: 500,
        claimIntervalMs: CLAIM_IDLE_MS,
      });
      try {
        if (kind === 'redis') await new Promise((r) => setTimeout(r, CLAIM_IDLE_MS + 200));
        expect((await writer.replay()).turns).toBe(6);
        expect((await writer.flush(60_000)).drained).toBe(true);
      } finally {
        await writer.close();
      }
      const landed = (await serverUserTexts(agentId)).join('\n');
      expect(texts(tag).map((t) => landed.split(t).length - 1)).toEqual([1, 1, 1, 1, 1, 1]);
      expect(isSorted(positions([landed], texts(tag)))).toBe(true);
    },
  );
});
