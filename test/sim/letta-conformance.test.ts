/**
 * Checks the Letta stand-in against Letta's published OpenAPI schema (the voice-worker subset kept
 * next to the project on development machines and CI, never copied into it): every route it serves
 * is in the schema (the hidden capture route is not; the runs list is in Letta's full schema but not
 * in the subset, so its items are checked against the subset's Run component), and every response
 * body it sends, success or error, validates against the schema's response for that path, method
 * and status.
 *
 * Where the archived server sends something the schema does not describe, the stand-in sends what
 * the server sends, and this test says so explicitly:
 * - 422 from request validation: `{trace_id, detail: <repr() of the error list, a string>, examples?}`,
 *   while the schema's HTTPValidationError declares `detail` an array of ValidationError;
 * - 422 raised by handlers ("Messages must not be empty", streaming options): `{detail: <string>}`;
 * - 401/404/409 are not in the schema at all: `{detail: <string>}` (409 may add `run_id`);
 * - SSE pings and `event: error` payloads have no component in the subset: checked against the
 *   official client's LettaPing / LettaErrorMessage types instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Letta, { APIError } from '@letta-ai/letta-client';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { projectRoot } from '../helpers/run.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  lettaRoutes,
  startLettaStandIn,
  type LettaStandIn,
  startOpenAIStandIn,
  type OpenAIStandIn,
} from '../../sim/index.ts';

const schemaPath = path.resolve(projectRoot, '../shared/letta-openapi-voice-subset.json');
const present = existsSync(schemaPath);

type Json = Record<string, unknown>;
interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}

/** The archived server's shapes for what the schema leaves out (see the header comment). */
const AS_SERVED = {
  requestValidation: {
    type: 'object',
    required: ['trace_id', 'detail'],
    properties: {
      trace_id: { type: 'string' },
      detail: { type: 'string' },
      examples: { type: 'array', items: { type: 'string' } },
    },
    additionalProperties: false,
  },
  detail: {
    type: 'object',
    required: ['detail'],
    properties: { detail: { type: 'string' }, run_id: { type: 'string' } },
    additionalProperties: false,
  },
  capture: {
    type: 'object',
    required: ['success', 'messages_created', 'run_ids'],
    properties: {
      success: { type: 'boolean' },
      messages_created: { type: 'integer' },
      run_ids: { type: 'array', items: { type: 'string' } },
    },
    additionalProperties: false,
  },
  ping: {
    type: 'object',
    required: ['id', 'date', 'message_type'],
    properties: {
      id: { type: 'string' },
      date: { type: 'string', format: 'date-time' },
      message_type: { const: 'ping' },
      run_id: { type: ['string', 'null'] },
    },
  },
  errorMessage: {
    type: 'object',
    required: ['error_type', 'message', 'message_type', 'run_id'],
    properties: {
      error_type: { type: 'string' },
      message: { type: 'string' },
      message_type: { const: 'error_message' },
      run_id: { type: 'string' },
      detail: { type: 'string' },
    },
  },
} as const;

const suite = present ? describe : describe.skip;
const title = present
  ? "Letta stand-in conforms to Letta's OpenAPI schema (voice-worker subset)"
  : '../shared/letta-openapi-voice-subset.json not present (only on development machines and CI)';

