/**
 * The stand-in held to the server: one sequence of calls, made through the official client the way
 * the product makes them (its client factory, agent template, transcript, capture body and its own
 * read functions), against Letta's own server and against the Letta stand-in (sim/letta.ts, over an
 * OpenAI stand-in of its own that answers as the server's does). Every response is normalised
 * (ids to their prefix, dates, token counts and durations to placeholders, the sent `otid`s to their
 * names) and compared field by field, call by call; a difference shows both sides.
 *
 * The stand-in runs with `server: 'self-hosted'` and `memoryEdits: 'tools'`. Its defaults differ on
 * purpose, and the last tests pin both behaviours down explicitly: Letta Cloud's busy 409 and message
 * search ('cloud'), and the deterministic memory notes every other test relies on ('notes').
 *
 * Left out of the comparison, knowingly (nothing in the product reads them): the agent's system
 * prompt text, its tool list and compaction settings, and the model server's port in endpoints.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Letta from '@letta-ai/letta-client';
import { APIError } from '@letta-ai/letta-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  defaultResponder,
  type LettaStandIn,
  type OpenAIStandIn,
  startLettaStandIn,
  startOpenAIStandIn,
} from '../../sim/index.ts';
import { AgentDirectory } from '../../src/memory/agent-directory.ts';
import { callerAgentTemplate, callerTag } from '../../src/memory/agent-template.ts';
import { createLettaClient } from '../../src/memory/letta-client.ts';
import {
  type Batch,
  LettaWrites,
  batchLanded,
  captureBody,
  defaultCaptureModel,
  frameTranscript,
  messageText,
} from '../../src/memory/letta-writes.ts';
import { Recall } from '../../src/memory/recall.ts';
import type { Turn } from '../../src/memory/turn.ts';
import { recordingLogger } from '../memory/helpers.ts';
import { lettaUrl, proxyModel, setStepDelay, waitFor } from './helpers.ts';

const EMBEDDING = 'openai/text-embedding-3-small';
/** The product's call timeout for these (generous: a real agent step on two cores). */
const TIMEOUT_MS = 60_000;
const SLOW_STEP_MS = 1500;

interface Target {
  name: 'server' | 'stand-in';
  url: string;
  client: Letta;
  /** How long each model call of an agent step takes from now on. */
  stepDelay: (ms: number) => Promise<void>;
}

let openai: OpenAIStandIn;
let standIn: LettaStandIn;
let cloud: LettaStandIn;
let standInDelayMs = 0;
const logger = recordingLogger().logger;
let dir: string;

beforeAll(async () => {
  const answer = defaultResponder();
  openai = await startOpenAIStandIn({ respond: (req, i) => ({ ...answer(req, i), ttftMs: standInDelayMs }) });
  standIn = await startLettaStandIn({ modelBaseUrl: openai.url, server: 'self-hosted', memoryEdits: 'tools' });
  cloud = await startLettaStandIn({ modelBaseUrl: openai.url });
  dir = await mkdtemp(join(tmpdir(), 'letta-differential-'));
});
afterAll(async () => {
  await cloud.close();
  await standIn.close();
  await openai.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  standInDelayMs = 0;
  await setStepDelay(0);
});

const server: Target = {
  name: 'server',
  url: lettaUrl,
  client: createLettaClient({ baseURL: lettaUrl }, TIMEOUT_MS),
  stepDelay: setStepDelay,
};
function standInTarget(s: LettaStandIn): Target {
  return {
    name: 'stand-in',
    url: s.url,
    client: createLettaClient({ baseURL: s.url }, TIMEOUT_MS),
    stepDelay: async (ms) => void (standInDelayMs = ms),
  };
}

// ---------------------------------------------------------------------------------------------
// Normalising: what may differ between two runs of the same server is replaced by its shape.

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';
const ANY_UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const PREFIXED_ID = new RegExp(`\\b([a-z]+)-${UUID}\\b`, 'g');
const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?$/;
/** Token counts and timings: the two models count differently, and time is never the same. */
const VOLATILE = new Set([
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'context_tokens',
  'cached_input_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'ttft_ns',
  'total_duration_ns',
]);

