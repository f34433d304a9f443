import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import Letta, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
  UnprocessableEntityError,
} from '@letta-ai/letta-client';
import type { AgentState } from '@letta-ai/letta-client/resources/agents/agents';
import type { AssistantMessage, LettaStreamingResponse } from '@letta-ai/letta-client/resources/agents/messages';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  startLettaStandIn,
  type LettaStandIn,
  type LettaStandInOptions,
  startOpenAIStandIn,
  type OpenAIStandIn,
  profiles,
  type LatencyProfile,
} from '../../sim/index.ts';

const AGENT_ID = /^agent-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const constant = (ms: number) => ({ medianMs: ms, p95Ms: ms });

/** Slow enough to tell step streaming from token streaming apart: a 150 ms agent loop, 40 ms between tokens. */
const paced: LatencyProfile = {
  ...profiles.instant,
  name: 'paced-test',
  openai: { ttft: constant(50), tokenInterval: constant(40) },
  letta: { agentLoop: constant(150), read: constant(0) },
};

let openai: OpenAIStandIn;
let started: LettaStandIn[] = [];

beforeAll(async () => {
  openai = await startOpenAIStandIn({ profile: profiles.instant });
});
afterAll(async () => {
  await openai.close();
});
afterEach(async () => {
  await Promise.all(started.map((s) => s.close()));
  started = [];
});

async function standIn(opts: LettaStandInOptions = {}): Promise<LettaStandIn> {
  const s = await startLettaStandIn({ modelBaseUrl: openai.url, ...opts });
  started.push(s);
  return s;
}

function client(s: LettaStandIn, opts: { timeout?: number } = {}): Letta {
  return new Letta({ baseURL: s.url, apiKey: 'test', maxRetries: 0, ...opts });
}

async function newAgent(letta: Letta, tag = `lk-user:${randomUUID()}`): Promise<AgentState> {
  return letta.agents.create({
    name: 'caller',
    tags: [tag, 'voice'],
    model: 'openai/gpt-4o-mini',
    embedding: 'openai/text-embedding-3-small',
    memory_blocks: [
      { label: 'persona', value: 'A friendly voice assistant.' },
      { label: 'human', value: 'Name: Ada', limit: 5000 },
    ],
  });
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
}

function contentOf(m: object): unknown {
  return 'content' in m ? m.content : undefined;
}

async function collect(stream: AsyncIterable<LettaStreamingResponse>): Promise<LettaStreamingResponse[]> {
  const out: LettaStreamingResponse[] = [];
  for await (const e of stream) out.push(e);
  return out;
}