suite(title, () => {
  let spec: OpenApi;
  let ajv: Ajv2020;
  let openai: OpenAIStandIn;
  let s: LettaStandIn;
  let letta: Letta;
  let agentId: string;
  const compiled = new Map<string, ValidateFunction>();
  /** `METHOD template` → statuses whose bodies were validated. */
  const covered = new Map<string, Set<number>>();

  beforeAll(async () => {
    spec = JSON.parse(readFileSync(schemaPath, 'utf8')) as OpenApi;
    ajv = new Ajv2020({ strict: false, allErrors: true });
    // The only format the subset uses; checked loosely (RFC 3339).
    ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i);
    ajv.addSchema({ $id: 'letta-components', $defs: rewriteRefs(spec.components.schemas) });
    openai = await startOpenAIStandIn();
    s = await startLettaStandIn({ modelBaseUrl: openai.url });
    letta = new Letta({ baseURL: s.url, apiKey: 'test', maxRetries: 0 });
  });
  afterAll(async () => {
    await s.close();
    await openai.close();
  });

  function rewriteRefs<T>(schema: T): T {
    return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"letta-components#/$defs/')) as T;
  }

  function validator(key: string, schema: unknown): ValidateFunction {
    let v = compiled.get(key);
    if (!v) {
      v = ajv.compile(rewriteRefs(schema as object));
      compiled.set(key, v);
    }
    return v;
  }

  function assertValid(v: ValidateFunction, body: unknown, what: string): void {
    if (!v(body)) throw new Error(`${what}: ${ajv.errorsText(v.errors)}\n${JSON.stringify(body).slice(0, 2000)}`);
  }

  function component(name: string): ValidateFunction {
    return validator(`component ${name}`, { $ref: `#/components/schemas/${name}` });
  }

  function record(method: string, template: string, status: number): void {
    const key = `${method} ${template}`;
    if (!covered.has(key)) covered.set(key, new Set());
    covered.get(key)?.add(status);
  }

  /** Validates a body against the schema's response for template/method/status. */
  function conforms(method: string, template: string, status: number, body: unknown): void {
    const op = spec.paths[template]?.[method.toLowerCase()];
    expect(op, `${method} ${template} in the schema`).toBeDefined();
    const schema = op?.responses[String(status)]?.content?.['application/json']?.schema;
    expect(schema, `${method} ${template} ${status} in the schema`).toBeDefined();
    assertValid(validator(`${method} ${template} ${status}`, schema), body, `${method} ${template} ${status}`);
    record(method, template, status);
  }

  /** A 422 from request validation: the server's string `detail`, which HTTPValidationError does not describe. */
  function conforms422(method: string, template: string, body: unknown): void {
    expect(spec.paths[template]?.[method.toLowerCase()]?.responses['422']).toBeDefined();
    assertValid(validator('as-served 422', AS_SERVED.requestValidation), body, `${method} ${template} 422`);
    expect(component('HTTPValidationError')(body), 'the schema would reject what the server sends').toBe(false);
    record(method, template, 422);
  }

  /** A `{detail}` error for a status the schema has no entry for (or a handler-raised 422). */
  function conformsDetail(method: string, template: string, status: number, body: unknown): void {
    if (status !== 422) expect(spec.paths[template]?.[method.toLowerCase()]?.responses[String(status)]).toBeUndefined();
    assertValid(validator('as-served detail', AS_SERVED.detail), body, `${method} ${template} ${status}`);
    record(method, template, status);
  }

  async function ok(p: { asResponse(): Promise<Response> }): Promise<unknown> {
    const res = await p.asResponse();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    return res.json();
  }

  async function err(p: Promise<unknown>): Promise<{ status: number; body: unknown }> {
    const e = await p.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(APIError);
    return { status: (e as APIError).status ?? 0, body: (e as APIError).error };
  }

  async function raw(method: string, url: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const res = await fetch(s.url + url, {
      method,
      headers: {
        authorization: 'Bearer test',
        'content-type': 'application/json',
        'x-stainless-package-version': '1.12.1',
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: await res.json() };
  }

  function sseEvents(text: string): { event: string | null; data: string }[] {
    return text
      .split('\n\n')
      .filter((chunk) => chunk.trim() !== '')
      .map((chunk) => {
        const lines = chunk.split('\n');
        const event =
          lines
            .find((l) => l.startsWith('event:'))
            ?.slice(6)
            .trim() ?? null;
        const data = lines
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trimStart())
          .join('\n');
        return { event, data };
      });
  }

  /** Every SSE payload against its component (or, where the subset has none, the client's type). */
  function conformsStream(text: string): string[] {
    const events = sseEvents(text);
    expect(events.at(-1)?.data).toBe('[DONE]');
    return events.slice(0, -1).map(({ event, data }) => {
      const e = JSON.parse(data) as Json;
      const type = String(e.message_type);
      if (event === 'error') assertValid(validator('as-served error', AS_SERVED.errorMessage), e, 'SSE error event');
      else if (type === 'ping') assertValid(validator('as-served ping', AS_SERVED.ping), e, 'SSE ping');
      else if (type === 'stop_reason') assertValid(component('LettaStopReason'), e, 'SSE stop_reason');
      else if (type === 'usage_statistics') assertValid(component('LettaUsageStatistics'), e, 'SSE usage_statistics');
      else assertValid(component('LettaMessageUnion'), e, `SSE ${type}`);
      return event === 'error' ? 'error' : type;
    });
  }

  it('serves only routes in the schema, except the hidden capture route and the runs list', () => {
    for (const r of lettaRoutes) {
      const inSchema = spec.paths[r.path]?.[r.method.toLowerCase()] !== undefined;
      expect(inSchema, `${r.method} ${r.path}`).toBe(!r.hidden && !r.outsideSubset);
    }
    expect(lettaRoutes.filter((r) => r.outsideSubset).map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /v1/runs/',
      'POST /v1/messages/search',
      'GET /v1/models/',
      'GET /v1/models/embedding',
    ]);
    expect(lettaRoutes.filter((r) => r.hidden).map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /v1/agents/{agent_id}/messages/capture',
    ]);
    expect(spec.paths['/v1/agents/{agent_id}/messages/capture']).toBeUndefined();
  });

  it('health and agents', async () => {
    conforms('GET', '/v1/health/', 200, await ok(letta.health()));

    const created = (await ok(
      letta.agents.create({
        name: 'conformance',
        tags: ['lk-user:1'],
        model: 'openai/gpt-4o-mini',
        embedding: 'openai/text-embedding-3-small',
        memory_blocks: [
          { label: 'human', value: 'Name: Ada' },
          { label: 'persona', value: 'Helpful.' },
        ],
      }),
    )) as { id: string };
    conforms('POST', '/v1/agents/', 200, created);
    agentId = created.id;
    const bad = await err(letta.agents.create({ embedding: 'no-provider' }));
    expect(bad.status).toBe(422);
    conforms422('POST', '/v1/agents/', bad.body);

    conforms(
      'GET',
      '/v1/agents/',
      200,
      await ok(letta.agents.list({ tags: ['lk-user:1'], match_all_tags: true, include: ['agent.blocks'] })),
    );
    conforms('GET', '/v1/agents/', 200, await ok(letta.agents.list()));
    const badLimit = await raw('GET', '/v1/agents/?limit=many');
    expect(badLimit.status).toBe(422);
    conforms422('GET', '/v1/agents/', badLimit.body);

    conforms(
      'GET',
      '/v1/agents/{agent_id}',
      200,
      await ok(letta.agents.retrieve(agentId, { include: ['agent.blocks', 'agent.tags'] })),
    );
    conforms('GET', '/v1/agents/{agent_id}', 200, await ok(letta.agents.retrieve(agentId)));
    const badId = await err(letta.agents.retrieve('agent-1'));
    expect(badId.status).toBe(422);
    conforms422('GET', '/v1/agents/{agent_id}', badId.body);
    const missing = await err(letta.agents.retrieve('agent-123e4567-e89b-42d3-8456-426614174000'));
    expect(missing.status).toBe(404);
    conformsDetail('GET', '/v1/agents/{agent_id}', 404, missing.body);

    const secured = await startLettaStandIn({ apiKey: 'secret' });
    try {
      const denied = await err(new Letta({ baseURL: secured.url, apiKey: 'wrong', maxRetries: 0 }).agents.list());
      expect(denied.status).toBe(401);
      conformsDetail('GET', '/v1/agents/', 401, denied.body);
    } finally {
      await secured.close();
    }
  });

  it('core-memory blocks', async () => {
    const list = '/v1/agents/{agent_id}/core-memory/blocks';
    const one = '/v1/agents/{agent_id}/core-memory/blocks/{block_label}';
    conforms('GET', list, 200, await ok(letta.agents.blocks.list(agentId)));
    const badOrder = await raw('GET', `/v1/agents/${agentId}/core-memory/blocks?order=sideways`);
    expect(badOrder.status).toBe(422);
    conforms422('GET', list, badOrder.body);

    conforms('GET', one, 200, await ok(letta.agents.blocks.retrieve('human', { agent_id: agentId })));
    const noLabel = await err(letta.agents.blocks.retrieve('nope', { agent_id: agentId }));
    expect(noLabel.status).toBe(404);
    conformsDetail('GET', one, 404, noLabel.body);
    const badAgent = await err(letta.agents.blocks.retrieve('human', { agent_id: 'agent-x' }));
    conforms422('GET', one, badAgent.body);

    conforms(
      'PATCH',
      one,
      200,
      await ok(
        letta.agents.blocks.update('human', {
          agent_id: agentId,
          value: 'Name: Ada\nLikes tea',
          description: 'The user',
        }),
      ),
    );
    const badValue = await raw('PATCH', `/v1/agents/${agentId}/core-memory/blocks/human`, { value: 42 });
    expect(badValue.status).toBe(422);
    conforms422('PATCH', one, badValue.body);
  });

  /**
   * The server's passages carry `organization_id`, which the schema's Passage (no additional
   * properties) does not describe: checked here, then left out for the schema.
   */
  function servedPassages(body: unknown): unknown {
    const ps = body as Json[];
    for (const p of ps) expect(p.organization_id).toMatch(/^org-/);
    return ps.map(({ organization_id: _org, ...p }) => p);
  }

  it('archival memory', async () => {
    const base = '/v1/agents/{agent_id}/archival-memory';
    conforms(
      'POST',
      base,
      200,
      servedPassages(await ok(letta.agents.passages.create(agentId, { text: 'User: I like tea', tags: ['turn'] }))),
    );
    conforms(
      'POST',
      base,
      200,
      servedPassages(
        await ok(letta.agents.passages.create(agentId, { text: 'dated', created_at: '2026-01-02T03:04:05Z' })),
      ),
    );
    const noText = await raw('POST', `/v1/agents/${agentId}/archival-memory`, { tags: ['turn'] });
    expect(noText.status).toBe(422);
    conforms422('POST', base, noText.body);

    conforms('GET', base, 200, servedPassages(await ok(letta.agents.passages.list(agentId, { ascending: false }))));
    const badAsc = await raw('GET', `/v1/agents/${agentId}/archival-memory?ascending=perhaps`);
    conforms422('GET', base, badAsc.body);

    conforms(
      'GET',
      `${base}/search`,
      200,
      await ok(letta.agents.passages.search(agentId, { query: 'tea', tags: ['turn'], top_k: 3 })),
    );
    const noQuery = await raw('GET', `/v1/agents/${agentId}/archival-memory/search`);
    expect(noQuery.status).toBe(422);
    conforms422('GET', `${base}/search`, noQuery.body);
  });

  it('messages: JSON, step and token streams, errors and history', async () => {
    const base = '/v1/agents/{agent_id}/messages';
    conforms(
      'POST',
      base,
      200,
      await ok(
        letta.agents.messages.create(agentId, { messages: [{ role: 'user', content: 'Hello', otid: 'otid-1' }] }),
      ),
    );

    const stepRes = await letta.agents.messages
      .create(agentId, { input: 'Step streaming', streaming: true })
      .asResponse();
    expect(stepRes.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(spec.paths[base]?.post?.responses['200']?.content?.['text/event-stream']).toBeDefined();
    expect(conformsStream(await stepRes.text())).toEqual([
      'ping',
      'assistant_message',
      'stop_reason',
      'usage_statistics',
    ]);
    const tokenRes = await letta.agents.messages
      .create(agentId, { input: 'Token streaming', streaming: true, stream_tokens: true })
      .asResponse();
    const tokenTypes = conformsStream(await tokenRes.text());
    expect(tokenTypes.filter((t) => t === 'assistant_message').length).toBeGreaterThan(1);
    openai.failNext({ status: 500, message: 'boom' });
    const failed = await letta.agents.messages.create(agentId, { input: 'Fail', streaming: true }).asResponse();
    expect(conformsStream(await failed.text())).toEqual(['ping', 'stop_reason', 'error']);

    const empty = await err(letta.agents.messages.create(agentId, { messages: [] }));
    expect(empty.status).toBe(422);
    conformsDetail('POST', base, 422, empty.body);
    const both = await err(
      letta.agents.messages.create(agentId, { input: 'a', messages: [{ role: 'user', content: 'b' }] }),
    );
    conforms422('POST', base, both.body);
    const badRole = await raw('POST', `/v1/agents/${agentId}/messages`, {
      messages: [{ role: 'robot', content: 'x' }],
    });
    conforms422('POST', base, badRole.body);

    const slow = await startOpenAIStandIn({ respond: () => ({ content: 'slow reply', ttftMs: 300 }) });
    const busyStandIn = await startLettaStandIn({ modelBaseUrl: slow.url });
    try {
      const busyClient = new Letta({ baseURL: busyStandIn.url, apiKey: 'test', maxRetries: 0 });
      const agent = await busyClient.agents.create({ name: 'busy' });
      const first = busyClient.agents.messages.create(agent.id, { input: 'one' });
      await new Promise((r) => setTimeout(r, 50));
      const busy = await err(busyClient.agents.messages.create(agent.id, { input: 'two' }));
      expect(busy.status).toBe(409);
      conformsDetail('POST', base, 409, busy.body);
      await first;
    } finally {
      await busyStandIn.close();
      await slow.close();
    }

    conforms(
      'GET',
      base,
      200,
      await ok(
        letta.agents.messages.list(agentId, {
          order: 'asc',
          include_return_message_types: ['user_message', 'assistant_message'],
        }),
      ),
    );
    const badTypes = await raw('GET', `/v1/agents/${agentId}/messages?include_return_message_types=not_a_type`);
    conforms422('GET', base, badTypes.body);
  });

  it("messages with Letta's memory tools (memoryEdits: 'tools'): tool calls and returns, JSON and streamed", async () => {
    const base = '/v1/agents/{agent_id}/messages';
    const tools = await startLettaStandIn({ modelBaseUrl: openai.url, memoryEdits: 'tools' });
    try {
      const client = new Letta({ baseURL: tools.url, apiKey: 'test', maxRetries: 0 });
      const agent = await client.agents.create({ memory_blocks: [{ label: 'human', value: 'Nothing yet.' }] });
      const json = (await ok(client.agents.messages.create(agent.id, { input: 'My name is Ada. I keep bees.' }))) as {
        messages: Json[];
      };
      expect(json.messages.map((m) => m.message_type)).toEqual([
        'tool_call_message',
        'tool_return_message',
        'assistant_message',
      ]);
      conforms('POST', base, 200, json);
      // A new fact each time: the model files only what the block does not hold yet.
      for (const [tokens, fact] of [
        [true, 'I live in Oslo.'],
        [false, 'I love jazz.'],
      ] as const) {
        const res = await client.agents.messages
          .create(agent.id, { input: fact, streaming: true, stream_tokens: tokens })
          .asResponse();
        const types = conformsStream(await res.text());
        expect(types).toContain('tool_call_message');
        expect(types).toContain('tool_return_message');
      }
      conforms('GET', base, 200, await ok(client.agents.messages.list(agent.id, { order: 'asc' })));
    } finally {
      await tools.close();
    }
  });

  it('async messages and runs', async () => {
    const run = (await ok(letta.agents.messages.createAsync(agentId, { input: 'Later' }))) as { id: string };
    conforms('POST', '/v1/agents/{agent_id}/messages/async', 200, run);
    const badAsync = await err(letta.agents.messages.createAsync('agent-nope', { input: 'x' }));
    conforms422('POST', '/v1/agents/{agent_id}/messages/async', badAsync.body);

    let body = (await ok(letta.runs.retrieve(run.id))) as { status: string };
    for (let i = 0; i < 100 && body.status !== 'completed'; i++) {
      await new Promise((r) => setTimeout(r, 10));
      body = (await ok(letta.runs.retrieve(run.id))) as { status: string };
    }
    expect(body.status).toBe('completed');
    conforms('GET', '/v1/runs/{run_id}', 200, body);
    const unknown = await err(letta.runs.retrieve('run-unknown'));
    expect(unknown.status).toBe(404);
    conformsDetail('GET', '/v1/runs/{run_id}', 404, unknown.body);
  });

  it('message search (outside the subset): user and assistant messages of the agent, as the client types them', async () => {
    await ok(letta.agents.messages.create(agentId, { input: 'My favourite tree is the rowan.' }));
    const found = (await ok(letta.messages.search({ query: 'favourite rowan', agent_id: agentId }))) as Json[];
    expect(found.length).toBeGreaterThan(0);
    for (const m of found) {
      expect(m).toMatchObject({ agent_id: agentId, message_id: expect.any(String), created_at: expect.any(String) });
      expect(['user_message', 'assistant_message']).toContain(m.message_type);
    }
    record('POST', '/v1/messages/search', 200);
    const bad = await raw('POST', '/v1/messages/search', { agent_id: agentId });
    expect(bad.status).toBe(422);
    record('POST', '/v1/messages/search', 422);
  });

  it('runs list (outside the subset): every item a Run, filtered by agent and activity', async () => {
    const listed = (await ok(letta.runs.list({ agent_id: agentId }))) as Json[];
    expect(listed.length).toBeGreaterThan(0);
    for (const r of listed) assertValid(component('Run'), r, 'GET /v1/runs/ item');
    expect(listed.every((r) => r.agent_id === agentId)).toBe(true);
    expect(await ok(letta.runs.list({ agent_id: agentId, active: true }))).toEqual([]);
    record('GET', '/v1/runs/', 200);
    const bad = await raw('GET', '/v1/runs/?limit=many');
    expect(bad.status).toBe(422);
    assertValid(validator('as-served 422', AS_SERVED.requestValidation), bad.body, 'runs list 422');
    record('GET', '/v1/runs/', 422);
  });

  it('models lists (outside the subset): every item a Model / EmbeddingModel of the client, with a handle', async () => {
    const llms = (await ok(letta.models.list())) as Json[];
    expect(llms.length).toBeGreaterThan(0);
    for (const m of llms) expect(m).toMatchObject({ handle: expect.stringMatching(/^[^/]+\/.+/), model_type: 'llm' });
    record('GET', '/v1/models/', 200);
    const bad = await raw('GET', '/v1/models/?provider_category=nope');
    expect(bad.status).toBe(422);
    assertValid(validator('as-served 422', AS_SERVED.requestValidation), bad.body, 'models list 422');
    record('GET', '/v1/models/', 422);

    const embeddings = (await ok(letta.models.embeddings.list())) as Json[];
    expect(embeddings.map((m) => m.handle)).toContain('openai/text-embedding-3-small');
    for (const m of embeddings) expect(m).toMatchObject({ model_type: 'embedding', embedding_dim: expect.any(Number) });
    record('GET', '/v1/models/embedding', 200);
    // It takes no parameters: the error it can answer is the 401 of a secured server.
    const secured = await startLettaStandIn({ apiKey: 'secret' });
    try {
      const denied = await fetch(`${secured.url}/v1/models/embedding`);
      expect(denied.status).toBe(401);
      assertValid(validator('as-served detail', AS_SERVED.detail), await denied.json(), 'embedding models 401');
      record('GET', '/v1/models/embedding', 401);
    } finally {
      await secured.close();
    }
  });

  it('capture (hidden from the schema): the archived server shapes', async () => {
    const template = '/v1/agents/{agent_id}/messages/capture';
    const good = await raw('POST', `/v1/agents/${agentId}/messages/capture`, {
      provider: 'openai',
      model: 'gpt-4o-mini',
      request_messages: [{ role: 'user', content: 'Hi' }],
      response_dict: { role: 'assistant', content: 'Hello!' },
    });
    expect(good.status).toBe(200);
    assertValid(validator('as-served capture', AS_SERVED.capture), good.body, 'capture 200');
    record('POST', template, 200);
    const bad = await raw('POST', `/v1/agents/${agentId}/messages/capture`, { provider: 'openai' });
    expect(bad.status).toBe(422);
    assertValid(validator('as-served 422', AS_SERVED.requestValidation), bad.body, 'capture 422');
    record('POST', template, 422);
  });

  it('exercised every route with a success and an error', () => {
    for (const r of lettaRoutes) {
      const statuses = [...(covered.get(`${r.method} ${r.path}`) ?? [])];
      expect(statuses, `${r.method} ${r.path}`).toContain(200);
      if (r.path !== '/v1/health/')
        expect(
          statuses.some((st) => st >= 400),
          `${r.method} ${r.path} error`,
        ).toBe(true);
    }
  });
});
