import { initializeLogger, llm } from '@livekit/agents';
import * as livekitOpenAI from '@livekit/agents-plugin-openai';
import OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  defaultResponder,
  startOpenAIStandIn,
  tokenize,
  type ChatRequestBody,
  type OpenAIStandIn,
  type OpenAIStandInOptions,
  getProfile,
  nowMs,
} from '../../sim/index.ts';

const API_KEY = 'sk-test-0123456789abcdef';
const LONG_TEXT = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');

let open: OpenAIStandIn[] = [];
afterEach(async () => {
  await Promise.all(open.map((s) => s.close()));
  open = [];
});

async function standIn(opts: OpenAIStandInOptions = {}): Promise<OpenAIStandIn> {
  const s = await startOpenAIStandIn(opts);
  open.push(s);
  return s;
}

function sdk(s: OpenAIStandIn, opts: { apiKey?: string; maxRetries?: number } = {}): OpenAI {
  return new OpenAI({ baseURL: s.url, apiKey: opts.apiKey ?? API_KEY, maxRetries: opts.maxRetries ?? 0 });
}

const hello: OpenAI.Chat.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Hello there' },
];

async function waitFor(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function request(over: Partial<ChatRequestBody> = {}): ChatRequestBody {
  return { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], ...over };
}

describe('tokenize', () => {
  it('splits into word-sized pieces with their leading space and loses nothing', () => {
    const text = 'Hello, world! An extraordinarily long word.\n\nNext line  ';
    const pieces = tokenize(text);
    expect(pieces.join('')).toBe(text);
    expect(pieces.slice(0, 4)).toEqual(['Hello', ',', ' world', '!']);
    expect(pieces).toContain(' extrao');
    expect(pieces.every((p) => p.trim().length <= 8)).toBe(true);
    expect(pieces).toContain('\n\nNext');
  });
});

describe('defaultResponder', () => {
  const respond = defaultResponder();
  it('quotes the last user message in a plain, deterministic reply', () => {
    const req = request({
      messages: [
        { role: 'system', content: 'SIM_REPLY: ignored' },
        { role: 'user', content: 'I like  trains!' },
      ],
    });
    const reply = respond(req, 0);
    expect(reply.content).toBe('You said: I like trains. That is an interesting point. Tell me more about it.');
    expect(respond(req, 5)).toEqual(reply);
  });
  it('reads text parts of array content', () => {
    const req = request({ messages: [{ role: 'user', content: [{ type: 'text', text: 'from parts' }] }] });
    expect(respond(req, 0).content).toContain('You said: from parts.');
  });
  it('summarises a tool result when the last message is a tool message', () => {
    const req = request({
      messages: [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'w', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny, 21 C' },
      ],
    });
    expect(respond(req, 0).content).toBe('Here is what I found: sunny, 21 C.');
  });
});

