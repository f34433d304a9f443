import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LettaStandIn, startLettaStandIn, nowMs } from '../../sim/index.ts';
import type { DeadLetter } from '../../src/memory/journal/journal.ts';
import { FileJournal } from '../../src/memory/journal/file-journal.ts';
import { pendingTurnsIn } from '../../src/memory/journal/process-file.ts';
import { LettaWrites, type WriteMode } from '../../src/memory/letta-writes.ts';
import { createLettaClient } from '../../src/memory/letta-client.ts';
import { TurnWriter } from '../../src/memory/writer/turn-writer.ts';
import type { AckEvent, RetryEvent } from '../../src/memory/writer/writer-events.ts';
import type { Turn } from '../../src/memory/turn.ts';
import {
  ERROR,
  type LogLine,
  WARN,
  fastRetries,
  isSorted,
  makeTurn,
  occurrences,
  positions,
  recordingLogger,
  startWriter,
  tempDir,
  until,
  userTexts,
} from './helpers.ts';

/** Every text Letta holds for the agent that a turn's words could be in, for the given mode. */
function landedTexts(standIn: LettaStandIn, agentId: string, mode: WriteMode): string[] {
  if (mode === 'archival') return standIn.store.passages(agentId).map((p) => p.text);
  if (mode === 'messages') return userTexts(standIn, agentId);
  return standIn.store.messages(agentId).map((m) => ('content' in m && typeof m.content === 'string' ? m.content : ''));
}

/** Each turn's caller and assistant words are there exactly once, in turn order. */
function expectOnceInOrder(texts: string[], turns: Turn[]): void {
  const callers = turns.map((t) => t.user);
  const replies = turns.map((t) => t.assistant);
  expect(occurrences(texts, callers)).toEqual(callers.map(() => 1));
  expect(occurrences(texts, replies)).toEqual(replies.map(() => 1));
  expect(isSorted(positions(texts, callers))).toBe(true);
}

