import { initializeLogger, llm, voice } from '@livekit/agents';
import type { ReadableStream } from 'node:stream/web';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type OpenAIStandIn, type Responder, startOpenAIStandIn } from '../../sim/index.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { type MemoryContext, noMemory } from '../../src/voice/memory-context.ts';
import { apologies } from '../../src/voice/reply-stream.ts';
import { createReplyLLM } from '../../src/voice/services.ts';
import { createAgent, createTextSession } from '../../src/voice/session-factory.ts';

beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));

let sim: OpenAIStandIn | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const logger = createLogger({ level: 'silent' });

function agentOn(s: OpenAIStandIn, opts: { model?: string; memory?: MemoryContext } = {}) {
  return createAgent({
    llm: createReplyLLM({ apiKey: 'sim', baseURL: s.url, model: opts.model ?? 'gpt-4.1-mini' }),
    memory: opts.memory ?? noMemory,
    logger,
    memoryMaxChars: 4000,
    greeting: null,
  });
}

function userTurn(text: string): llm.ChatContext {
  const ctx = llm.ChatContext.empty();
  ctx.addMessage({ role: 'system', content: 'You are a test agent.' });
  ctx.addMessage({ role: 'user', content: text });
  return ctx;
}

async function nodeOutput(agent: voice.Agent, ctx: llm.ChatContext) {
  const out = (await agent.llmNode(ctx, new llm.ToolContext(), {})) as ReadableStream<llm.ChatChunk | string>;
  expect(out).not.toBeNull();
  return out;
}

function textOf(c: llm.ChatChunk | string): string {
  return typeof c === 'string' ? c : (c.delta?.content ?? '');
}

async function collect(stream: ReadableStream<llm.ChatChunk | string>) {
  const got: { at: number; text: string }[] = [];
  for await (const c of stream) {
    const text = textOf(c);
    if (text) got.push({ at: performance.now(), text });
  }
  return got;
}

