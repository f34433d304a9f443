/**
 * A caller's typed message through their own Letta agent, against the Letta stand-in (whose agent
 * streams tokens from the OpenAI stand-in): the answer streams; it waits its turn in the agent's
 * lane behind a memory write (never two requests at once); with Letta down or slow the caller is
 * told within the bound, and the exchange still reaches memory exactly once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LettaStandIn, startLettaStandIn, type OpenAIStandIn, startOpenAIStandIn } from '../../sim/index.ts';
import { createLettaClient } from '../../src/memory/letta-client.ts';
import { LettaText, lettaUnavailableMessage } from '../../src/memory/letta-text.ts';
import type { TurnWriter } from '../../src/memory/writer/turn-writer.ts';
import { makeTurn, occurrences, recordingLogger, startWriter, tempDir, until, userTexts } from './helpers.ts';

describe('typed messages through the caller’s Letta agent', () => {
  let openai: OpenAIStandIn;
  let letta: LettaStandIn;
  let agentId: string;
  let dir: string;
  let cleanup: () => Promise<void>;
  let writer: TurnWriter;
  const { logger } = recordingLogger();

  beforeEach(async () => {
    openai = await startOpenAIStandIn();
    letta = await startLettaStandIn({ modelBaseUrl: openai.url });
    agentId = letta.store.createAgent({ name: 'caller' }).id;
    ({ dir, cleanup } = await tempDir());
    writer = startWriter(letta, dir, 'messages', logger);
  });
  afterEach(async () => {
    await writer.close();
    await letta.close();
    await openai.close();
    await cleanup();
  });

  const text = (bounds: { firstTokenMs?: number; totalMs?: number } = {}) =>
    new LettaText({ client: createLettaClient({ baseURL: letta.url }, 30_000), writer, logger, ...bounds });
  const caller = () => ({
    agentId: async () => agentId,
    placeholderAgentId: 'pending-agent-for:ada',
    callerIdentity: 'ada',
    sessionId: 'call-1',
  });
  const writes = () => letta.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/messages'));

  it('streams the answer, token by token, and the turn writer never sends the exchange again', async () => {
    const deltas: string[] = [];
    const r = await text().reply(caller(), 'Plan my week, please.', (d) => deltas.push(d));
    expect(r.failed).toBeUndefined();
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe(r.reply);
    const stream = writes()[0]?.body as { streaming?: boolean; stream_tokens?: boolean };
    expect(stream).toMatchObject({ streaming: true, stream_tokens: true });
    // A spoken turn after it is written as usual; the typed message is in Letta once.
    await writer.submit(makeTurn(agentId, 1));
    expect((await writer.flush(10_000)).drained).toBe(true);
    expect(occurrences(userTexts(letta, agentId), ['Plan my week, please.', 'caller says [1]'])).toEqual([1, 1]);
  });

  it('waits for the memory write in flight on the same agent, then goes: never two requests at once', async () => {
    await letta.faults.set({ kind: 'hold', count: 1, match: { method: 'POST' } });
    await writer.submit(makeTurn(agentId, 1));
    await until(() => letta.faults.held() === 1, 5000, 'the write in flight');
    const answered = text().reply(caller(), 'Are you there?', () => undefined);
    await new Promise((r) => setTimeout(r, 300));
    // Still one request: the typed message waits in the agent's lane.
    expect(writes()).toHaveLength(1);
    letta.faults.release();
    expect((await answered).failed).toBeUndefined();
    expect(writes()).toHaveLength(2);
    expect(letta.requests.filter((r) => r.status === 409)).toEqual([]);
  });

  it('with Letta down, tells the caller within the bound, and the message reaches memory once when Letta is back', async () => {
    await letta.faults.set({ kind: 'down' });
    const started = Date.now();
    const r = await text({ firstTokenMs: 1500 }).reply(caller(), 'Remember the red door.', () => undefined);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r.failed).toBe(lettaUnavailableMessage);
    await letta.faults.clear();
    expect((await writer.flush(15_000)).drained).toBe(true);
    expect(occurrences(userTexts(letta, agentId), ['Remember the red door.'])).toEqual([1]);
  });

  it('with Letta too slow, tells the caller; the request Letta finished anyway is not written twice', async () => {
    await letta.faults.set({ kind: 'hold', count: 1, match: { method: 'POST' } });
    const r = await text({ firstTokenMs: 800 }).reply(caller(), 'The cat is called Pixel.', () => undefined);
    expect(r.failed).toBe(lettaUnavailableMessage);
    // Letta goes on with the request whose client gave up, and stores it.
    letta.faults.release();
    expect((await writer.flush(15_000)).drained).toBe(true);
    expect(occurrences(userTexts(letta, agentId), ['The cat is called Pixel.'])).toEqual([1]);
    expect(writes()).toHaveLength(1);
  });
});