/** Per target: the `otid`s and batch ids it was sent, by name, and the model server's URL. */
interface Names {
  otids: Map<string, string>;
  modelServer: string;
}

/** Whether `otid` is the server's own for message `id` (its UUID with the low seven bits set to an index). */
function derivedFrom(otid: string, id: unknown): boolean {
  if (typeof id !== 'string') return false;
  const u = id.replace(/^message-/, '');
  const hi = (hex: string) => Number.parseInt(hex.slice(-2), 16) & 0x80;
  return u.length === otid.length && u.slice(0, -2) === otid.slice(0, -2) && hi(u) === hi(otid);
}

function normString(s: string, names: Names): string {
  if (ISO_DATE.test(s) && !Number.isNaN(Date.parse(s))) return '<date>';
  let out = s.replaceAll(names.modelServer, '<model-server>');
  for (const [otid, name] of names.otids) out = out.replaceAll(otid, `<${name}>`);
  out = out
    .replace(PREFIXED_ID, '<$1-id>')
    .replace(/\bcall_[A-Za-z0-9]{24}\b/g, '<call-id>')
    .replace(/datetime\.datetime\([^)]*\)/g, 'datetime.datetime(<…>)')
    .replace(new RegExp(`^${ANY_UUID}$`), '<uuid>');
  return out;
}

function norm(v: unknown, names: Names, key = '', parent: Record<string, unknown> = {}): unknown {
  if (VOLATILE.has(key)) return '<n>';
  if (key === 'embedding' && Array.isArray(v)) return `<vector of ${v.length}>`;
  if (key === 'otid' && typeof v === 'string') {
    if (names.otids.has(v)) return `<${names.otids.get(v)}>`;
    return derivedFrom(v, parent.id) ? '<otid of its id>' : '<other otid>';
  }
  if (typeof v === 'string') return normString(v, names);
  if (Array.isArray(v)) {
    const items = v.map((x) => norm(x, names));
    // The server stores a passage's tags as a Python set: their order is the hash seed's.
    if (key === 'tags') return [...items].sort();
    // Blocks come in id order, which is random: by label instead.
    const labelled = v.every((x) => typeof x === 'object' && x !== null && 'label' in x);
    return labelled && v.length > 0
      ? [...items].sort((a, b) => String((a as { label: string }).label).localeCompare((b as { label: string }).label))
      : items;
  }
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).map((k) => [k, norm(o[k], names, k, o)]));
  }
  return v;
}

/** An agent as compared: what the server and the stand-in both send, less what is left out knowingly. */
function agentView(a: unknown): unknown {
  const { system: _s, tools: _t, compaction_settings: _c, ...rest } = a as Record<string, unknown>;
  return rest;
}

/** A message list as compared: the system message's text (the system prompt) is left out. */
function messagesView(ms: unknown[]): unknown[] {
  return ms.map((m) => {
    const x = m as Record<string, unknown>;
    return x.message_type === 'system_message' ? { ...x, content: '<system prompt>' } : x;
  });
}