describe('streaming chat completions', () => {
  it('sends a role chunk, content deltas, finish_reason, usage and [DONE] in order', async () => {
    const s = await standIn({ apiKey: API_KEY });
    s.setResponder(() => ({ content: 'Fine thanks, and you?' }));
    const { data: stream, response } = await sdk(s)
      .chat.completions.create({
        model: 'gpt-4o-mini',
        messages: hello,
        stream: true,
        stream_options: { include_usage: true },
      })
      .withResponse();
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    expect(Number(response.headers.get('openai-processing-ms'))).toBeGreaterThanOrEqual(0);

    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);

    for (const c of chunks) {
      expect(c.id).toBe(chunks[0]?.id);
      expect(c.id).toMatch(/^chatcmpl-/);
      expect(c.object).toBe('chat.completion.chunk');
      expect(c.model).toBe('gpt-4o-mini');
      expect(c.system_fingerprint).toMatch(/^fp_/);
      expect(typeof c.created).toBe('number');
    }
    const [first, ...rest] = chunks;
    expect(first?.choices[0]?.delta).toEqual({ role: 'assistant', content: '', refusal: null });
    const usageChunk = rest.at(-1);
    const finishChunk = rest.at(-2);
    const contentChunks = rest.slice(0, -2);
    expect(contentChunks.map((c) => c.choices[0]?.delta.content).join('')).toBe('Fine thanks, and you?');
    for (const c of [first, ...contentChunks]) {
      expect(c?.usage).toBeNull();
      expect(c?.choices[0]?.finish_reason).toBeNull();
    }
    expect(finishChunk?.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    expect(finishChunk?.usage).toBeNull();
    expect(usageChunk?.choices).toEqual([]);
    const usage = usageChunk?.usage;
    expect(usage?.completion_tokens).toBe(contentChunks.length);
    expect(usage?.prompt_tokens).toBeGreaterThan(0);
    expect(usage?.total_tokens).toBe((usage?.prompt_tokens ?? 0) + contentChunks.length);
    expect(usage?.prompt_tokens_details?.cached_tokens).toBe(0);

    const entry = s.requests[0];
    expect(entry).toMatchObject({
      method: 'POST',
      path: '/v1/chat/completions',
      status: 200,
      model: 'gpt-4o-mini',
      stream: true,
      clientClosedEarly: false,
    });
    expect(entry?.deltas.map((d) => d.text)).toEqual(contentChunks.map((c) => c.choices[0]?.delta.content));
    expect(entry?.headers.authorization).toBe('Bearer [redacted]');
    expect(entry?.finishedAt).toBeGreaterThanOrEqual(entry?.deltas.at(-1)?.at ?? Infinity);
  });

  it('frames every event as one data line and ends with data: [DONE]', async () => {
    const s = await standIn();
    const res = await fetch(`${s.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request({ stream: true })),
    });
    const text = await res.text();
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    const events = text.split('\n\n').filter(Boolean);
    expect(events.every((e) => e.startsWith('data: ') && !e.includes('\n'))).toBe(true);
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)) as Record<string, unknown>);
    // Without include_usage OpenAI sends neither a usage field nor a usage chunk.
    expect(chunks.every((c) => !('usage' in c))).toBe(true);
    expect((chunks.at(-1)?.choices as unknown[]).length).toBe(1);
  });

  it('streams tool calls as OpenAI does and the SDK reassembles them', async () => {
    const s = await standIn();
    s.setResponder(() => ({
      toolCalls: [
        { name: 'get_weather', arguments: '{"location":"Paris, France"}' },
        { name: 'get_time', arguments: '{"tz":"Europe/Paris"}', id: 'call_fixed' },
      ],
    }));
    const client = sdk(s);
    const raw: ChatCompletionChunk[] = [];
    for await (const c of await client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello, stream: true }))
      raw.push(c);

    // With no text, the role travels with the first tool call and content is null.
    expect(raw[0]?.choices[0]?.delta).toMatchObject({ role: 'assistant', content: null, refusal: null });
    const toolDeltas = raw.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    const openings = toolDeltas.filter((t) => t.id !== undefined);
    expect(openings).toEqual([
      {
        index: 0,
        id: expect.stringMatching(/^call_/),
        type: 'function',
        function: { name: 'get_weather', arguments: '' },
      },
      { index: 1, id: 'call_fixed', type: 'function', function: { name: 'get_time', arguments: '' } },
    ]);
    for (const t of toolDeltas.filter((d) => d.id === undefined))
      expect(Object.keys(t).sort()).toEqual(['function', 'index']);
    expect(raw.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');

    const final = await client.chat.completions.stream({ model: 'gpt-4o-mini', messages: hello }).finalChatCompletion();
    const calls = final.choices[0]?.message.tool_calls ?? [];
    expect(
      calls.map((c) => (c.type === 'function' ? [c.function.name, JSON.parse(c.function.arguments)] : null)),
    ).toEqual([
      ['get_weather', { location: 'Paris, France' }],
      ['get_time', { tz: 'Europe/Paris' }],
    ]);
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('sends text before tool calls in one reply', async () => {
    const s = await standIn();
    s.setResponder(() => ({ content: 'Let me check.', toolCalls: [{ name: 'lookup', arguments: '{"q":"x"}' }] }));
    const final = await sdk(s).chat.completions.stream({ model: 'gpt-4o-mini', messages: hello }).finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe('Let me check.');
    expect(final.choices[0]?.message.tool_calls?.[0]).toMatchObject({
      type: 'function',
      function: { name: 'lookup', arguments: '{"q":"x"}' },
    });
  });
});

describe('non-streaming and models', () => {
  it('returns a full chat.completion with message, finish_reason and usage', async () => {
    const s = await standIn();
    const text = await sdk(s).chat.completions.create({ model: 'gpt-4o-mini', messages: hello });
    expect(text).toMatchObject({
      object: 'chat.completion',
      model: 'gpt-4o-mini',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant' } }],
    });
    expect(text.choices[0]?.message.content).toBe(
      'You said: Hello there. That is an interesting point. Tell me more about it.',
    );
    expect(text.usage?.completion_tokens).toBe(tokenize(text.choices[0]?.message.content ?? '').length);

    s.setResponder(() => ({ toolCalls: [{ name: 'get_weather', arguments: '{"city":"Oslo"}' }] }));
    const tool = await sdk(s).chat.completions.create({ model: 'gpt-4o-mini', messages: hello });
    expect(tool.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: {
        content: null,
        tool_calls: [
          {
            type: 'function',
            id: expect.stringMatching(/^call_/),
            function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
          },
        ],
      },
    });
    expect(s.requests.map((r) => r.stream)).toEqual([false, false]);
  });

  it('lists and retrieves models, 404 for an unknown one', async () => {
    const s = await standIn({ apiKey: API_KEY });
    const client = sdk(s);
    const list = await client.models.list();
    expect(list.data.map((m) => m.id)).toContain('gpt-4o-mini');
    expect(list.data[0]).toMatchObject({ object: 'model', owned_by: 'system' });
    expect(await client.models.retrieve('gpt-4o-mini')).toMatchObject({ id: 'gpt-4o-mini', object: 'model' });
    await expect(client.models.retrieve('no-such-model')).rejects.toMatchObject({
      status: 404,
      code: 'model_not_found',
    });
    await expect(sdk(s, { apiKey: 'sk-wrong-key-000000' }).models.list()).rejects.toBeInstanceOf(
      OpenAI.AuthenticationError,
    );
  });
});

describe('errors', () => {
  it('401 in OpenAI shape for a wrong or missing key', async () => {
    const s = await standIn({ apiKey: API_KEY });
    const err = await sdk(s, { apiKey: 'sk-wrong-key-000000' })
      .chat.completions.create({ model: 'gpt-4o-mini', messages: hello })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err).toMatchObject({
      status: 401,
      code: 'invalid_api_key',
      type: 'invalid_request_error',
      param: null,
      requestID: expect.stringMatching(/^req_/),
    });
    expect((err as Error).message).not.toContain('sk-wrong-key-000000');

    const res = await fetch(`${s.url}/chat/completions`, { method: 'POST', body: JSON.stringify(request()) });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: {
        message: expect.stringContaining("didn't provide an API key"),
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    });
  });

  it('400 for a malformed body', async () => {
    const s = await standIn();
    const post = async (body: string): Promise<{ status: number; json: unknown }> => {
      const res = await fetch(`${s.url}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      return { status: res.status, json: await res.json() };
    };
    expect(await post('{not json')).toMatchObject({ status: 400, json: { error: { type: 'invalid_request_error' } } });
    expect(await post(JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }))).toMatchObject({
      status: 400,
      json: { error: { message: 'you must provide a model parameter', param: null, code: null } },
    });
    expect(await post(JSON.stringify({ model: 'gpt-4o-mini' }))).toMatchObject({
      status: 400,
      json: { error: { param: 'messages', code: 'missing_required_parameter' } },
    });
    expect(await post(JSON.stringify({ model: 'gpt-4o-mini', messages: [{ content: 'no role' }] }))).toMatchObject({
      status: 400,
      json: { error: { param: 'messages[0].role', code: 'missing_required_parameter' } },
    });
    const viaSdk = sdk(s).chat.completions.create({ model: 'gpt-4o-mini', messages: [] });
    await expect(viaSdk).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    expect(s.requests.map((r) => r.status)).toEqual([400, 400, 400, 400, 400]);
  });

  it('failNext injects 500 and 429 that map to the SDK error classes, then recovers', async () => {
    const s = await standIn();
    const client = sdk(s);
    s.failNext({
      status: 500,
      message: 'The server had an error while processing your request. Sorry about that!',
      count: 2,
    });
    await expect(client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello })).rejects.toBeInstanceOf(
      OpenAI.InternalServerError,
    );
    await expect(
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello, stream: true }),
    ).rejects.toMatchObject({ status: 500, type: 'server_error' });

    s.failNext({ status: 429, message: 'Rate limit reached for gpt-4o-mini on requests per min (RPM).' });
    const limited = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: hello })
      .catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect(limited).toMatchObject({ code: 'rate_limit_exceeded', type: 'requests' });

    await expect(client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello })).resolves.toMatchObject({
      object: 'chat.completion',
    });
    expect(s.requests.map((r) => r.status)).toEqual([500, 500, 429, 200]);
  });

  it('the SDK retries an injected 500 on its own', async () => {
    const s = await standIn();
    s.failNext({ status: 500, message: 'boom' });
    const done = await sdk(s, { maxRetries: 1 }).chat.completions.create({ model: 'gpt-4o-mini', messages: hello });
    expect(done.choices[0]?.message.content).toContain('You said');
    expect(s.requests.map((r) => r.status)).toEqual([500, 200]);
  });

  it('a responder error is sent before any byte of the stream', async () => {
    const s = await standIn({
      respond: () => ({ error: { status: 503, message: 'overloaded', type: 'server_error', code: 'overloaded' } }),
    });
    const err = await sdk(s)
      .chat.completions.create({ model: 'gpt-4o-mini', messages: hello, stream: true })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect(err).toMatchObject({ status: 503, code: 'overloaded' });
    expect(s.requests[0]?.deltas).toEqual([]);
  });

  it('reasoning models refuse temperature, top_p and max_tokens like OpenAI does', async () => {
    const s = await standIn();
    const client = sdk(s);
    const temp = await client.chat.completions
      .create({ model: 'o3-mini', messages: hello, temperature: 0.7 })
      .catch((e: unknown) => e);
    expect(temp).toBeInstanceOf(OpenAI.BadRequestError);
    expect(temp).toMatchObject({
      status: 400,
      param: 'temperature',
      code: 'unsupported_value',
      type: 'invalid_request_error',
    });
    expect((temp as Error).message).toContain(
      "Unsupported value: 'temperature' does not support 0.7 with this model. Only the default (1) value is supported.",
    );

    await expect(
      client.chat.completions.create({ model: 'gpt-5-mini', messages: hello, top_p: 0.9, stream: true }),
    ).rejects.toMatchObject({
      status: 400,
      param: 'top_p',
      code: 'unsupported_parameter',
    });
    const maxTokens = await client.chat.completions
      .create({ model: 'o1', messages: hello, max_tokens: 50 })
      .catch((e: unknown) => e);
    expect(maxTokens).toMatchObject({ status: 400, param: 'max_tokens', code: 'unsupported_parameter' });
    expect((maxTokens as Error).message).toContain("Use 'max_completion_tokens' instead.");

    await expect(
      client.chat.completions.create({ model: 'o4-mini', messages: hello, temperature: 1, max_completion_tokens: 50 }),
    ).resolves.toBeDefined();
    await expect(
      client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: hello,
        temperature: 0.7,
        top_p: 0.5,
        max_tokens: 9,
      }),
    ).resolves.toBeDefined();
  });
});

