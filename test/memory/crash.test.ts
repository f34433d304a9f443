import type { ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LettaStandIn, startLettaStandIn } from '../../sim/index.ts';
import { pendingTurnsIn } from '../../src/memory/journal/process-file.ts';
import { startCrashWriter } from './fixtures/crash-writer-process.ts';
import {
  isSorted,
  occurrences,
  positions,
  recordingLogger,
  startWriter,
  tempDir,
  until,
  userTexts,
} from './helpers.ts';

describe('a worker killed mid-write', () => {
  let standIn: LettaStandIn;
  let agentId: string;
  let dir: string;
  let cleanup: () => Promise<void>;
  let child: ChildProcess | undefined;

  beforeEach(async () => {
    standIn = await startLettaStandIn();
    agentId = standIn.store.createAgent({ name: 'caller' }).id;
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    child?.kill('SIGKILL');
    await standIn.close();
    await cleanup();
  });

  const posts = () => standIn.requests.filter((r) => r.method === 'POST');
  const texts = (tag: string) => [1, 2, 3, 4, 5, 6].map((i) => `${tag} caller says [${i}]`);

  /** A new writer in this process claims the dead worker's journal and finishes its work. */
  async function replayAndCheck(tag: string): Promise<void> {
    const journaled = pendingTurnsIn(dir, agentId).map((t) => t.user);
    expect(journaled.length).toBeGreaterThan(0);
    const { logger } = recordingLogger();
    const writer = startWriter(standIn, dir, 'messages', logger);
    try {
      expect((await writer.replay()).turns).toBe(6);
      expect((await writer.flush(10_000)).drained).toBe(true);
    } finally {
      await writer.close();
    }
    const landed = userTexts(standIn, agentId);
    expect(occurrences(landed, texts(tag))).toEqual([1, 1, 1, 1, 1, 1]);
    expect(isSorted(positions(landed, texts(tag)))).toBe(true);
    expect(pendingTurnsIn(dir, agentId)).toEqual([]);
  }

  it('replays every turn exactly once when the kill lands while a request is in flight', async () => {
    await standIn.faults.set({ kind: 'latency', ms: 2000, match: { method: 'POST' } });
    const run = startCrashWriter({
      LETTA_URL: standIn.url,
      JOURNAL_DIR: dir,
      AGENT_ID: agentId,
      TAG: 'inflight',
      BACKOFF_MS: '50',
    });
    child = run.child;
    await until(
      () => run.events.some((e) => e.event === 'journaled') && posts().length > 0,
      20_000,
      `journaled + a request in flight (${run.stderr()})`,
    );
    run.child.kill('SIGKILL');
    expect(await run.exited).toBe('SIGKILL');
    expect(run.events.some((e) => e.event === 'ack')).toBe(false);

    // Letta goes on with the request the dead worker sent: it lands although nobody heard back.
    await until(() => posts().every((r) => r.finishedAt !== undefined), 5000, 'the orphaned request');
    expect(occurrences(userTexts(standIn, agentId), ['inflight caller says [1]'])).toEqual([1]);
    await standIn.faults.clear();
    await replayAndCheck('inflight');
  });

  it('does not resend the last write when it landed but its response never came back', async () => {
    await standIn.faults.set({ kind: 'lost-response', count: 1, match: { method: 'POST' } });
    // A long backoff keeps the worker waiting after the lost response, until it is killed.
    const run = startCrashWriter({
      LETTA_URL: standIn.url,
      JOURNAL_DIR: dir,
      AGENT_ID: agentId,
      TAG: 'lost',
      BACKOFF_MS: '30000',
    });
    child = run.child;
    await until(
      () => run.events.some((e) => e.event === 'journaled') && run.events.some((e) => e.event === 'retry'),
      20_000,
      `journaled + a lost response (${run.stderr()})`,
    );
    run.child.kill('SIGKILL');
    await run.exited;
    const landedBefore = userTexts(standIn, agentId);
    expect(landedBefore).toHaveLength(1);
    const postsBefore = posts().length;

    await replayAndCheck('lost');
    // The landed batch was found, not resent: only the turns after it needed a write.
    const firstBatch = texts('lost').filter((t) => (landedBefore[0] ?? '').includes(t));
    expect(firstBatch.length).toBeGreaterThan(0);
    expect(posts().length - postsBefore).toBe(1);
  });
});