describe('turn writer against the Letta stand-in', () => {
  let standIn: LettaStandIn;
  let agentId: string;
  let dir: string;
  let cleanup: () => Promise<void>;
  let logger: ReturnType<typeof recordingLogger>['logger'];
  let log: LogLine[];
  const writers: TurnWriter[] = [];

  const writes = (path = `/v1/agents/${agentId}/`) =>
    standIn.requests.filter((r) => r.method === 'POST' && r.path.startsWith(path));
  const checks = () => standIn.requests.filter((r) => r.method === 'GET');
  const writer = (mode: WriteMode, extra: Parameters<typeof startWriter>[4] = {}) => {
    const w = startWriter(standIn, dir, mode, logger, extra);
    writers.push(w);
    return w;
  };
  const submitAll = async (w: TurnWriter, turns: Turn[]) => {
    for (const t of turns) await w.submit(t);
  };

  beforeEach(async () => {
    standIn = await startLettaStandIn();
    agentId = standIn.store.createAgent({ name: 'caller' }).id;
    ({ dir, cleanup } = await tempDir());
    ({ logger, lines: log } = recordingLogger());
  });
  afterEach(async () => {
    for (const w of writers.splice(0)) await w.close();
    await standIn.close();
    await cleanup();
  });

  describe.each(['messages', 'archival', 'capture'] as const)('%s mode', (mode) => {
    it('lands every turn once and in order, then forgets the journal', async () => {
      const w = writer(mode);
      const acks: AckEvent[] = [];
      w.on('ack', (e) => acks.push(e));
      const turns = [1, 2, 3, 4].map((n) => makeTurn(agentId, n));
      await submitAll(w, turns);
      expect(await w.flush(5000)).toEqual({ drained: true, pending: [] });

      expectOnceInOrder(landedTexts(standIn, agentId, mode), turns);
      expect(acks.flatMap((a) => a.turnIds)).toEqual(turns.map((t) => t.id));
      expect(acks.every((a) => a.mode === mode && a.lagMs.every((l) => l >= 0))).toBe(true);
      const stats = w.stats();
      expect(stats).toMatchObject({ queueDepth: 0, inFlight: 0, acked: 4, retries: 0, deadLetters: 0 });
      expect(stats.lagMs).toHaveLength(4);
      // One info line per acknowledgement, with the lag; no transcript outside debug `pii`.
      const ackLines = log.filter((l) => l.event === 'memory_ack');
      expect(ackLines).toHaveLength(acks.length);
      expect(ackLines.every((l) => Array.isArray(l.lagMs))).toBe(true);
      expect(JSON.stringify(log.filter((l) => l.level > 20))).not.toContain('caller says');
      expect(readdirSync(dir)).toEqual([]);

      const batchIds = acks.map((a) => a.batchId);
      if (mode === 'messages') {
        const otids = standIn.store
          .messages(agentId)
          .flatMap((m) => (m.message_type === 'user_message' ? [m.otid] : []));
        expect(otids).toEqual(batchIds);
      } else if (mode === 'archival') {
        const tags = standIn.store.passages(agentId).map((p) => p.tags);
        expect(tags).toEqual(batchIds.map((id) => ['voice-turn', `batch:${id}`]));
      } else {
        expect(standIn.store.captures(agentId)).toHaveLength(batchIds.length);
        expect(standIn.store.captures(agentId)[0]).toMatchObject({
          provider: 'openai',
          response_dict: { role: 'assistant' },
        });
      }
    });
  });

  it('frames the transcript as a finished call, both sides, with the interrupted flag', async () => {
    const w = writer('messages');
    const turn = makeTurn(agentId, 1, { assistant: 'Sure, the weather in Par', interrupted: true });
    await w.submit(turn);
    await w.flush(5000);
    const [text] = userTexts(standIn, agentId);
    expect(text).toContain('Caller: caller says [1]');
    expect(text).toContain('Assistant: Sure, the weather in Par (interrupted; the caller heard only this)');
    expect(text).toMatch(/already happened on a live voice call/);
    expect(text).toMatch(/not spoken or shown to anyone/);
    expect(text).toContain(`[${new Date(turn.userAt).toISOString()}] Caller:`);
    const [ack] = standIn.store.messages(agentId).filter((m) => m.message_type === 'user_message');
    expect(text).toContain(`batch ${ack?.otid ?? 'missing'}`);
  });

  it('coalesces the turns that arrive while a write is in flight', async () => {
    await standIn.faults.set({ kind: 'latency', ms: 300, match: { method: 'POST' } });
    const w = writer('messages');
    const turns = [1, 2, 3, 4, 5].map((n) => makeTurn(agentId, n));
    await Promise.all(turns.map((t) => w.submit(t)));
    expect((await w.flush(5000)).drained).toBe(true);
    expect(writes().length).toBeLessThanOrEqual(2);
    expectOnceInOrder(userTexts(standIn, agentId), turns);
  });

  it('waits out a busy agent (409), checks again before resending, and lands once', async () => {
    await standIn.faults.set({ kind: 'status', status: 409, count: 1, match: { method: 'POST' } });
    const w = writer('messages');
    const retries: RetryEvent[] = [];
    w.on('retry', (e) => retries.push(e));
    const turn = makeTurn(agentId, 1);
    await w.submit(turn);
    expect((await w.flush(5000)).drained).toBe(true);
    expectOnceInOrder(userTexts(standIn, agentId), [turn]);
    expect(retries.map((r) => r.reason)).toEqual(['409 ConflictError']);
    expect(w.stats().retries).toBe(1);
    // The request holding the agent could have been an earlier send of this batch: before sending
    // again the writer sees no run active and the batch not in Letta.
    expect(checks().map((r) => r.path)).toEqual(['/v1/runs/', `/v1/agents/${agentId}/messages`]);
    expect(writes()).toHaveLength(2);
  });

  it('after two 500s asks whether the batch landed, then lands it once', async () => {
    await standIn.faults.set({ kind: 'status', status: 500, count: 2, match: { method: 'POST' } });
    const w = writer('messages');
    const turns = [makeTurn(agentId, 1), makeTurn(agentId, 2)];
    await submitAll(w, turns);
    expect((await w.flush(5000)).drained).toBe(true);
    expectOnceInOrder(userTexts(standIn, agentId), turns);
    expect(w.stats().retries).toBe(2);
    // Each check: no run active on the agent, then the batch is not among its messages.
    expect(checks().map((r) => r.path)).toEqual([1, 2].flatMap(() => ['/v1/runs/', `/v1/agents/${agentId}/messages`]));
    expect(log.filter((l) => l.event === 'memory_retry' && l.level === WARN)).toHaveLength(2);
  });

  it('does not resend a batch whose response was lost after it was processed', async () => {
    await standIn.faults.set({ kind: 'lost-response', count: 1, match: { method: 'POST' } });
    const w = writer('messages');
    const acks: AckEvent[] = [];
    w.on('ack', (e) => acks.push(e));
    const turn = makeTurn(agentId, 1);
    await w.submit(turn);
    expect((await w.flush(5000)).drained).toBe(true);
    expectOnceInOrder(userTexts(standIn, agentId), [turn]);
    expect(writes()).toHaveLength(1);
    expect(checks().map((r) => r.path)).toEqual(['/v1/runs/', `/v1/agents/${agentId}/messages`]);
    expect(acks).toEqual([expect.objectContaining({ attempts: 1 })]);
  });

  it.each(['archival', 'capture'] as const)('finds a lost-response batch in %s mode too', async (mode) => {
    await standIn.faults.set({ kind: 'lost-response', count: 1, match: { method: 'POST' } });
    const w = writer(mode);
    const turn = makeTurn(agentId, 1);
    await w.submit(turn);
    expect((await w.flush(5000)).drained).toBe(true);
    expectOnceInOrder(landedTexts(standIn, agentId, mode), [turn]);
    expect(writes()).toHaveLength(1);
  });

  it('resends once after a connection reset that processed nothing', async () => {
    await standIn.faults.set({ kind: 'reset', count: 1, match: { method: 'POST' } });
    const w = writer('messages');
    const turn = makeTurn(agentId, 1);
    await w.submit(turn);
    expect((await w.flush(5000)).drained).toBe(true);
    expectOnceInOrder(userTexts(standIn, agentId), [turn]);
    expect(writes()).toHaveLength(2);
  });

  it('gives up an attempt at its timeout and lands the batch once', async () => {
    await standIn.faults.set({ kind: 'timeout', count: 1, match: { method: 'POST' } });
    const w = writer('messages', { requestTimeoutMs: { messages: 300 } });
    const retries: RetryEvent[] = [];
    w.on('retry', (e) => retries.push(e));
    const turn = makeTurn(agentId, 1);
    await w.submit(turn);
    expect((await w.flush(5000)).drained).toBe(true);
    expectOnceInOrder(userTexts(standIn, agentId), [turn]);
    expect(retries.map((r) => r.reason)).toEqual(['APIConnectionTimeoutError']);
  });

  it('after a timeout, sends nothing while Letta still runs the timed-out request, then finds it landed', async () => {
    // Letta admits the request (its run active) and keeps working after the writer gave up on it.
    await standIn.faults.set({ kind: 'hold', count: 1, match: { method: 'POST' } });
    const w = writer('messages', { requestTimeoutMs: { messages: 300 } });
    const acks: AckEvent[] = [];
    w.on('ack', (e) => acks.push(e));
    const turn = makeTurn(agentId, 1);
    await w.submit(turn);
    // Released only once the writer has seen the run active twice: it polled, it did not resend.
    await until(() => checks().filter((r) => r.path === '/v1/runs/').length >= 2, 10_000, 'two run checks');
    expect(writes()).toHaveLength(1);
    standIn.faults.release();
    expect((await w.flush(10_000)).drained).toBe(true);
    expectOnceInOrder(userTexts(standIn, agentId), [turn]);
    expect(writes()).toHaveLength(1);
    expect(standIn.requests.filter((r) => r.status === 409)).toEqual([]);
    expect(acks).toEqual([expect.objectContaining({ attempts: 1 })]);
    expect(log.filter((l) => l.event === 'memory_wait_active_run')).toHaveLength(1);
  });

  it('after a timeout, does not check before a request still on its way to Letta could have started', async () => {
    // 600 ms between the send and Letta taking it up (the network, a proxy queue): not yet a run.
    await standIn.faults.set({ kind: 'latency', ms: 600, match: { method: 'POST' } });
    const w = writer('messages', { requestTimeoutMs: { messages: 200 }, sendSettleMs: 2000 });
    const turn = makeTurn(agentId, 1);
    await w.submit(turn);
    expect((await w.flush(10_000)).drained).toBe(true);
    expectOnceInOrder(userTexts(standIn, agentId), [turn]);
    // The one send landed (after the writer gave up on it), and the check found it.
    expect(writes()).toHaveLength(1);
    const [sent] = writes();
    const [firstCheck] = checks();
    expect(firstCheck && sent && firstCheck.at - sent.at).toBeGreaterThanOrEqual(1900);
  });

  it('holds turns while Letta is down and lands each once, in order, when it is back', async () => {
    await standIn.faults.set({ kind: 'down' });
    const w = writer('messages');
    const turns = [1, 2, 3, 4].map((n) => makeTurn(agentId, n));
    await submitAll(w, turns);
    await until(() => w.stats().retries >= 3, 5000, 'retries while down');
    expect(w.stats().queueDepth).toBe(4);
    expect(pendingTurnsIn(dir, agentId).map((t) => t.id)).toEqual(turns.map((t) => t.id));
    await standIn.faults.clear();
    const afterwards = makeTurn(agentId, 5);
    await w.submit(afterwards);
    expect((await w.flush(5000)).drained).toBe(true);
    expectOnceInOrder(userTexts(standIn, agentId), [...turns, afterwards]);
  });

  it('dead-letters a batch Letta rejects as invalid (422) and carries on with later turns', async () => {
    const w = writer('messages');
    const dead: unknown[] = [];
    w.on('dead', (e) => dead.push(e));
    const bad = makeTurn('agent-123', 1);
    const later = [makeTurn(agentId, 2), makeTurn(agentId, 3)];
    await w.submit(bad);
    await submitAll(w, later);
    expect((await w.flush(5000)).drained).toBe(true);

    expectOnceInOrder(userTexts(standIn, agentId), later);
    expect(dead).toEqual([
      expect.objectContaining({ agentId: 'agent-123', turnIds: [bad.id], reason: '422 UnprocessableEntityError' }),
    ]);
    const letters = readFileSync(join(dir, 'dead-letter.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as DeadLetter);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ agentId: 'agent-123', turns: [bad], error: { status: 422 } });
    const errors = log.filter((l) => l.level === ERROR);
    expect(errors).toEqual([expect.objectContaining({ event: 'memory_dead_letter', batchId: letters[0]?.batchId })]);
    // Dead means done: no further attempt, nothing pending in the journal.
    expect(writes('/v1/agents/agent-123/')).toHaveLength(1);
    expect(pendingTurnsIn(dir, 'agent-123')).toEqual([]);
    expect(w.stats().deadLetters).toBe(1);
  });

  it('falls back from capture to messages with exactly one warning when the server has no capture endpoint', async () => {
    await standIn.close();
    standIn = await startLettaStandIn({ captureEndpoint: false });
    agentId = standIn.store.createAgent({ name: 'caller' }).id;
    const other = standIn.store.createAgent({ name: 'another caller' }).id;
    const w = writer('capture');
    const turns = [1, 2, 3].map((n) => makeTurn(agentId, n));
    const others = [makeTurn(other, 4), makeTurn(other, 5)];
    await Promise.all([submitAll(w, turns), submitAll(w, others)]);
    expect((await w.flush(5000)).drained).toBe(true);
    expectOnceInOrder(userTexts(standIn, agentId), turns);
    expectOnceInOrder(userTexts(standIn, other), others);
    expect(log.filter((l) => l.level === WARN)).toEqual([
      expect.objectContaining({ event: 'memory_write_mode_fallback' }),
    ]);
    expect(w.stats().retries).toBe(0);
  });

  it('keeps retrying with a bad API key, naming the setting, and never drops a turn', async () => {
    await standIn.close();
    standIn = await startLettaStandIn({ apiKey: 'the-right-key-0123456789' });
    agentId = standIn.store.createAgent({ name: 'caller' }).id;
    const client = createLettaClient({ baseURL: standIn.url, apiKey: 'a-wrong-key-0123456789' }, 30_000);
    const w = new TurnWriter({
      journal: new FileJournal(dir, { logger }),
      writes: new LettaWrites({ client, mode: 'messages', logger }),
      logger,
      ...fastRetries,
    });
    writers.push(w);
    const turn = makeTurn(agentId, 1);
    await w.submit(turn);
    const errors = () => log.filter((l) => l.level === ERROR);
    await until(() => errors().length >= 3, 5000, 'three refused attempts');
    const left = await w.flush(0);
    expect(left.pending).toEqual([turn]);
    expect(w.stats()).toMatchObject({ deadLetters: 0, acked: 0 });
    expect(writes().length).toBeGreaterThanOrEqual(3);
    expect(errors().every((l) => l.event === 'memory_auth_failed' && String(l.msg).includes('LETTA_API_KEY'))).toBe(
      true,
    );
    expect(JSON.stringify(log)).not.toContain('wrong-key');
    expect(pendingTurnsIn(dir, agentId)).toEqual([turn]);
  });

  it('journals a turn submitted after close for the next start', async () => {
    const w = writer('messages');
    await w.close();
    const turn = makeTurn(agentId, 1);
    await w.submit(turn);
    expect(pendingTurnsIn(dir, agentId)).toEqual([turn]);
    expect(writes()).toEqual([]);
  });

  it('honours Retry-After on a 429', async () => {
    await standIn.faults.set({ kind: 'status', status: 429, count: 1, retryAfterS: 1, match: { method: 'POST' } });
    const w = writer('messages');
    const retries: RetryEvent[] = [];
    w.on('retry', (e) => retries.push(e));
    await w.submit(makeTurn(agentId, 1));
    expect((await w.flush(5000)).drained).toBe(true);
    const [first, second] = writes();
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(900);
    expect(retries).toEqual([expect.objectContaining({ delayMs: 1000, reason: '429 RateLimitError' })]);
    expect(checks()).toEqual([]);
  });

  it('awaits beforeRequest before every request it makes', async () => {
    let calls = 0;
    let open = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    // A reset makes the writer send, check (no run active, batch not there) and resend: four requests, four waits.
    await standIn.faults.set({ kind: 'reset', count: 1, match: { method: 'POST' } });
    const w = writer('messages', {
      beforeRequest: async () => {
        calls += 1;
        await gate;
      },
    });
    await w.submit(makeTurn(agentId, 1));
    // The gate holds for 300 ms: nothing reaches Letta meanwhile.
    await new Promise((r) => setTimeout(r, 300));
    expect(standIn.requests).toEqual([]);
    expect(calls).toBe(1);
    const openedAt = nowMs();
    open();
    expect((await w.flush(5000)).drained).toBe(true);
    expect(standIn.requests.every((r) => r.at >= openedAt)).toBe(true);
    expect(standIn.requests.map((r) => `${r.method} ${r.path.split('/')[2]}`)).toEqual([
      'POST agents',
      'GET runs',
      'GET agents',
      'POST agents',
    ]);
    expect(calls).toBe(standIn.requests.length);
  });

  it('sends a turn that arrives while the lane’s loop is ending', async () => {
    // The loop releases the agent, finds its lane empty and ends; a turn journaled in that very
    // moment must still be sent (it once waited for a next turn that might never come). A gate
    // lets the release and the second turn's append finish in the same tick.
    let open = () => {};
    const gate = new Promise<void>((r) => (open = r));
    const real = new FileJournal(dir, { logger });
    const seen = { releasing: false, appending: false, appends: 0 };
    const journal = new Proxy(real, {
      get(target, key) {
        if (key === 'holdAgent')
          return async () => ({
            release: () => {
              if (seen.releasing) return Promise.resolve();
              seen.releasing = true;
              return gate;
            },
          });
        if (key === 'append')
          return async (turn: Turn) => {
            const j = await target.append(turn);
            if (++seen.appends === 2) {
              seen.appending = true;
              await gate;
            }
            return j;
          };
        const v: unknown = Reflect.get(target, key);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const w = writer('messages', { journal });
    const first = makeTurn(agentId, 1);
    const second = makeTurn(agentId, 2);
    await w.submit(first);
    await until(() => seen.releasing, 5000, 'the first delivery to end');
    const submitted = w.submit(second);
    await until(() => seen.appending, 5000, 'the second turn to be journaled');
    open();
    await submitted;
    expect((await w.flush(5000)).drained).toBe(true);
    expectOnceInOrder(userTexts(standIn, agentId), [first, second]);
  });

  it('flush returns what is left when Letta is slow; it stays journaled and a new writer replays it once', async () => {
    await standIn.faults.set({ kind: 'latency', ms: 1500, match: { method: 'POST' } });
    const first = writer('messages');
    const turns = [1, 2, 3].map((n) => makeTurn(agentId, n));
    await submitAll(first, turns);
    const left = await first.flush(200);
    expect(left.drained).toBe(false);
    expect(left.pending.map((t) => t.id).sort()).toEqual(turns.map((t) => t.id).sort());
    await first.close();
    expect(pendingTurnsIn(dir, agentId).map((t) => t.id)).toEqual(turns.map((t) => t.id));

    // The aborted request was already with Letta: let it finish, as a real server would.
    await until(() => writes().every((r) => r.finishedAt !== undefined), 5000, 'the aborted request');
    await standIn.faults.clear();
    const second = writer('messages');
    expect(await second.replay()).toEqual({ batches: 1, turns: 3 });
    expect((await second.flush(5000)).drained).toBe(true);
    expectOnceInOrder(userTexts(standIn, agentId), turns);
    expect(pendingTurnsIn(dir, agentId)).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });
});