/** A stream's events by type, consecutive ones counted: `[['ping', 1], ['assistant_message', 21], …]`. */
function runLengths(types: string[]): [string, number][] {
  const out: [string, number][] = [];
  for (const t of types) {
    const last = out.at(-1);
    if (last?.[0] === t) last[1]++;
    else out.push([t, 1]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Calls: the status and body of each, success or error.

interface Outcome {
  status: number;
  body: unknown;
}

async function outcome(p: { withResponse(): Promise<{ data: unknown; response: Response }> }): Promise<Outcome> {
  try {
    const { data, response } = await p.withResponse();
    const body = data && typeof data === 'object' && 'items' in data ? data.items : data;
    return { status: response.status, body };
  } catch (e) {
    if (e instanceof APIError) return { status: e.status ?? 0, body: e.error };
    throw e;
  }
}

async function raw(t: Target, method: string, path: string, body: string): Promise<Outcome> {
  const res = await fetch(`${t.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

/** Fixed times, so that the transcripts (and the replies quoting them) are the same on both sides. */
const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

function turn(agentId: string, n: number, user: string, assistant: string): Turn {
  return {
    id: `turn-${n}`,
    agentId,
    callerIdentity: 'caller-7',
    sessionId: 'session-1',
    user,
    assistant,
    interrupted: false,
    userAt: T0 + n * 10_000,
    finishedAt: T0 + n * 10_000 + 4000,
  };
}

const GHOST = 'agent-00000000-0000-4000-8000-000000000000';

/**
 * The product's calls against one target, in order; each observation normalised. Returns the
 * observations by call, in call order.
 */
async function drive(t: Target, identity: string): Promise<Map<string, unknown>> {
  const c = t.client;
  const names: Names = { otids: new Map(), modelServer: t.name === 'server' ? '' : openai.url };
  const seen = new Map<string, unknown>();
  const see = (call: string, v: unknown): void => void seen.set(call, norm(v, names));
  const req = { timeoutMs: TIMEOUT_MS };

  // The caller's agent from the product's template, found again by its tag.
  const created = await outcome(c.agents.create(callerAgentTemplate(identity, proxyModel, EMBEDDING)));
  const agent = created.body as { id: string; message_ids?: string[] };
  const id = agent.id;
  // The server's model URL is only known from what it reports.
  if (t.name === 'server')
    names.modelServer = (created.body as { llm_config: { model_endpoint: string } }).llm_config.model_endpoint;
  see('agents.create', { status: created.status, agent: agentView(created.body) });
  const found = await outcome(c.agents.list({ tags: [callerTag(identity)], match_all_tags: true, limit: 10 }));
  see('agents.list by the caller tag', {
    status: found.status,
    same: (found.body as { id: string }[]).map((a) => a.id === id),
    agents: (found.body as unknown[]).map(agentView),
  });
  see('agents.list by tags', {
    both: (await c.agents.list({ tags: [callerTag(identity), 'voice-memory'], match_all_tags: true })).items.length,
    oneUnknown: (await c.agents.list({ tags: [callerTag(identity), 'nobody'], match_all_tags: true })).items.length,
    unknown: (await c.agents.list({ tags: [`${callerTag(identity)}-nobody`], match_all_tags: true })).items.length,
  });

  // Memory blocks: the read path, and a direct write.
  see('agents.blocks.list', await outcome(c.agents.blocks.list(id, { limit: 50 })));
  see('agents.blocks.retrieve human', await outcome(c.agents.blocks.retrieve('human', { agent_id: id })));
  see(
    'agents.blocks.update human',
    await outcome(c.agents.blocks.update('human', { agent_id: id, value: 'The caller is called Zed.' })),
  );
  see('agents.blocks.retrieve human after update', await outcome(c.agents.blocks.retrieve('human', { agent_id: id })));
  see('agents.blocks.retrieve unknown label', await outcome(c.agents.blocks.retrieve('nope', { agent_id: id })));

  // A batch through the agent (messages mode), JSON: the model files two facts with a memory tool.
  const batch: Batch = {
    id: randomUUID(),
    agentId: id,
    turns: [turn(id, 1, 'Hello, my name is Alice and I keep bees.', 'Nice to meet you, Alice.')],
  };
  names.otids.set(batch.id, 'batch 1 otid');
  const written = await outcome(
    c.agents.messages.create(
      id,
      { messages: [{ role: 'user', content: frameTranscript(batch), otid: batch.id }] },
      { timeout: TIMEOUT_MS },
    ),
  );
  const response = written.body as { messages: { message_type: string; run_id?: string; content?: unknown }[] };
  see('agents.messages.create (JSON)', written);
  see('agents.messages.create (JSON): one run, and the answer the product reads', {
    runs: new Set(response.messages.map((m) => m.run_id)).size,
    answer: response.messages
      .flatMap((m) => (m.message_type === 'assistant_message' ? [messageText(m.content)] : []))
      .join(' '),
  });
  see('human after a step with a memory tool', (await c.agents.blocks.retrieve('human', { agent_id: id })).value);

  // A typed message, token-streamed as the product streams it (letta-text.ts).
  const typed = randomUUID();
  names.otids.set(typed, 'typed otid');
  const stream = await c.agents.messages
    .create(
      id,
      { messages: [{ role: 'user', content: 'I live in Oslo.', otid: typed }], streaming: true, stream_tokens: true },
      { timeout: TIMEOUT_MS },
    )
    .withResponse();
  const events: Record<string, unknown>[] = [];
  for await (const e of stream.data) events.push(e as unknown as Record<string, unknown>);
  const pieces = (type: string) => events.filter((e) => e.message_type === type);
  const calls = pieces('tool_call_message').map((e) => e.tool_call as { name?: string; arguments?: string });
  see('agents.messages.create (stream_tokens)', {
    status: stream.response.status,
    contentType: stream.response.headers.get('content-type')?.split(';')[0],
    sequence: runLengths(events.map((e) => String(e.message_type))),
    // What the product reads: the assistant's deltas, joined, under one id.
    answer: pieces('assistant_message')
      .map((e) => messageText(e.content))
      .join(''),
    answerIds: new Set(pieces('assistant_message').map((e) => e.id)).size,
    firstToolCallPiece: pieces('tool_call_message')[0],
    toolCall: {
      name: calls.map((x) => x.name ?? '').join(''),
      arguments: calls.map((x) => x.arguments ?? '').join(''),
    },
    toolCallIds: new Set(pieces('tool_call_message').map((e) => e.id)).size,
    toolReturn: pieces('tool_return_message'),
    ping: pieces('ping'),
    end: events.slice(-2),
  });
  const plain = randomUUID();
  names.otids.set(plain, 'plain otid');
  const plainStream = await c.agents.messages.create(
    id,
    {
      messages: [{ role: 'user', content: 'What do you remember?', otid: plain }],
      streaming: true,
      stream_tokens: true,
    },
    { timeout: TIMEOUT_MS },
  );
  const plainTypes: string[] = [];
  for await (const e of plainStream) plainTypes.push(String(e.message_type));
  see('agents.messages.create (stream_tokens, no memory edit)', runLengths(plainTypes));
  see('human after streamed steps', (await c.agents.blocks.retrieve('human', { agent_id: id })).value);

  // A write whose step is slow: the run is active (the product's agentBusy), its otid not yet landed.
  const writes = new LettaWrites({ client: c, mode: 'messages', logger });
  const slow: Batch = { id: randomUUID(), agentId: id, turns: [turn(id, 2, 'Is it going to rain?', 'Maybe.')] };
  names.otids.set(slow.id, 'batch 2 otid');
  await t.stepDelay(SLOW_STEP_MS);
  const writing = writes.write(slow, req);
  await waitFor(
    async () => (await c.runs.list({ agent_id: id, active: true })).items.length > 0,
    10_000,
    `a run active on ${t.name}`,
  );
  see('runs.list active, during a step', await outcome(c.runs.list({ agent_id: id, active: true, limit: 20 })));
  see('during a step: agentBusy, batchLanded', {
    busy: await writes.agentBusy(slow, { ...req, maxRunMs: 60_000 }),
    landed: await batchLanded(c, 'messages', slow, req),
  });
  await writing;
  await t.stepDelay(0);
  see('runs.list active, after', await outcome(c.runs.list({ agent_id: id, active: true, limit: 20 })));
  see('after the step: agentBusy, batchLanded', {
    busy: await writes.agentBusy(slow, { ...req, maxRunMs: 60_000 }),
    landed: await batchLanded(c, 'messages', slow, req),
    first: await batchLanded(c, 'messages', batch, req),
    unknown: await batchLanded(c, 'messages', { ...slow, id: randomUUID() }, req),
  });
  see('runs.list all', await outcome(c.runs.list({ agent_id: id, limit: 20 })));

  // Capture: the product's body; the exchange lands outside the context window.
  const captured: Batch = {
    id: randomUUID(),
    agentId: id,
    turns: [turn(id, 3, 'I work as a baker.', 'That sounds lovely.'), turn(id, 4, 'I love jazz.', 'Me too.')],
  };
  names.otids.set(captured.id, 'batch 3 id');
  const inContext = (await c.agents.retrieve(id)).message_ids?.length;
  see(
    'POST /v1/agents/{id}/messages/capture',
    await outcome(c.post(`/v1/agents/${id}/messages/capture`, { body: captureBody(captured, defaultCaptureModel) })),
  );
  see('after capture', {
    inContextAdded: ((await c.agents.retrieve(id)).message_ids?.length ?? 0) - (inContext ?? 0),
    landed: await batchLanded(c, 'capture', captured, req),
    human: (await c.agents.blocks.retrieve('human', { agent_id: id })).value,
  });

  // The history: order, otids, contents.
  const desc = await outcome(c.agents.messages.list(id, { limit: 100, order: 'desc' }));
  see('agents.messages.list desc', { ...desc, body: messagesView(desc.body as unknown[]) });
  const asc = await outcome(c.agents.messages.list(id, { limit: 100, order: 'asc' }));
  see('agents.messages.list asc', { ...asc, body: messagesView(asc.body as unknown[]) });
  const newest = await outcome(c.agents.messages.list(id, { limit: 3, order: 'desc' }));
  see('agents.messages.list newest 3', { ...newest, body: messagesView(newest.body as unknown[]) });

  // Archival memory: the product's archival write, the list it checks, the search recall makes.
  const archival = new LettaWrites({ client: c, mode: 'archival', logger });
  const filed: Batch = {
    id: randomUUID(),
    agentId: id,
    turns: [turn(id, 5, 'My bees are called the Buzzers.', 'What a name!')],
  };
  names.otids.set(filed.id, 'batch 4 id');
  await archival.write(filed, req);
  see(
    'agents.passages.create',
    await outcome(c.agents.passages.create(id, { text: 'Alice plans a trip to Paris in spring.' })),
  );
  see(
    'agents.passages.create (tags, created_at)',
    await outcome(
      c.agents.passages.create(id, {
        text: 'Bob likes green tea.',
        tags: ['voice-turn'],
        created_at: new Date(T0 + 3_600_000).toISOString(),
      }),
    ),
  );
  see('agents.passages.list newest first', await outcome(c.agents.passages.list(id, { limit: 100, ascending: false })));
  see('agents.passages.list', await outcome(c.agents.passages.list(id, { limit: 100 })));
  // Only the best match of each query: passages that share nothing with a query tie, in no set order.
  see('agents.passages.search', await outcome(c.agents.passages.search(id, { query: 'bees', top_k: 1 })));
  see('agents.passages.search top 1', await outcome(c.agents.passages.search(id, { query: 'green tea', top_k: 1 })));
  see('archival batchLanded', {
    landed: await batchLanded(c, 'archival', filed, req),
    unknown: await batchLanded(c, 'archival', { ...filed, id: randomUUID() }, req),
  });
  const recalled = await new Recall({ client: c, logger, budgetMs: 10_000, perSource: 1 }).search(id, 'bees');
  see('Recall.search', recalled.replaceAll(new Date().toISOString().slice(0, 10), '<today>'));

  // Models: what the product offers when the server refuses a handle.
  see(
    'models.list handles',
    (await c.models.list()).map((m) => m.handle),
  );
  see(
    'models.embeddings.list handles',
    (await c.models.embeddings.list()).map((m) => m.handle),
  );

  // Errors: an unknown agent on every call the product makes, refused handles, malformed bodies.
  const ghostBatch: Batch = { id: randomUUID(), agentId: GHOST, turns: [turn(GHOST, 6, 'Hello?', 'Hi.')] };
  see('unknown agent', {
    'agents.retrieve': await outcome(c.agents.retrieve(GHOST)),
    'agents.blocks.list': await outcome(c.agents.blocks.list(GHOST, { limit: 50 })),
    'agents.blocks.retrieve': await outcome(c.agents.blocks.retrieve('human', { agent_id: GHOST })),
    'agents.blocks.update': await outcome(c.agents.blocks.update('human', { agent_id: GHOST, value: 'x' })),
    'agents.messages.create': await outcome(
      c.agents.messages.create(GHOST, { messages: [{ role: 'user', content: 'x' }] }),
    ),
    'agents.messages.create (stream)': await outcome(
      c.agents.messages.create(GHOST, { input: 'x', streaming: true, stream_tokens: true }),
    ),
    'agents.messages.list': await outcome(c.agents.messages.list(GHOST, { limit: 100, order: 'desc' })),
    'agents.passages.create': await outcome(c.agents.passages.create(GHOST, { text: 'x' })),
    'agents.passages.list': await outcome(c.agents.passages.list(GHOST, { limit: 100, ascending: false })),
    'agents.passages.search': await outcome(c.agents.passages.search(GHOST, { query: 'x' })),
    capture: await outcome(
      c.post(`/v1/agents/${GHOST}/messages/capture`, {
        body: captureBody(ghostBatch, defaultCaptureModel),
      }),
    ),
    'runs.list': await outcome(c.runs.list({ agent_id: GHOST, active: true, limit: 20 })),
  });
  see('malformed agent id', await outcome(c.agents.blocks.list('agent-123', { limit: 50 })));
  see('agents.create, refused handles', {
    unknownModel: await outcome(c.agents.create(callerAgentTemplate(`${identity}-x`, 'openai/gpt-4.1-mini'))),
    notAHandle: await outcome(c.agents.create(callerAgentTemplate(`${identity}-y`, 'gpt-4.1-mini'))),
    unknownEmbedding: await outcome(
      c.agents.create(callerAgentTemplate(`${identity}-z`, proxyModel, 'openai/text-embedding-9')),
    ),
  });
  const directory = new AgentDirectory({
    client: c,
    logger,
    template: (who) => callerAgentTemplate(who, 'openai/gpt-4.1-mini'),
    cacheFile: join(dir, `${t.name}-agents.json`),
  });
  see(
    'AgentDirectory.resolve with a refused model handle',
    await directory.resolve(`${identity}-refused`).then(
      () => 'resolved',
      (e: Error) => `${e.name}: ${e.message}`,
    ),
  );
  const path = `/v1/agents/${id}/messages`;
  see('malformed bodies', {
    messagesNotAList: await raw(t, 'POST', path, JSON.stringify({ messages: 'nope' })),
    noRole: await raw(t, 'POST', path, JSON.stringify({ messages: [{ content: 'no role' }] })),
    badRole: await raw(t, 'POST', path, JSON.stringify({ messages: [{ role: 'robot', content: 'x' }] })),
    contentNotText: await raw(t, 'POST', path, JSON.stringify({ messages: [{ role: 'user', content: 42 }] })),
    itemNotAnObject: await raw(t, 'POST', path, JSON.stringify({ messages: ['hi'] })),
    empty: await raw(t, 'POST', path, JSON.stringify({ messages: [] })),
    notJson: await raw(t, 'POST', path, '{not json'),
    truncatedJson: await raw(t, 'POST', `/v1/agents/${id}/archival-memory`, '{"text": '),
    passageWithoutText: await raw(t, 'POST', `/v1/agents/${id}/archival-memory`, JSON.stringify({ tags: ['x'] })),
    captureWithoutFields: await raw(t, 'POST', `${path}/capture`, JSON.stringify({ provider: 'openai' })),
  });
  see('message search', await outcome(c.messages.search({ query: 'bees', agent_id: id, limit: 5 })));
  return seen;
}

describe('the Letta stand-in against Letta’s own server', () => {
  it('answers the product’s calls as the server does, field by field', async () => {
    const identity = `diff-${randomUUID().slice(0, 8)}`;
    const real = await drive(server, identity);
    const sim = await drive(standInTarget(standIn), identity);
    expect([...sim.keys()]).toEqual([...real.keys()]);
    for (const [call, expected] of real) {
      // Expected: the server's answer; received: the stand-in's.
      expect.soft(sim.get(call), `${call}: the stand-in (received) vs the server (expected)`).toEqual(expected);
    }
  });

  /** Two writes for one agent at once, each a slow step. */
  async function concurrently(t: Target, agentId: string): Promise<number[]> {
    await t.stepDelay(300);
    const results = await Promise.all(
      [1, 2].map((n) =>
        outcome(
          t.client.agents.messages.create(agentId, {
            messages: [{ role: 'user', content: `At once [${n}]`, otid: randomUUID() }],
          }),
        ),
      ),
    );
    await t.stepDelay(0);
    return results.map((r) => r.status).sort();
  }

  it('two messages for one agent at once: the server runs both; the stand-in does too, but 409s as Letta Cloud by default', async () => {
    const template = (t: Target) => t.client.agents.create(callerAgentTemplate(`at-once-${randomUUID()}`, proxyModel));
    const onServer = await concurrently(server, (await template(server)).id);
    const selfHosted = standInTarget(standIn);
    const onStandIn = await concurrently(selfHosted, (await template(selfHosted)).id);
    const asCloud = standInTarget(cloud);
    const onCloud = await concurrently(asCloud, (await template(asCloud)).id);
    expect(onServer).toEqual([200, 200]);
    expect(onStandIn).toEqual(onServer);
    // Letta Cloud's conversation lock (with Redis): the stand-in's default, which the product's
    // writer must survive, and which the unit tiers use to catch two writes for one agent at once.
    expect(onCloud).toEqual([200, 409]);
  });

  it('message search: the server has none (400), the stand-in neither; Letta Cloud’s, the stand-in’s default, answers', async () => {
    const search = async (t: Target) => {
      const agent = await t.client.agents.create(callerAgentTemplate(`search-${randomUUID()}`, proxyModel));
      await t.client.agents.messages.create(agent.id, { messages: [{ role: 'user', content: 'I keep bees.' }] });
      return outcome(t.client.messages.search({ query: 'bees', agent_id: agent.id, limit: 5 }));
    };
    const onServer = await search(server);
    expect(onServer).toEqual({
      status: 400,
      body: { detail: 'Message search requires message embedding, OpenAI, and Turbopuffer to be enabled.' },
    });
    expect(await search(standInTarget(standIn))).toEqual(onServer);
    // Recall (src/memory/recall.ts) reads past messages from here when the server has it.
    const onCloud = await search(standInTarget(cloud));
    expect(onCloud.status).toBe(200);
    expect((onCloud.body as { message_type: string }[]).map((m) => m.message_type)).toContain('user_message');
  });

  it("memory edits: the server’s model edits with its tools, as the stand-in’s 'tools' mode; by default the stand-in files a note per message", async () => {
    const edit = async (t: Target) => {
      const agent = await t.client.agents.create(callerAgentTemplate(`edit-${randomUUID()}`, proxyModel));
      const r = await t.client.agents.messages.create(agent.id, {
        messages: [{ role: 'user', content: 'Hello, my name is Alice and I keep bees.' }],
      });
      const human = (await t.client.agents.blocks.retrieve('human', { agent_id: agent.id })).value;
      return { types: r.messages.map((m) => m.message_type), human };
    };
    const onServer = await edit(server);
    expect(onServer).toEqual({
      types: ['tool_call_message', 'tool_return_message', 'assistant_message'],
      human: "Nothing is known about this caller yet.\nThe caller's name is Alice.\nThe caller keeps bees.",
    });
    expect(await edit(standInTarget(standIn))).toEqual(onServer);
    // 'notes': one step, no tool call, and a note whatever the model says, so that every unit test
    // sees memory change with any scripted model (the server's edits depend on the model's choice).
    expect(await edit(standInTarget(cloud))).toEqual({
      types: ['assistant_message'],
      human: 'Nothing is known about this caller yet.\n- Hello, my name is Alice and I keep bees.',
    });
  });
});