describe('Letta stand-in: agents and memory', () => {
  it('creates agents, finds one by tag, and retrieves relations only when asked (1.x client)', async () => {
    const s = await standIn();
    const letta = client(s);
    const tag = 'lk-user:42';
    const agent = await newAgent(letta, tag);
    await newAgent(letta);

    expect(agent.id).toMatch(AGENT_ID);
    expect(agent.agent_type).toBe('letta_v1_agent');
    expect(agent.blocks.map((b) => b.label).sort()).toEqual(['human', 'persona']);
    expect(agent.tags).toEqual([tag, 'voice']);
    expect(agent.llm_config.model).toBe('gpt-4o-mini');
    expect(agent.llm_config.model_endpoint).toBe(openai.url);
    expect(agent.embedding_config?.embedding_dim).toBe(1536);

    const found = await letta.agents.list({ tags: [tag], match_all_tags: true, limit: 1 });
    expect(found.items.map((a) => a.id)).toEqual([agent.id]);
    expect(s.requests.at(-1)?.query).toMatchObject({ tags: [tag], match_all_tags: ['true'], limit: ['1'] });
    expect((await letta.agents.list({ tags: [tag, 'voice'] })).items).toHaveLength(2);
    expect((await letta.agents.list({ tags: [tag, 'nobody'], match_all_tags: true })).items).toHaveLength(0);

    // The archived server gives 1.x clients no relations unless `include` asks for them.
    const bare = await letta.agents.retrieve(agent.id);
    expect(bare.blocks).toEqual([]);
    expect(bare.tags).toEqual([]);
    const full = await letta.agents.retrieve(agent.id, { include: ['agent.blocks', 'agent.tags'] });
    expect(full.blocks.map((b) => b.label).sort()).toEqual(['human', 'persona']);
    expect(full.memory.blocks).toHaveLength(2);
    expect(full.tags).toEqual([tag, 'voice']);
    expect(s.requests.at(-1)?.query.include).toEqual(['agent.blocks', 'agent.tags']);
    expect(s.store.agents().map((a) => a.id)).toContain(agent.id);

    const seeded = s.store.createAgent({
      name: 'seeded',
      tags: ['lk-user:seeded'],
      memory_blocks: [{ label: 'human', value: 'Seeded' }],
    });
    expect((await letta.agents.list({ tags: ['lk-user:seeded'] })).items.map((a) => a.id)).toEqual([seeded.id]);
    expect(s.store.blocks(seeded.id).map((b) => b.value)).toEqual(['Seeded']);
  });

  it('lists blocks in one request with .items, pages to an end with for-await, retrieves and updates by label', async () => {
    const s = await standIn();
    const letta = client(s);
    const agent = await newAgent(letta);
    const before = s.requests.length;

    const page = await letta.agents.blocks.list(agent.id, { limit: 50 });
    expect(page.items.map((b) => b.label).sort()).toEqual(['human', 'persona']);
    expect(s.requests.length - before).toBe(1);

    const labels: string[] = [];
    for await (const b of letta.agents.blocks.list(agent.id)) labels.push(b.label ?? '');
    expect(labels.sort()).toEqual(['human', 'persona']);
    // The client follows `after=<last id>` until a page comes back empty.
    const listing = s.requests.slice(before + 1);
    expect(listing).toHaveLength(2);
    const lowestId = page.items.map((b) => b.id).sort()[0];
    expect(listing[1]?.query.after).toEqual([lowestId]);

    expect((await letta.agents.blocks.retrieve('human', { agent_id: agent.id })).value).toBe('Name: Ada');
    const updated = await letta.agents.blocks.update('human', { agent_id: agent.id, value: 'Name: Ada\nLikes: tea' });
    expect(updated.value).toBe('Name: Ada\nLikes: tea');
    expect(updated.limit).toBe(5000);
    expect(s.store.blocks(agent.id).find((b) => b.label === 'human')?.value).toBe('Name: Ada\nLikes: tea');

    s.store.setBlock(agent.id, 'human', 'Name: Ada Lovelace');
    expect((await letta.agents.blocks.retrieve('human', { agent_id: agent.id })).value).toBe('Name: Ada Lovelace');
  });

  it('answers 404, 422 and 401 with the archived server bodies, which the client maps to its error classes', async () => {
    const s = await standIn();
    const letta = client(s);
    const agent = await newAgent(letta);
    const missing = 'agent-123e4567-e89b-42d3-8456-426614174000';

    const notFound = await failure(letta.agents.retrieve(missing));
    expect(notFound).toBeInstanceOf(NotFoundError);
    expect((notFound as NotFoundError).error).toEqual({ detail: `Agent with ID ${missing} not found` });

    const noBlock = await failure(letta.agents.blocks.retrieve('nope', { agent_id: agent.id }));
    expect(noBlock).toBeInstanceOf(NotFoundError);
    expect((noBlock as NotFoundError).error).toEqual({
      detail: `No block with label 'nope' found for agent '${agent.id}'`,
    });

    const badId = await failure(letta.agents.blocks.list('agent-42'));
    expect(badId).toBeInstanceOf(UnprocessableEntityError);
    const body = (badId as UnprocessableEntityError).error as { trace_id: string; detail: string; examples: string[] };
    expect(body.detail).toContain("String should match pattern 'agent-{uuid4}'");
    expect(body.detail).toContain("'loc': ('path', 'agent_id')");
    expect(body.examples).toEqual(['agent-123e4567-e89b-42d3-8456-426614174000']);

    const empty = await failure(letta.agents.messages.create(agent.id, { messages: [] }));
    expect(empty).toBeInstanceOf(UnprocessableEntityError);
    expect((empty as UnprocessableEntityError).error).toEqual({ detail: 'Messages must not be empty' });

    const tokensWithoutStreaming = await failure(
      letta.agents.messages.create(agent.id, { input: 'hi', stream_tokens: true }),
    );
    expect((tokensWithoutStreaming as UnprocessableEntityError).status).toBe(422);
    expect(String((tokensWithoutStreaming as UnprocessableEntityError).message)).toContain(
      'Streaming options set without streaming enabled',
    );

    const both = await failure(
      letta.agents.messages.create(agent.id, { input: 'hi', messages: [{ role: 'user', content: 'hi' }] }),
    );
    expect(both).toBeInstanceOf(UnprocessableEntityError);
    expect(((both as UnprocessableEntityError).error as { detail: string }).detail).toContain(
      "Cannot specify both 'input' and 'messages'",
    );

    const badModel = await failure(letta.agents.create({ model: 'gpt-4o-mini' }));
    expect(badModel).toBeInstanceOf(BadRequestError);

    const headers = { authorization: 'Bearer test', 'content-type': 'application/json' };
    const notJson = await fetch(`${s.url}/v1/agents/${agent.id}/archival-memory`, {
      method: 'POST',
      headers,
      body: '{"text": ',
    });
    expect(notJson.status).toBe(422);
    expect(((await notJson.json()) as { detail: string }).detail).toContain("'type': 'json_invalid'");
    // FastAPI redirects a missing trailing slash; fetch follows it.
    const redirected = await fetch(`${s.url}/v1/agents?limit=1`, { headers });
    expect(redirected.status).toBe(200);
    expect(redirected.redirected).toBe(true);
    expect((await fetch(`${s.url}/v1/nothing-here`, { headers })).status).toBe(404);

    const secured = await standIn({ apiKey: 'right-key' });
    const wrong = new Letta({ baseURL: secured.url, apiKey: 'wrong-key', maxRetries: 0 });
    const denied = await failure(wrong.agents.list());
    expect(denied).toBeInstanceOf(AuthenticationError);
    expect((denied as AuthenticationError).error).toEqual({ detail: 'Unauthorized' });
    expect((await wrong.health()).status).toBe('ok');
    const right = new Letta({ baseURL: secured.url, apiKey: 'right-key', maxRetries: 0 });
    expect((await right.agents.list()).items).toEqual([]);
  });

  it('stores archival passages and finds them by search', async () => {
    const s = await standIn();
    const letta = client(s);
    const agent = await newAgent(letta);
    const created = await letta.agents.passages.create(agent.id, {
      text: 'User: I love green tea\nAssistant: Noted!',
      tags: ['turn', 'session-1'],
    });
    await letta.agents.passages.create(agent.id, { text: 'User: my dog is called Rex', tags: ['turn'] });
    expect(created).toHaveLength(1);
    expect(created[0]?.id).toMatch(/^passage-/);
    expect(created[0]?.embedding_config?.embedding_model).toBe('text-embedding-3-small');

    const all = await letta.agents.passages.list(agent.id);
    expect(all.map((p) => p.text)).toEqual(['User: I love green tea\nAssistant: Noted!', 'User: my dog is called Rex']);
    expect(s.store.passages(agent.id).map((p) => p.tags)).toEqual([['turn', 'session-1'], ['turn']]);

    const hits = await letta.agents.passages.search(agent.id, { query: 'what tea does the user like', top_k: 1 });
    expect(hits.count).toBe(1);
    expect(hits.results[0]?.content).toContain('green tea');
    const tagged = await letta.agents.passages.search(agent.id, { query: 'dog', tags: ['session-1'] });
    expect(tagged.results.map((r) => r.content)).toEqual(['User: I love green tea\nAssistant: Noted!']);
  });
});