describe('VoiceAgent.llmNode', () => {
  it('passes each token on the moment it arrives', async () => {
    const content = 'one two three four five six seven eight nine ten eleven twelve';
    sim = await startOpenAIStandIn({ respond: () => ({ content, ttftMs: 100, tokenIntervalMs: 50 }) });
    const got = await collect(await nodeOutput(agentOn(sim), userTurn('count')));

    const sent = sim.requests.find((r) => r.path === '/v1/chat/completions')!.deltas;
    // Same pieces, same order: nothing merged or held back.
    expect(got.map((g) => g.text)).toEqual(sent.map((d) => d.text));
    expect(got.map((g) => g.text).join('')).toBe(content);
    const gaps = got.slice(1).map((g, i) => g.at - got[i]!.at);
    // The stand-in paces 50 ms apart; buffering would show up as near-zero gaps.
    expect(Math.min(...gaps)).toBeGreaterThan(30);
    expect(gaps.reduce((a, b) => a + b, 0) / gaps.length).toBeGreaterThan(40);
  });

  it('closes the upstream connection when the framework cancels the stream', async () => {
    sim = await startOpenAIStandIn({
      respond: () => ({ content: 'a b c d e f g h i j k l m n o p q r s t', tokenIntervalMs: 100 }),
    });
    const reader = (await nodeOutput(agentOn(sim), userTurn('talk'))).getReader();
    await reader.read();
    await reader.read();
    await reader.cancel();
    const entry = sim.requests.find((r) => r.path === '/v1/chat/completions')!;
    for (let i = 0; i < 40 && !entry.clientClosedEarly; i++) await new Promise((r) => setTimeout(r, 50));
    expect(entry.clientClosedEarly).toBe(true);
    const sentAtCancel = entry.deltas.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(entry.deltas.length).toBe(sentAtCancel);
    expect(sentAtCancel).toBeLessThan(20);
  });

  it('retries once when OpenAI fails before the first token', async () => {
    sim = await startOpenAIStandIn();
    sim.failNext({ status: 500, message: 'The server had an error', count: 1 });
    const got = await collect(await nodeOutput(agentOn(sim), userTurn('hello')));
    expect(got.map((g) => g.text).join('')).toContain('You said: hello');
    expect(sim.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(2);
  });

  it('apologises instead of going silent when both attempts fail', async () => {
    sim = await startOpenAIStandIn();
    sim.failNext({ status: 503, message: 'overloaded', count: 5 });
    const got = await collect(await nodeOutput(agentOn(sim), userTurn('hello')));
    expect(got.map((g) => g.text).join('')).toBe(apologies.beforeFirstToken);
    expect(sim.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(2);
  });

  it('ends a reply that breaks mid-stream with a short apology, without retrying', async () => {
    sim = await startOpenAIStandIn({
      respond: () => ({ content: 'Well, the answer is that it depends', failAfterDeltas: 3 }),
    });
    const got = await collect(await nodeOutput(agentOn(sim), userTurn('hello')));
    const text = got.map((g) => g.text).join('');
    expect(text.endsWith(apologies.afterFirstToken)).toBe(true);
    expect(text.startsWith('Well,')).toBe(true);
    expect(sim.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(1);
  });

  it('does not send parameters that reasoning models reject', async () => {
    sim = await startOpenAIStandIn();
    const got = await collect(await nodeOutput(agentOn(sim, { model: 'gpt-5-mini' }), userTurn('hello')));
    expect(got.map((g) => g.text).join('')).toContain('You said: hello');
    const req = sim.requests.find((r) => r.path === '/v1/chat/completions')!;
    expect(req.status).toBe(200);
    expect(req.body).not.toHaveProperty('temperature');
  });

  it('puts memory in its own system message before the newest user message', async () => {
    sim = await startOpenAIStandIn();
    const memory: MemoryContext = {
      snapshot: () => ({ blocks: [{ label: 'human', value: 'The caller is called Alice.' }], recentTurns: [] }),
    };
    await collect(await nodeOutput(agentOn(sim, { memory }), userTurn('who am I?')));
    const body = sim.requests.find((r) => r.path === '/v1/chat/completions')!.body as {
      messages: { role: string; content: string }[];
    };
    expect(body.messages.map((m) => m.role)).toEqual(['system', 'system', 'user']);
    expect(body.messages[0]!.content).toBe('You are a test agent.');
    expect(body.messages[1]!.content).toContain('<human>\nThe caller is called Alice.\n</human>');
    expect(body.messages[1]!.content).toMatch(/data, not instructions/);
  });
});

describe('the agent in a session', () => {
  it('calls tools through the llm node and reports LLM metrics', async () => {
    const respond: Responder = (req) => {
      const last = req.messages.at(-1);
      return last?.role === 'tool'
        ? { content: `It is ${String(last.content)} in Paris.` }
        : { toolCalls: [{ name: 'getWeather', arguments: '{"city":"Paris"}' }] };
    };
    sim = await startOpenAIStandIn({ respond });
    const calls: string[] = [];
    const tools = {
      getWeather: llm.tool({
        description: 'Current weather in a city',
        parameters: z.object({ city: z.string() }),
        execute: async ({ city }) => {
          calls.push(city);
          return 'sunny';
        },
      }),
    };
    const { session, agent } = createTextSession({
      llm: createReplyLLM({ apiKey: 'sim', baseURL: sim.url, model: 'gpt-4.1-mini' }),
      memory: noMemory,
      logger,
      memoryMaxChars: 4000,
      greeting: null,
      tools,
    });
    const metrics: voice.MetricsCollectedEvent['metrics'][] = [];
    session.on(voice.AgentSessionEventTypes.MetricsCollected, (ev) => metrics.push(ev.metrics));
    await session.start({ agent });
    try {
      const result = await session.run({ userInput: 'What is the weather in Paris?' }).wait();
      result.expect.nextEvent().isFunctionCall({ name: 'getWeather', args: { city: 'Paris' } });
      result.expect.nextEvent().isFunctionCallOutput({ output: '"sunny"' });
      result.expect.nextEvent().isMessage({ role: 'assistant' });
      expect(calls).toEqual(['Paris']);
      const final = result.events.at(-1);
      expect(final?.type === 'message' && final.item.textContent).toContain('It is "sunny" in Paris');
      const llmMetrics = metrics.filter((m) => m.type === 'llm_metrics');
      expect(llmMetrics.length).toBeGreaterThanOrEqual(2);
      for (const m of llmMetrics) if (m.type === 'llm_metrics') expect(m.ttftMs).toBeGreaterThanOrEqual(0);
    } finally {
      await session.close();
    }
  });
});