describe('timing', () => {
  async function receive(
    s: OpenAIStandIn,
    signal?: AbortSignal,
  ): Promise<{ sentAt: number; received: { at: number; text: string }[] }> {
    const sentAt = nowMs();
    const stream = await sdk(s).chat.completions.create(
      { model: 'gpt-4o-mini', messages: hello, stream: true },
      signal ? { signal } : {},
    );
    const received: { at: number; text: string }[] = [];
    for await (const c of stream) {
      const text = c.choices[0]?.delta.content;
      if (text) received.push({ at: nowMs(), text });
    }
    return { sentAt, received };
  }

  it('paces deltas by the reply overrides, and the log matches what the client saw', async () => {
    const s = await standIn({
      respond: () => ({ content: 'one two three four five six', ttftMs: 150, tokenIntervalMs: 50 }),
    });
    const { sentAt, received } = await receive(s);
    expect(received.map((r) => r.text).join('')).toBe('one two three four five six');
    expect((received[0]?.at ?? 0) - sentAt).toBeGreaterThanOrEqual(140);
    for (let i = 1; i < received.length; i++)
      expect((received[i]?.at ?? 0) - (received[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(40);

    const logged = s.requests[0]?.deltas ?? [];
    expect(logged.map((d) => d.text)).toEqual(received.map((r) => r.text));
    logged.forEach((d, i) => {
      const lag = (received[i]?.at ?? 0) - d.at;
      expect(lag).toBeGreaterThanOrEqual(-1);
      expect(lag).toBeLessThan(40);
    });
    expect(s.requests[0]?.firstDeltaAt).toBe(logged[0]?.at);
    expect(s.requests[0]?.planned).toEqual({ ttftMs: 150, intervalsMs: [50, 50, 50, 50, 50] });
  });

  it('draws latency from the profile, repeatably for a seed', async () => {
    const seeded = getProfile('seed');
    const a = await standIn({ profile: seeded, seed: 7 });
    const b = await standIn({ profile: seeded, seed: 7 });
    const c = await standIn({ profile: seeded, seed: 8 });
    await Promise.all([a, b, c].map((s) => receive(s)));
    const [pa, pb, pc] = [a, b, c].map((s) => s.requests[0]?.planned);
    expect(pa).toEqual(pb);
    expect(pa).not.toEqual(pc);
    expect(pa?.ttftMs).toBeGreaterThan(50);
    expect(pa?.ttftMs).toBeLessThan(1500);
    for (const gap of pa?.intervalsMs ?? []) expect(gap).toBeGreaterThan(5);
    const entry = a.requests[0];
    expect((entry?.firstDeltaAt ?? 0) - (entry?.at ?? 0)).toBeGreaterThanOrEqual((pa?.ttftMs ?? 0) - 2);
  });

  it('stops writing as soon as the client aborts, and records it', async () => {
    const s = await standIn({ respond: () => ({ content: LONG_TEXT, tokenIntervalMs: 20 }) });
    const controller = new AbortController();
    const stream = await sdk(s).chat.completions.create(
      { model: 'gpt-4o-mini', messages: hello, stream: true },
      { signal: controller.signal },
    );
    let seen = 0;
    await expect(
      (async () => {
        for await (const c of stream) {
          if (c.choices[0]?.delta.content && ++seen === 3) controller.abort();
        }
      })(),
    ).resolves.toBeUndefined();
    const entry = s.requests[0];
    await waitFor(() => entry?.clientClosedEarly === true);
    const written = entry?.deltas.length ?? 0;
    await new Promise((r) => setTimeout(r, 200));
    expect(entry?.deltas.length).toBe(written);
    expect(written).toBeLessThan(6);
    expect(entry?.finishedAt).not.toBeNull();
    expect(entry?.destroyedByServer).toBe(false);
  });

  it('notices a client that gives up before the first token', async () => {
    const s = await standIn({ respond: () => ({ content: LONG_TEXT, ttftMs: 400 }) });
    const pending = sdk(s).chat.completions.create(
      { model: 'gpt-4o-mini', messages: hello, stream: true },
      { signal: AbortSignal.timeout(50) },
    );
    await expect(pending).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
    const entry = s.requests[0];
    await waitFor(() => entry?.clientClosedEarly === true);
    await new Promise((r) => setTimeout(r, 450));
    expect(entry).toMatchObject({ status: 0, deltas: [], firstDeltaAt: null });
  });

  it('failAfterDeltas cuts the connection after N deltas and the SDK stream throws', async () => {
    const s = await standIn({ respond: () => ({ content: LONG_TEXT, failAfterDeltas: 3 }) });
    const received: string[] = [];
    const stream = await sdk(s).chat.completions.create({ model: 'gpt-4o-mini', messages: hello, stream: true });
    await expect(
      (async () => {
        for await (const c of stream) {
          const text = c.choices[0]?.delta.content;
          if (text) received.push(text);
        }
      })(),
    ).rejects.toThrow();
    expect(received).toEqual(['word0', ' word1', ' word2']);
    expect(s.requests[0]).toMatchObject({ destroyedByServer: true, clientClosedEarly: false });
    expect(s.requests[0]?.deltas).toHaveLength(3);
  });
});

describe('the LiveKit openai plugin against the stand-in', () => {
  it('prewarms with models.list and streams text, usage and a tool call', async () => {
    initializeLogger({ pretty: false, level: 'warn' });
    const s = await standIn({ apiKey: API_KEY });
    const model = new livekitOpenAI.LLM({ model: 'gpt-4o-mini', apiKey: API_KEY, baseURL: s.url });
    model.prewarm();
    await waitFor(() => s.requests.some((r) => r.path === '/v1/models' && r.status === 200));

    const chatCtx = llm.ChatContext.empty();
    chatCtx.addMessage({ role: 'user', content: 'Hi from LiveKit' });
    let text = '';
    let completionTokens = 0;
    for await (const chunk of model.chat({ chatCtx })) {
      text += chunk.delta?.content ?? '';
      completionTokens = chunk.usage?.completionTokens ?? completionTokens;
    }
    expect(text).toBe('You said: Hi from LiveKit. That is an interesting point. Tell me more about it.');
    expect(completionTokens).toBe(tokenize(text).length);

    s.setResponder(() => ({
      content: 'Checking.',
      toolCalls: [{ name: 'getWeather', arguments: '{"city":"Paris"}' }],
    }));
    const tools = {
      getWeather: llm.tool({
        description: 'Weather for a city',
        parameters: z.object({ city: z.string() }),
        execute: async () => 'sunny',
      }),
    };
    const calls: [string, string][] = [];
    for await (const chunk of model.chat({ chatCtx, toolCtx: tools })) {
      for (const call of chunk.delta?.toolCalls ?? []) calls.push([call.name, call.args]);
    }
    expect(calls).toEqual([['getWeather', '{"city":"Paris"}']]);
  });
});