describe('Letta stand-in: agent steps', () => {
  it('answers messages.create with the model reply, stores the input with its otid, and edits the human block', async () => {
    const s = await standIn();
    const letta = client(s);
    const agent = await newAgent(letta);
    const before = openai.requests.length;
    const otid = randomUUID();

    const res = await letta.agents.messages.create(agent.id, {
      messages: [{ role: 'user', content: 'I like green tea', otid, sender_id: 'lk-user:42' }],
    });
    expect(res.messages).toHaveLength(1);
    const reply = res.messages[0];
    expect(reply?.message_type).toBe('assistant_message');
    expect(reply && 'content' in reply ? reply.content : '').toBe(
      'You said: I like green tea. That is an interesting point. Tell me more about it.',
    );
    expect(res.stop_reason.stop_reason).toBe('end_turn');
    expect(res.usage.step_count).toBe(1);

    // The model saw the agent's system prompt with its memory blocks, then the new message.
    const modelCall = openai.requests.slice(before).find((r) => r.path === '/v1/chat/completions');
    const sent = (modelCall?.body as { messages: { role: string; content: string }[] }).messages;
    expect(sent[0]?.role).toBe('system');
    expect(sent[0]?.content).toContain('<human>');
    expect(sent[0]?.content).toContain('Name: Ada');
    expect(sent.at(-1)).toEqual({ role: 'user', content: 'I like green tea' });

    const stored = s.store.messages(agent.id);
    expect(stored.map((m) => m.message_type)).toEqual(['user_message', 'assistant_message']);
    expect(stored[0]).toMatchObject({ otid, sender_id: 'lk-user:42', content: 'I like green tea' });
    expect(stored[0]?.id).toMatch(/^message-/);
    expect(stored[0]?.run_id).toBe(stored[1]?.run_id);

    const listed = await letta.agents.messages.list(agent.id, { limit: 10 });
    expect(listed.items.some((m) => m.otid === otid)).toBe(true);
    // As the server: the agent's system message first; `desc` (the default) picks the newest, oldest first.
    expect(listed.items.map((m) => m.message_type)).toEqual(['system_message', 'user_message', 'assistant_message']);
    const newest = await letta.agents.messages.list(agent.id, { limit: 1, order: 'desc' });
    expect(newest.items.map((m) => m.message_type)).toEqual(['assistant_message']);

    expect((await letta.agents.blocks.retrieve('human', { agent_id: agent.id })).value).toBe(
      'Name: Ada\n- I like green tea',
    );

    // The next step sees the previous turn as history.
    await letta.agents.messages.create(agent.id, { input: 'And biscuits' });
    const second = (openai.requests.at(-1)?.body as { messages: { role: string; content: string }[] }).messages;
    expect(second.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
  });

  it('step streaming sends nothing after the ping until the step is done; token streaming forwards each delta', async () => {
    const slowOpenAI = await startOpenAIStandIn({ profile: paced });
    try {
      const s = await standIn({ profile: paced, modelBaseUrl: slowOpenAI.url });
      const letta = client(s);
      const agent = await newAgent(letta);

      const stepEvents = await collect(
        await letta.agents.messages.create(agent.id, { input: 'Tell me a story', streaming: true }),
      );
      expect(stepEvents.map((e) => e.message_type)).toEqual([
        'ping',
        'assistant_message',
        'stop_reason',
        'usage_statistics',
      ]);
      const stepLog = s.requests.at(-1)?.events ?? [];
      expect(stepLog.map((e) => e.type)).toEqual([
        'ping',
        'assistant_message',
        'stop_reason',
        'usage_statistics',
        '[DONE]',
      ]);
      const [ping, ...rest] = stepLog;
      // Everything after the ping leaves together, once the agent loop and the whole completion are done.
      expect((rest[0]?.at ?? 0) - (ping?.at ?? 0)).toBeGreaterThan(150 + 50 + 5 * 40);
      expect((rest.at(-1)?.at ?? 0) - (rest[0]?.at ?? 0)).toBeLessThan(20);

      const tokenEvents = await collect(
        await letta.agents.messages.create(agent.id, {
          input: 'Tell me another',
          streaming: true,
          stream_tokens: true,
        }),
      );
      const deltas = tokenEvents.filter((e): e is AssistantMessage => e.message_type === 'assistant_message');
      expect(tokenEvents[0]?.message_type).toBe('ping');
      expect(tokenEvents.slice(-2).map((e) => e.message_type)).toEqual(['stop_reason', 'usage_statistics']);
      expect(deltas.length).toBeGreaterThan(5);
      expect(new Set(deltas.map((d) => d.id)).size).toBe(1);
      const text = deltas.map((d) => contentOf(d)).join('');
      expect(text).toBe('You said: Tell me another. That is an interesting point. Tell me more about it.');
      const sendTimes = (s.requests.at(-1)?.events ?? [])
        .filter((e) => e.type === 'assistant_message')
        .map((e) => e.at);
      // Spread out at the model's pace (≈40 ms apart), not bunched.
      expect((sendTimes.at(-1) ?? 0) - (sendTimes[0] ?? 0)).toBeGreaterThan((deltas.length - 1) * 40 * 0.5);
      const modelDeltas = slowOpenAI.requests.at(-1)?.deltas ?? [];
      expect(modelDeltas).toHaveLength(deltas.length);
      modelDeltas.forEach((d, i) => expect(sendTimes[i]).toBeGreaterThanOrEqual(d.at));

      expect(s.store.messages(agent.id).filter((m) => m.message_type === 'assistant_message')).toHaveLength(2);
    } finally {
      await slowOpenAI.close();
    }
  });

  it('filters streamed messages with include_return_message_types and can leave out pings', async () => {
    const s = await standIn();
    const letta = client(s);
    const agent = await newAgent(letta);
    const events = await collect(
      await letta.agents.messages.create(agent.id, {
        input: 'hello',
        streaming: true,
        include_pings: false,
        include_return_message_types: ['reasoning_message'],
      }),
    );
    expect(events.map((e) => e.message_type)).toEqual(['stop_reason', 'usage_statistics']);
  });

  it('reports a model failure mid-stream as an error event, and before the stream as an HTTP error', async () => {
    const s = await standIn();
    const letta = client(s);
    const agent = await newAgent(letta);

    openai.failNext({ status: 500, message: 'The server had an error while processing your request.' });
    const stream = await letta.agents.messages.create(agent.id, { input: 'hello', streaming: true });
    const seen: string[] = [];
    const err = await failure(
      (async () => {
        for await (const e of stream) seen.push(e.message_type ?? '');
      })(),
    );
    expect(seen).toEqual(['ping', 'stop_reason']);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBeUndefined();
    expect((err as APIError).error).toMatchObject({ message_type: 'error_message', error_type: 'internal_error' });

    openai.failNext({ status: 429, message: 'Rate limit reached' });
    const limited = await failure(letta.agents.messages.create(agent.id, { input: 'hello' }));
    expect(limited).toBeInstanceOf(RateLimitError);
    expect((limited as RateLimitError).error).toMatchObject({ error: { type: 'llm_rate_limit' } });
    expect(s.store.messages(agent.id)).toEqual([]);
  });

  it('answers 409 to a second message-creating request while the agent is busy (per agent)', async () => {
    const s = await standIn({ profile: paced });
    const letta = client(s);
    const [a, b] = await Promise.all([newAgent(letta), newAgent(letta)]);
    const results = await Promise.allSettled([
      letta.agents.messages.create(a.id, { input: 'first' }),
      letta.agents.messages.create(a.id, { input: 'second' }),
      letta.agents.messages.create(b.id, { input: 'other agent' }),
    ]);
    // Whichever of the two requests for agent a arrives second is refused; agent b is unaffected.
    const sameAgent = results.slice(0, 2);
    expect(sameAgent.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(results[2]?.status).toBe('fulfilled');
    const conflict = (sameAgent.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as ConflictError;
    expect(conflict).toBeInstanceOf(ConflictError);
    expect(conflict.error).toMatchObject({
      detail: expect.stringContaining('Another request is currently being processed'),
    });
    const winner = sameAgent[0]?.status === 'fulfilled' ? 'first' : 'second';
    expect(
      s.store
        .messages(a.id)
        .filter((m) => m.message_type === 'user_message')
        .map(contentOf),
    ).toEqual([winner]);
    // Free again once the first step is done.
    await letta.agents.messages.create(a.id, { input: 'third' });
  });

  it('a hold fault keeps an admitted request running: its run is active and the agent busy until release', async () => {
    const s = await standIn();
    const letta = client(s);
    const agent = await newAgent(letta);
    await s.faults.set({ kind: 'hold', count: 1, match: { method: 'POST' } });
    const held = letta.agents.messages.create(agent.id, { input: 'held' });
    for (let i = 0; i < 500 && s.faults.held() === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(s.faults.held()).toBe(1);
    const active = await letta.runs.list({ agent_id: agent.id, active: true });
    expect(active.items.map((r) => r.status)).toEqual(['created']);
    expect(await failure(letta.agents.messages.create(agent.id, { input: 'second' }))).toBeInstanceOf(ConflictError);
    // Other agents are not held, and their runs are not listed for this one.
    const other = await newAgent(letta);
    await letta.agents.messages.create(other.id, { input: 'free' });
    expect((await letta.runs.list({ agent_id: other.id, active: true })).items).toEqual([]);
    s.faults.release();
    await held;
    expect((await letta.runs.list({ agent_id: agent.id, active: true })).items).toEqual([]);
    const runs = (await letta.runs.list({ agent_id: agent.id })).items;
    expect(runs.map((r) => r.status)).toEqual(['completed']);
    expect(s.faults.held()).toBe(0);
  });

  it('runs createAsync in the background and reports it through runs.retrieve', async () => {
    const s = await standIn({ profile: paced });
    const letta = client(s);
    const agent = await newAgent(letta);
    const run = await letta.agents.messages.createAsync(agent.id, {
      messages: [{ role: 'user', content: 'remember my birthday is in May' }],
    });
    expect(run).toMatchObject({ agent_id: agent.id, status: 'created', background: true });
    expect(run.id).toMatch(/^run-/);
    expect(await failure(letta.agents.messages.create(agent.id, { input: 'too soon' }))).toBeInstanceOf(ConflictError);
    let current = await letta.runs.retrieve(run.id);
    for (let i = 0; i < 100 && current.status !== 'completed'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      current = await letta.runs.retrieve(run.id);
    }
    expect(current).toMatchObject({ status: 'completed', stop_reason: 'end_turn' });
    expect(current.total_duration_ns).toBeGreaterThan(150e6);
    expect(s.store.messages(agent.id).map((m) => m.run_id)).toEqual([run.id, run.id]);
    expect(await failure(letta.runs.retrieve('run-nope'))).toBeInstanceOf(NotFoundError);
  });

  it('captures a turn without a model call, outside the context window; only a sleep-time agent notes it', async () => {
    const s = await standIn();
    const letta = client(s);
    const agent = await newAgent(letta);
    const calls = openai.requests.length;
    const body = {
      provider: 'openai',
      model: 'gpt-4o-mini',
      request_messages: [
        { role: 'system', content: 'You are a voice assistant.' },
        { role: 'user', content: 'My favourite colour is teal' },
      ],
      response_dict: { role: 'assistant', content: 'Teal is lovely!' },
    };
    const res = await letta.post(`/v1/agents/${agent.id}/messages/capture`, { body });
    expect(res).toEqual({ success: true, messages_created: 2, run_ids: [] });
    expect(openai.requests.length).toBe(calls);
    expect(s.store.captures(agent.id)).toEqual([body]);
    expect(s.store.messages(agent.id).map((m) => [m.message_type, contentOf(m)])).toEqual([
      ['user_message', 'My favourite colour is teal'],
      ['assistant_message', 'Teal is lovely!'],
    ]);
    // In context: only the agent's system message.
    expect((await letta.agents.retrieve(agent.id)).message_ids).toHaveLength(1);
    expect(s.store.blocks(agent.id).find((b) => b.label === 'human')?.value).toBe('Name: Ada');
    const sleepy = await letta.agents.create({
      memory_blocks: [{ label: 'human', value: 'Name: Ada' }],
      enable_sleeptime: true,
    });
    await letta.post(`/v1/agents/${sleepy.id}/messages/capture`, { body });
    expect(s.store.blocks(sleepy.id).find((b) => b.label === 'human')?.value).toBe(
      'Name: Ada\n- My favourite colour is teal',
    );

    const without = await standIn({ captureEndpoint: false });
    const other = client(without);
    const otherAgent = await newAgent(other);
    expect(await failure(other.post(`/v1/agents/${otherAgent.id}/messages/capture`, { body }))).toBeInstanceOf(
      NotFoundError,
    );
  });
});

describe("Letta stand-in: Letta's own server's behaviours (memoryEdits: 'tools'; server: 'self-hosted')", () => {
  it('runs the memory tool the model calls, then answers: tool call, tool return and reply, each persisted', async () => {
    const s = await standIn({ memoryEdits: 'tools' });
    const letta = client(s);
    const agent = await newAgent(letta);
    const res = await letta.agents.messages.create(agent.id, {
      messages: [{ role: 'user', content: 'Hello, my name is Alice and I keep bees.' }],
    });
    expect(res.messages.map((m) => m.message_type)).toEqual([
      'tool_call_message',
      'tool_return_message',
      'assistant_message',
    ]);
    const [call, ret] = res.messages;
    // Arguments as the server stores them (Python's json.dumps), the block's new value as the return.
    expect(call).toMatchObject({
      tool_call: {
        name: 'memory_insert',
        arguments:
          '{"label": "human", "new_string": "The caller\'s name is Alice.\\nThe caller keeps bees.", "insert_line": -1}',
      },
    });
    const human = "Name: Ada\nThe caller's name is Alice.\nThe caller keeps bees.";
    expect(ret).toMatchObject({ name: 'memory_insert', status: 'success', tool_return: human });
    expect(res.usage.step_count).toBe(2);
    expect((await letta.agents.blocks.retrieve('human', { agent_id: agent.id })).value).toBe(human);
    // Messages the agent makes carry an otid derived from their own id.
    for (const m of res.messages) expect(m.otid?.slice(0, 30)).toBe(m.id.slice(8, 38));
    expect(s.store.messages(agent.id).map((m) => m.message_type)).toEqual([
      'user_message',
      'tool_call_message',
      'tool_return_message',
      'assistant_message',
    ]);

    // Nothing to file: one step, memory unchanged.
    const plain = await letta.agents.messages.create(agent.id, { input: 'Thanks.' });
    expect(plain.messages.map((m) => m.message_type)).toEqual(['assistant_message']);
    expect((await letta.agents.blocks.retrieve('human', { agent_id: agent.id })).value).toBe(human);
  });

  it('streams tool-call pieces, the tool return and the reply deltas (tokens), or each message after its step', async () => {
    const s = await standIn({ memoryEdits: 'tools' });
    const letta = client(s);
    const agent = await newAgent(letta);
    const tokens = await collect(
      await letta.agents.messages.create(agent.id, { input: 'I live in Oslo.', streaming: true, stream_tokens: true }),
    );
    const types = tokens.map((e) => e.message_type);
    expect(types[0]).toBe('ping');
    expect(types.filter((t) => t === 'tool_return_message')).toHaveLength(1);
    const pieces = tokens.filter((e) => e.message_type === 'tool_call_message');
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces[0]).toMatchObject({ tool_call: { name: 'memory_insert' }, tool_calls: { name: 'memory_insert' } });
    expect(pieces.map((p) => ('tool_call' in p ? (p.tool_call.arguments ?? '') : '')).join('')).toBe(
      '{"label":"human","new_string":"The caller lives in Oslo.","insert_line":-1}',
    );
    expect(types.indexOf('tool_return_message')).toBeLessThan(types.indexOf('assistant_message'));
    expect(types.slice(-2)).toEqual(['stop_reason', 'usage_statistics']);

    const steps = await collect(
      await letta.agents.messages.create(agent.id, { input: 'I love jazz.', streaming: true }),
    );
    expect(steps.map((e) => e.message_type)).toEqual([
      'ping',
      'tool_call_message',
      'tool_return_message',
      'assistant_message',
      'stop_reason',
      'usage_statistics',
    ]);
  });

  it('takes no lock (two writes for one agent both run), has no message search, and refuses handles it does not list', async () => {
    const slow = await startOpenAIStandIn({ respond: () => ({ content: 'slow reply', ttftMs: 200 }) });
    try {
      const s = await standIn({ server: 'self-hosted', modelBaseUrl: slow.url });
      const letta = client(s);
      const agent = await letta.agents.create({
        model: 'openai-proxy/gpt-4.1-mini',
        embedding: 'openai/text-embedding-3-small',
      });
      const both = await Promise.allSettled([
        letta.agents.messages.create(agent.id, { input: 'one' }),
        letta.agents.messages.create(agent.id, { input: 'two' }),
      ]);
      expect(both.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);

      const search = await failure(letta.messages.search({ query: 'one', agent_id: agent.id }));
      expect(search).toBeInstanceOf(BadRequestError);

      const handles = (await letta.models.list()).map((m) => m.handle);
      expect(handles).toContain('letta/letta-free');
      expect(handles).toContain('openai-proxy/gpt-4.1-mini');
      expect((await letta.models.embeddings.list()).map((m) => m.handle)).toContain('openai/text-embedding-3-small');
      const refused = await failure(letta.agents.create({ model: 'openai/gpt-4.1-mini' }));
      expect(refused).toBeInstanceOf(NotFoundError);
      expect((refused as NotFoundError).error).toEqual({
        detail: 'NOT_FOUND: Handle openai/gpt-4.1-mini not found, must be one of []',
      });
      const noEmbedding = await failure(
        letta.agents.create({ model: 'openai-proxy/gpt-4.1-mini', embedding: 'openai/text-embedding-9' }),
      );
      expect((noEmbedding as BadRequestError).error).toEqual({
        detail: 'INVALID_ARGUMENT: Embedding model openai/text-embedding-9 not found',
      });
    } finally {
      await slow.close();
    }
  });
});

describe('Letta stand-in: faults', () => {
  it('injects statuses (with Retry-After) for a count of requests, restricted by match', async () => {
    const s = await standIn();
    const letta = client(s);
    const agent = await newAgent(letta);
    await s.faults.set({ kind: 'status', status: 500, count: 1 });
    expect(await failure(letta.agents.blocks.list(agent.id))).toBeInstanceOf(InternalServerError);
    expect((await letta.agents.blocks.list(agent.id)).items).toHaveLength(2);

    await s.faults.set({
      kind: 'status',
      status: 429,
      retryAfterS: 3,
      match: { method: 'POST', path: /\/archival-memory$/ },
    });
    expect((await letta.agents.blocks.list(agent.id)).items).toHaveLength(2);
    const limited = await failure(letta.agents.passages.create(agent.id, { text: 'x' }));
    expect(limited).toBeInstanceOf(RateLimitError);
    expect((limited as RateLimitError).headers?.get('retry-after')).toBe('3');
    expect(await failure(letta.agents.passages.create(agent.id, { text: 'x' }))).toBeInstanceOf(RateLimitError);
    await s.faults.clear();
    expect(await letta.agents.passages.create(agent.id, { text: 'x' })).toHaveLength(1);
    expect(s.store.passages(agent.id)).toHaveLength(1);
  });

  it('resets the connection before answering: nothing is processed', async () => {
    const s = await standIn();
    const letta = client(s);
    const agent = await newAgent(letta);
    await s.faults.set({ kind: 'reset', count: 1 });
    const err = await failure(letta.agents.messages.create(agent.id, { input: 'hello' }));
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(err).not.toBeInstanceOf(APIConnectionTimeoutError);
    expect(s.store.messages(agent.id)).toEqual([]);
    expect(s.requests.at(-1)?.fault).toBe('reset');
  });

  it('loses the response of a processed write: the client errors, yet the message landed and its otid is findable', async () => {
    const s = await standIn();
    const letta = client(s);
    const agent = await newAgent(letta);
    const otid = randomUUID();
    await s.faults.set({ kind: 'lost-response', count: 1, match: { method: 'POST' } });
    const err = await failure(
      letta.agents.messages.create(agent.id, { messages: [{ role: 'user', content: 'did this land?', otid }] }),
    );
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(s.store.messages(agent.id).find((m) => m.message_type === 'user_message')?.otid).toBe(otid);
    const listed = await letta.agents.messages.list(agent.id);
    expect(listed.items.filter((m) => m.otid === otid)).toHaveLength(1);
    expect(s.requests.find((r) => r.fault === 'lost-response')?.status).toBe(200);
  });

  it('goes down (connection refused) and comes back on the same URL', async () => {
    const s = await standIn();
    const letta = client(s);
    await s.faults.set({ kind: 'down' });
    const err = await failure(letta.health());
    expect(err).toBeInstanceOf(APIConnectionError);
    const cause = (err as APIConnectionError).cause as { cause?: { code?: string } } | undefined;
    expect(cause?.cause?.code).toBe('ECONNREFUSED');
    await s.faults.clear();
    expect((await letta.health()).status).toBe('ok');

    await s.faults.set({ kind: 'down' });
    await s.faults.set({ kind: 'up' });
    expect((await client(s).health()).status).toBe('ok');
  });

  it('hangs until the client times out', async () => {
    const s = await standIn();
    const letta = client(s, { timeout: 200 });
    await s.faults.set({ kind: 'timeout', count: 1 });
    const t0 = performance.now();
    expect(await failure(letta.agents.list())).toBeInstanceOf(APIConnectionTimeoutError);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
    expect(s.requests.at(-1)?.fault).toBe('timeout');
    expect((await letta.agents.list()).items).toEqual([]);
  });

  it('delays matching requests by an injected latency', async () => {
    const s = await standIn();
    const letta = client(s);
    await s.faults.set({ kind: 'latency', ms: 150, match: { path: /^\/v1\/agents\/$/ } });
    const t0 = performance.now();
    await letta.agents.list();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    const t1 = performance.now();
    await letta.health();
    expect(performance.now() - t1).toBeLessThan(140);
  });
});

describe('Letta stand-in: command line', () => {
  it('prints its URL as one JSON line and serves until SIGTERM', async () => {
    const child = spawn(process.execPath, ['sim/letta.ts', '--port', '0', '--profile', 'instant', '--seed', '7'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const announced = JSON.parse(line) as { service: string; url: string };
      expect(announced.service).toBe('letta');
      const letta = new Letta({ baseURL: announced.url, apiKey: 'test', maxRetries: 0 });
      expect(await letta.health()).toEqual({ version: '0.16.8', status: 'ok' });
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});
