/**
 * The memory service end to end in text sessions: the official Letta client against the Letta
 * stand-in (whose agent step calls the OpenAI stand-in), the VoiceAgent's llm node against the
 * OpenAI stand-in.
 */
import { initializeLogger, voice } from '@livekit/agents';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LettaStandIn, startLettaStandIn, type OpenAIStandIn, startOpenAIStandIn } from '../../sim/index.ts';
import { loadConfig } from '../../src/config.ts';
import { MemoryService, placeholderAgentId } from '../../src/memory/memory-service.ts';
import { createReplyLLM } from '../../src/voice/services.ts';
import { createTextSession } from '../../src/voice/session-factory.ts';
import { defaultInstructions } from '../../src/voice/prompt.ts';
import { rescueGreeting } from '../../src/voice/voice-agent.ts';
import { QuietWindow } from '../../src/voice/quiet-window.ts';
import { memorySections } from '../helpers/prompts.ts';
import { fastRetries, makeTurn, occurrences, recordingLogger, tempDir, until, userTexts } from './helpers.ts';

beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));

interface World {
  openai: OpenAIStandIn;
  letta: LettaStandIn;
  journalDir: string;
  cleanup: () => Promise<void>;
}

let world: World | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

async function startWorld(): Promise<World> {
  const openai = await startOpenAIStandIn();
  const letta = await startLettaStandIn({ modelBaseUrl: openai.url });
  const { dir, cleanup } = await tempDir();
  world = {
    openai,
    letta,
    journalDir: dir,
    cleanup: async () => {
      await letta.close();
      await openai.close();
      await cleanup();
    },
  };
  return world;
}

function service(w: World, extra: Record<string, string> = {}) {
  const config = loadConfig('chat', {
    LETTA_BASE_URL: w.letta.url,
    MEMORY_JOURNAL_DIR: w.journalDir,
    LETTA_MEMORY_BUDGET_MS: '1500',
    ...extra,
  });
  const quiet = new QuietWindow();
  const { logger, lines } = recordingLogger();
  const memory = new MemoryService({
    letta: { ...config.letta, baseURL: config.letta.baseURL! },
    logger,
    beforeRequest: () => quiet.wait(),
    writer: fastRetries,
  });
  return { memory, quiet, lines, config };
}

/** One call in text: opens the caller's memory, says each line, returns what the model was sent. */
async function call(
  w: World,
  memory: MemoryService,
  identity: string,
  lines: string[],
  maxChars = 4000,
  sessionId = `session-${identity}-${Math.random()}`,
) {
  const caller = memory.open(identity, sessionId);
  await caller.ready;
  const { session, agent } = createTextSession({
    llm: createReplyLLM({ apiKey: 'sim', baseURL: w.openai.url, model: 'gpt-4.1-mini' }),
    memory: caller.context,
    logger: recordingLogger().logger,
    memoryMaxChars: maxChars,
    greeting: null,
  });
  const stop = caller.record(session);
  await session.start({ agent });
  const ttfts: number[] = [];
  for (const line of lines) {
    const started = performance.timeOrigin + performance.now();
    const before = w.openai.requests.length;
    await session.run({ userInput: line }).wait();
    const req = w.openai.requests.slice(before).find((r) => r.path === '/v1/chat/completions' && r.firstDeltaAt);
    ttfts.push(req!.firstDeltaAt! - started);
  }
  stop();
  await session.close();
  return { agentId: await caller.agentId, ttfts };
}

