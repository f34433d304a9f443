/**
 * Two workers writing for one caller's agent at once, against Letta's own server, whose messages
 * endpoint takes no lock (no 409: both requests run). With file journals each worker holds its
 * own lane, and the server interleaves the two: nothing is lost or repeated, and each worker's
 * turns stay in order. With the Redis journal the workers share the agent's lock: one write at a
 * time, so each batch's agent step finishes before the next batch arrives.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { noRedisReason, redisServerPath, startRedis } from '../../bench/redis-server.ts';
import { callerAgentTemplate } from '../../src/memory/agent-template.ts';
import { openJournal } from '../../src/memory/journal/open-journal.ts';
import { createLettaClient } from '../../src/memory/letta-client.ts';
import { LettaWrites } from '../../src/memory/letta-writes.ts';
import { TurnWriter } from '../../src/memory/writer/turn-writer.ts';
import { isSorted, makeTurn, positions, recordingLogger } from '../memory/helpers.ts';
import { activeRuns, lettaUrl, proxyModel, server, serverMessages, serverUserTexts, setStepDelay } from './helpers.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await setStepDelay(0);
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function worker(journal: { journalDir: string; journalUrl?: string }): Promise<TurnWriter> {
  const { logger } = recordingLogger();
  const writer = new TurnWriter({
    journal: openJournal({ ...journal, claimIdleMs: 30_000 }, logger),
    writes: new LettaWrites({ client: createLettaClient({ baseURL: lettaUrl }, 30_000), mode: 'messages', logger }),
    logger,
    backoffBaseMs: 100,
    backoffCapMs: 1000,
  });
  cleanups.push(() => writer.close());
  return writer;
}

async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'letta-two-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Both workers write three turns each, one at a time, at the same moments; the most runs seen at once. */
async function writeTogether(
  agentId: string,
  a: TurnWriter,
  b: TurnWriter,
): Promise<{ most: number; lines: string[][] }> {
  const lines = ['A', 'B'].map((w) => [1, 2, 3].map((n) => `worker ${w} caller says [${n}]`));
  let most = 0;
  let watching = true;
  const watch = (async () => {
    while (watching) {
      most = Math.max(most, await activeRuns(agentId));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  for (let n = 0; n < 3; n++) {
    await Promise.all(
      [a, b].map((w, i) => w.submit(makeTurn(agentId, n + 1, { user: lines[i]![n]!, sessionId: `worker-${i}` }))),
    );
    await Promise.all([a.flush(60_000), b.flush(60_000)]);
  }
  watching = false;
  await watch;
  return { most, lines };
}

/** Each worker's turns are in the server's store once each, in the order that worker wrote them. */
async function expectEachOnceInOrder(agentId: string, lines: string[][]): Promise<void> {
  const landed = (await serverUserTexts(agentId)).join('\n');
  for (const own of lines) {
    expect(own.map((l) => landed.split(l).length - 1)).toEqual([1, 1, 1]);
    expect(isSorted(positions([landed], own))).toBe(true);
  }
}

describe('two workers writing for one caller at once', () => {
  it('with file journals: the server runs both writes at once (no 409), and nothing is lost, repeated or reordered', async () => {
    const agentId = (await server.agents.create(callerAgentTemplate('two-files', proxyModel))).id;
    // A slow model step keeps each write running long enough for the other to arrive.
    await setStepDelay(1500);
    const a = await worker({ journalDir: await scratch() });
    const b = await worker({ journalDir: await scratch() });
    const { most, lines } = await writeTogether(agentId, a, b);
    expect(most).toBe(2);
    await expectEachOnceInOrder(agentId, lines);
  });

  it.skipIf(!redisServerPath())(
    `with the Redis journal: one write at a time for the agent, each step finished before the next batch${redisServerPath() ? '' : ` (${noRedisReason})`}`,
    async () => {
      const agentId = (await server.agents.create(callerAgentTemplate('two-redis', proxyModel))).id;
      const redis = await startRedis();
      cleanups.push(() => redis.stop());
      await setStepDelay(1500);
      const a = await worker({ journalDir: await scratch(), journalUrl: redis.url });
      const b = await worker({ journalDir: await scratch(), journalUrl: redis.url });
      const { most, lines } = await writeTogether(agentId, a, b);
      expect(most).toBe(1);
      await expectEachOnceInOrder(agentId, lines);
      // Every batch's step ended (its assistant message) before the next batch's message came in.
      const kinds = (await serverMessages(agentId))
        .map((m) => m.message_type)
        .filter((t) => t === 'user_message' || t === 'assistant_message');
      expect(kinds.join(',')).toMatch(/^(user_message,assistant_message,?)+$/);
    },
  );
});