describe('Letta memory in the voice agent', () => {
  it('puts a block value set in Letta into the system prompt OpenAI receives', async () => {
    const w = await startWorld();
    const { memory } = service(w);
    const agentId = await memory.open('alice', 's0').agentId;
    w.letta.store.setBlock(agentId, 'human', 'Alice is a marine biologist who hates small talk.');
    await call(w, memory, 'alice', ['Hi, do you remember me?']);
    expect(memorySections(w.openai).at(-1)).toContain('Alice is a marine biologist who hates small talk.');
    await memory.close(5000);
  });

  it('gives two callers two agents that never see each other’s blocks', async () => {
    const w = await startWorld();
    const { memory } = service(w);
    const a = await memory.open('alice', 's1').agentId;
    const b = await memory.open('bob', 's2').agentId;
    expect(a).not.toBe(b);
    w.letta.store.setBlock(a, 'human', 'SECRET-ALICE-FACT');
    w.letta.store.setBlock(b, 'human', 'SECRET-BOB-FACT');
    await call(w, memory, 'bob', ['Hello']);
    const bobPrompt = memorySections(w.openai).at(-1)!;
    expect(bobPrompt).toContain('SECRET-BOB-FACT');
    expect(bobPrompt).not.toContain('SECRET-ALICE-FACT');
    // The mapping is cached: the same caller maps to the same agent without creating another.
    expect(await memory.open('alice', 's3').agentId).toBe(a);
    expect(w.letta.store.agents().filter((x) => x.tags.includes('lk-caller:alice'))).toHaveLength(1);
    await memory.close(5000);
  });

  it('bounds the memory section of the prompt', async () => {
    const w = await startWorld();
    const { memory } = service(w);
    const agentId = await memory.open('carol', 's0').agentId;
    w.letta.store.setBlock(agentId, 'human', 'x'.repeat(20_000));
    await call(w, memory, 'carol', ['Hello'], 1000);
    const memoryMessage = memorySections(w.openai).at(-1)!;
    expect(memoryMessage.length).toBeGreaterThan(500);
    expect(memoryMessage.length).toBeLessThanOrEqual(1100);
    expect(memoryMessage).toContain('</caller_memory>');
  });

  it('writes every turn once, and refreshes the blocks Letta’s agent edited', async () => {
    const w = await startWorld();
    const { memory } = service(w);
    const { agentId } = await call(w, memory, 'dave', ['My name is Dave.', 'I like sailing.', 'Goodbye.']);
    const flushed = await memory.close(10_000);
    expect(flushed.drained).toBe(true);
    const texts = userTexts(w.letta, agentId);
    expect(occurrences(texts, ['Caller: My name is Dave.', 'Caller: I like sailing.', 'Caller: Goodbye.'])).toEqual([
      1, 1, 1,
    ]);
    expect(texts.join('\n')).toMatch(/Assistant: You said: My name is Dave/);
    // The stand-in's agent files a note into the human block; the next call's prompt shows it.
    const { memory: next } = service(w);
    await call(w, next, 'dave', ['Do you know me?']);
    expect(memorySections(w.openai).at(-1)).toContain('My name is Dave.');
    await next.close(5000);
  });

  it('answers as fast with Letta slow (10 s per write) or down as with Letta healthy, and loses no turn', async () => {
    const w = await startWorld();
    const healthy = service(w);
    const base = await call(w, healthy.memory, 'erin', ['one', 'two', 'three']);
    await healthy.memory.close(10_000);

    await w.letta.faults.set({ kind: 'latency', ms: 10_000, match: { method: 'POST', path: /\/messages$/ } });
    const slowService = service(w);
    const slow = await call(w, slowService.memory, 'erin', ['four', 'five', 'six']);

    await w.letta.faults.clear();
    await w.letta.faults.set({ kind: 'down' });
    const downService = service(w);
    const down = await call(w, downService.memory, 'erin', ['seven', 'eight', 'nine']);

    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    // Generous bound: the same order of magnitude, not a timing race.
    expect(median(slow.ttfts)).toBeLessThan(median(base.ttfts) + 250);
    expect(median(down.ttfts)).toBeLessThan(median(base.ttfts) + 250);

    await w.letta.faults.clear();
    await slowService.memory.close(30_000);
    const downFlush = await downService.memory.close(30_000);
    expect(downFlush.drained).toBe(true);
    const texts = userTexts(w.letta, base.agentId);
    const words = ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
    expect(
      occurrences(
        texts,
        words.map((x) => `Caller: ${x}`),
      ),
    ).toEqual(words.map(() => 1));
  }, 90_000);

  it('shows a caller’s turns that Letta has not acknowledged yet on their next call', async () => {
    const w = await startWorld();
    await w.letta.faults.set({ kind: 'status', status: 503, match: { method: 'POST', path: /\/messages$/ } });
    const first = service(w);
    await call(w, first.memory, 'frank', ['Please remember the code word pineapple.']);
    const left = await first.memory.close(500);
    expect(left.pending.length).toBe(1);

    const second = service(w);
    await call(w, second.memory, 'frank', ['What was the code word?']);
    const prompt = memorySections(w.openai).at(-1)!;
    expect(prompt).toContain('Recent conversation from an earlier call');
    expect(prompt).toContain('Please remember the code word pineapple.');
    await w.letta.faults.clear();
    expect((await second.memory.close(10_000)).drained).toBe(true);
  });

  it('a new caller: memory is read without waiting for their Letta agent to be created', async () => {
    const w = await startWorld();
    // Their first call cannot create their agent: its turn stays journaled under a placeholder.
    await w.letta.faults.set({ kind: 'status', status: 503, match: { method: 'POST', path: /^\/v1\/agents\/?$/ } });
    const first = service(w);
    const turn = { callerIdentity: 'hana', sessionId: 'session-first', user: 'My name is Hana.' };
    await first.memory.writer.submit(makeTurn(placeholderAgentId('hana'), 1, turn));
    expect((await first.memory.close(200)).pending.length).toBe(1);
    await w.letta.faults.clear();

    // Creating their agent now takes 5 s; the read waits for it only up to a much larger budget.
    await w.letta.faults.set({ kind: 'latency', ms: 5000, match: { method: 'POST', path: /^\/v1\/agents\/?$/ } });
    const { memory } = service(w, { LETTA_MEMORY_BUDGET_MS: '60000' });
    const caller = memory.open('hana', 'session-second');
    expect(await caller.ready).toBe('in-time');
    const hasAgent = () => w.letta.store.agents().some((a) => a.tags?.includes('lk-caller:hana'));
    expect(hasAgent()).toBe(false);
    const { blocks, recentTurns } = caller.context.snapshot();
    expect(blocks.find((b) => b.label === 'human')?.value).toBe('Nothing is known about this caller yet.');
    expect(recentTurns.map((t) => t.user)).toEqual(['My name is Hana.']);

    // Once created, the agent is the live memory, and the first call's turn reaches it once.
    const agentId = await caller.agentId;
    expect(hasAgent()).toBe(true);
    memory.replay();
    await until(() => userTexts(w.letta, agentId).length > 0, 10_000, 'the first call’s turn in Letta');
    expect((await memory.close(10_000)).drained).toBe(true);
    expect(occurrences(userTexts(w.letta, agentId), ['Caller: My name is Hana.'])).toEqual([1]);
  });

  it('a rescued call: the cut-off question once in the prompt, the dead agent’s turns shown as this call’s', async () => {
    const w = await startWorld();
    // Letta refuses writes: the dead agent's turns are still pending in the journal, as after a kill.
    await w.letta.faults.set({ kind: 'status', status: 503, match: { method: 'POST', path: /\/messages$/ } });
    const dead = service(w);
    await call(w, dead.memory, 'gina', ['My dog is called Rex.'], 4000, 'job-dead');
    await dead.memory.close(200);

    // The rescue: the question the dead agent was answering is journaled as its cut-off turn, and
    // the new session opens its conversation with it.
    const question = 'What should I feed him tonight?';
    const { memory } = service(w);
    const carried = await memory.carryOver('gina', 'job-dead', { user: question, userAt: Date.now() });
    const caller = memory.open('gina', 'job-rescue', { earlierSessions: ['job-dead'], inConversation: carried });
    await caller.ready;
    const { session, agent } = createTextSession({
      llm: createReplyLLM({ apiKey: 'sim', baseURL: w.openai.url, model: 'gpt-4.1-mini' }),
      memory: caller.context,
      logger: recordingLogger().logger,
      memoryMaxChars: 4000,
      greeting: rescueGreeting,
      unanswered: question,
    });
    const stopRecording = caller.record(session);
    let answered = false;
    session.on(voice.AgentSessionEventTypes.ConversationItemAdded, (ev) => {
      if (ev.item.type === 'message' && ev.item.role === 'assistant') answered = true;
    });
    const before = w.openai.requests.length;
    await session.start({ agent });
    const sent = () =>
      w.openai.requests
        .slice(before)
        .filter((r) => r.path === '/v1/chat/completions')
        .map((r) => (r.body as { messages?: { role: string; content: string }[] }).messages ?? [])
        .filter((ms) => ms[0]?.content.startsWith(defaultInstructions));
    await until(() => sent().length > 0 && answered, 10_000, 'the rescued agent’s answer');
    stopRecording();
    await session.close();
    const messages = sent()[0]!;
    const texts = messages.map((m) => m.content);
    expect(occurrences(texts, [question, 'Caller: My dog is called Rex.'])).toEqual([1, 1]);
    expect(messages.filter((m) => m.role === 'user').map((m) => m.content)).toEqual([question]);
    const memorySection = texts.filter((t) => t.includes('<caller_memory>')).join('\n');
    expect(memorySection).toContain('Earlier in this call');
    expect(memorySection).not.toContain('earlier call');
    await w.letta.faults.clear();
    // Letta still gets the cut-off question once, as the dead agent's interrupted turn, and then
    // the new agent's answer to it, as a turn of its own.
    expect((await memory.close(10_000)).drained).toBe(true);
    const letta = userTexts(w.letta, await caller.agentId);
    expect(occurrences(letta, [`Caller: ${question}`])).toEqual([1]);
    const cut = letta.findIndex((t) => t.includes(`Caller: ${question}`));
    const answer = letta
      .slice(cut)
      .join('\n')
      .split('\n')
      .filter((l) => / Assistant: /.test(l));
    expect(answer).toHaveLength(2);
    expect(answer[0]).toContain('(interrupted before saying anything)');
    expect(answer[1]).not.toContain('interrupted');
  });
});
