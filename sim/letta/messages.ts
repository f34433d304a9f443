/**
 * Message endpoints of the Letta stand-in: a turn through the agent (JSON, step-streamed or
 * token-streamed SSE, or async with a Run), the message history, and the hidden capture.
 */
import { randomUUID } from 'node:crypto';
import type {
  AssistantMessage,
  LettaResponse,
  LettaStreamingResponse,
  MessageType,
  SystemMessage,
  UserMessage,
} from '@letta-ai/letta-client/resources/agents/messages';
import { nowMs, sleep } from '../server.ts';
import { BUSY_DETAIL, HttpError, detailError, valueError } from './http.ts';
import type { Usage } from './llm.ts';
import { LlmError, buildPrompt, callModel, humanNote, textOf } from './llm.ts';
import type { Ctx, Deps, Route } from './routes.ts';
import { REPLIED, is1xSdk, requireAgent } from './routes.ts';
import type { AgentRecord, LettaMessage, MessageCreate, Run } from './store.ts';
import { isoNow, newId } from './store.ts';
import type { Json } from './validate.ts';
import { Checks, boolField, bodyObject, literalError, pageQuery, stringField, typeError } from './validate.ts';

const MESSAGE_TYPES: readonly MessageType[] = [
  'system_message',
  'user_message',
  'assistant_message',
  'reasoning_message',
  'hidden_reasoning_message',
  'tool_call_message',
  'tool_return_message',
  'approval_request_message',
  'approval_response_message',
  'summary_message',
  'event_message',
];

/** The server's keepalive: a ping after this long without any event. */
const KEEPALIVE_MS = 20_000;

interface Turn {
  inputs: MessageCreate[];
  /** Approval / tool-return inputs: nothing is pending in the stand-in, so these are refused. */
  unsupported: boolean;
  includeTypes: MessageType[] | null;
}

/** LettaRequest's body validation (input XOR messages, message shapes, return types). */
function parseTurn(c: Checks, b: Json): Turn {
  const hasInput = b.input !== undefined && b.input !== null;
  const hasMessages = b.messages !== undefined && b.messages !== null;
  const turn: Turn = { inputs: [], unsupported: false, includeTypes: null };
  if (hasInput && hasMessages)
    c.errors.push(valueError(['body'], "Cannot specify both 'input' and 'messages'. Use one or the other.", b));
  else if (!hasInput && !hasMessages)
    c.errors.push(valueError(['body'], "Must specify either 'input' or 'messages'.", b));
  else if (hasInput) {
    if (typeof b.input === 'string' || Array.isArray(b.input))
      turn.inputs.push({ role: 'user', content: b.input as MessageCreate['content'] });
    else
      c.errors.push({
        type: 'string_type',
        loc: ['body', 'input'],
        msg: 'Input should be a valid string',
        input: b.input,
      });
  } else if (!Array.isArray(b.messages)) {
    c.errors.push({
      type: 'list_type',
      loc: ['body', 'messages'],
      msg: 'Input should be a valid list',
      input: b.messages,
    });
  } else {
    b.messages.forEach((raw: unknown, i) => {
      const m = typeof raw === 'object' && raw !== null ? (raw as Json) : {};
      const type =
        m.type ??
        ('approval_request_id' in m || 'approve' in m || 'approvals' in m
          ? 'approval'
          : 'tool_returns' in m
            ? 'tool_return'
            : 'message');
      if (type !== 'message') {
        turn.unsupported = true;
        return;
      }
      const loc = ['body', 'messages', i];
      if (m.role === undefined)
        c.errors.push({ type: 'missing', loc: [...loc, 'role'], msg: 'Field required', input: m });
      else if (m.role !== 'user' && m.role !== 'system' && m.role !== 'assistant')
        c.errors.push(literalError([...loc, 'role'], ['user', 'system', 'assistant'], m.role));
      if (m.content === undefined)
        c.errors.push({ type: 'missing', loc: [...loc, 'content'], msg: 'Field required', input: m });
      else if (typeof m.content !== 'string' && !Array.isArray(m.content)) {
        c.errors.push(typeError('string_type', [...loc, 'content'], 'Input should be a valid string', m.content));
      }
      turn.inputs.push(m as unknown as MessageCreate);
    });
  }
  const types = b.include_return_message_types;
  if (Array.isArray(types)) {
    types.forEach((t: unknown, i) => {
      if (!MESSAGE_TYPES.includes(t as MessageType))
        c.errors.push(literalError(['body', 'include_return_message_types', i], MESSAGE_TYPES, t));
    });
    turn.includeTypes = types.filter((t): t is MessageType => MESSAGE_TYPES.includes(t as MessageType));
  }
  if (b.max_steps !== undefined && !Number.isInteger(b.max_steps)) {
    c.errors.push({
      type: 'int_type',
      loc: ['body', 'max_steps'],
      msg: 'Input should be a valid integer',
      input: b.max_steps,
    });
  }
  return turn;
}

function inputMessage(m: MessageCreate, runId: string | null, stepId: string | null): LettaMessage {
  const head = { id: newId('message'), date: isoNow(), name: m.name ?? null };
  const tail = {
    otid: m.otid ?? null,
    sender_id: m.sender_id ?? null,
    step_id: stepId,
    is_err: null,
    seq_id: null,
    run_id: runId,
  };
  if (m.role === 'system')
    return { ...head, message_type: 'system_message', ...tail, content: textOf(m.content) } satisfies SystemMessage;
  if (m.role === 'assistant')
    return {
      ...head,
      message_type: 'assistant_message',
      ...tail,
      content: textOf(m.content),
    } satisfies AssistantMessage;
  const content =
    typeof m.content === 'string'
      ? m.content
      : (m.content.filter((p) => p.type === 'text' || p.type === 'image') as UserMessage['content']);
  return { ...head, message_type: 'user_message', ...tail, content } satisfies UserMessage;
}

function usageStatistics(u: Usage): LettaResponse.Usage {
  return {
    message_type: 'usage_statistics',
    completion_tokens: u.completion_tokens,
    prompt_tokens: u.prompt_tokens,
    total_tokens: u.total_tokens,
    step_count: 1,
    run_ids: null,
    cached_input_tokens: null,
    cache_write_tokens: null,
    reasoning_tokens: null,
    context_tokens: u.prompt_tokens,
  };
}

/** The edit the agent makes to its `human` block after a turn (see `humanNote`). */
function noteTurn(deps: Deps, rec: AgentRecord, userTexts: string[]): void {
  const human = deps.store.blockByLabel(rec, 'human');
  const value = human && humanNote(human, userTexts);
  if (value !== undefined) deps.store.upsertBlock(rec, 'human', { value });
}

/** One message-creating request per agent at a time: a second one gets 409 (ConversationBusyError). */
function acquire(deps: Deps, rec: AgentRecord, background: boolean, runType: string, turn: Turn): Run {
  if (deps.busy.has(rec.base.id)) throw new HttpError(409, { detail: BUSY_DETAIL });
  const run = deps.store.createRun(rec.base.id, background, runType, turn.includeTypes);
  deps.busy.set(rec.base.id, run.id);
  return run;
}

interface TurnResult {
  assistant: AssistantMessage;
  usage: Usage;
}

/**
 * One agent step: the agent loop's overhead (profile `letta.agentLoop`), the model call, then the
 * inputs and the reply are persisted and memory is edited, as Letta checkpoints at step end.
 */
async function runTurn(
  deps: Deps,
  rec: AgentRecord,
  inputs: MessageCreate[],
  run: Run,
  onDelta?: (m: AssistantMessage) => void,
): Promise<TurnResult> {
  const t0 = nowMs();
  run.status = 'running';
  try {
    await sleep(deps.sample(deps.profile.letta.agentLoop), deps.signal);
    const stepId = newId('step');
    // Token deltas and the persisted reply share one id (clients join deltas by id).
    const assistantId = newId('message');
    const otid = randomUUID();
    const date = isoNow();
    const reply = (content: string): AssistantMessage => ({
      id: assistantId,
      date,
      name: null,
      message_type: 'assistant_message',
      otid,
      sender_id: null,
      step_id: stepId,
      is_err: null,
      seq_id: null,
      run_id: run.id,
      content,
    });
    let firstAt: number | undefined;
    const { text, usage } = await callModel({
      client: deps.llm,
      model: rec.base.llm_config.model,
      messages: buildPrompt(rec, deps.store.blocksOf(rec), inputs),
      stream: onDelta !== undefined,
      signal: deps.signal,
      onDelta: (d) => {
        firstAt ??= nowMs();
        onDelta?.(reply(d));
      },
    });
    const assistant = reply(text);
    deps.store.persist(rec, [...inputs.map((m) => inputMessage(m, run.id, stepId)), assistant], true);
    noteTurn(
      deps,
      rec,
      inputs.filter((m) => m.role === 'user').map((m) => textOf(m.content)),
    );
    const end = nowMs();
    Object.assign(run, {
      status: 'completed',
      stop_reason: 'end_turn',
      completed_at: isoNow(),
      ttft_ns: Math.round(((firstAt ?? end) - t0) * 1e6),
      total_duration_ns: Math.round((end - t0) * 1e6),
    } satisfies Partial<Run>);
    Object.assign(rec.base, {
      last_run_completion: run.completed_at,
      last_run_duration_ms: Math.round(end - t0),
      last_stop_reason: 'end_turn',
    });
    return { assistant, usage };
  } catch (e) {
    Object.assign(run, {
      status: 'failed',
      stop_reason: e instanceof LlmError ? 'llm_api_error' : 'error',
      completed_at: isoNow(),
      metadata: { ...run.metadata, error: e instanceof Error ? e.message : String(e) },
    } satisfies Partial<Run>);
    throw e;
  }
}

async function streamTurn(
  ctx: Ctx,
  rec: AgentRecord,
  turn: Turn,
  run: Run,
  streamTokens: boolean,
  includePings: boolean,
): Promise<typeof REPLIED> {
  const sse = ctx.reply.sse();
  let lastSent = nowMs();
  const send = (e: LettaStreamingResponse): void => {
    sse.send(e);
    lastSent = nowMs();
  };
  const ping = (): void =>
    send({
      id: newId('ping'),
      date: isoNow(),
      name: null,
      message_type: 'ping',
      otid: null,
      sender_id: null,
      step_id: null,
      is_err: null,
      seq_id: null,
      run_id: run.id,
    });
  // Since 2026-03 the server sends one ping immediately, so clients learn the run id early.
  if (includePings) ping();
  const keepalive = includePings ? setInterval(() => nowMs() - lastSent >= KEEPALIVE_MS && ping(), 1000) : undefined;
  const wantsAssistant = !turn.includeTypes || turn.includeTypes.includes('assistant_message');
  try {
    const r = await runTurn(
      ctx.deps,
      rec,
      turn.inputs,
      run,
      streamTokens ? (m) => wantsAssistant && send(m) : undefined,
    );
    if (!streamTokens && wantsAssistant) send(r.assistant);
    send({ message_type: 'stop_reason', stop_reason: 'end_turn' });
    send(usageStatistics(r.usage));
    sse.done();
  } catch (e) {
    // Before the first event the server can still answer with an HTTP error status.
    if (!sse.started) throw e;
    send({ message_type: 'stop_reason', stop_reason: e instanceof LlmError ? 'llm_api_error' : 'error' });
    sse.error({
      message_type: 'error_message',
      run_id: run.id,
      error_type: 'internal_error',
      message: 'An error occurred during agent execution.',
      detail: e instanceof Error ? e.message : String(e),
    });
    sse.done();
  } finally {
    clearInterval(keepalive);
  }
  return REPLIED;
}

async function sendMessage(ctx: Ctx): Promise<unknown> {
  const c = new Checks(ctx.query);
  const agentId = c.pathId('agent_id', ctx.params.agent_id ?? '');
  const b = bodyObject(c, ctx.body);
  const turn = parseTurn(c, b);
  const streaming = boolField(c, b, 'streaming', false);
  const streamTokens = boolField(c, b, 'stream_tokens', false);
  const includePings = boolField(c, b, 'include_pings', true);
  // `background` (Redis-backed resumable streams) is accepted and streamed in the foreground.
  const background = boolField(c, b, 'background', false);
  c.done();
  if (turn.inputs.length === 0 && !turn.unsupported) throw detailError(422, 'Messages must not be empty');
  if (!streaming) {
    const errs = [
      ...(streamTokens ? ['stream_tokens can only be true when streaming=true'] : []),
      ...(!includePings ? ['include_pings can only be set to false when streaming=true'] : []),
      ...(background ? ['background can only be true when streaming=true'] : []),
    ];
    if (errs.length > 0) {
      throw detailError(
        422,
        `Streaming options set without streaming enabled. ${errs.join('; ')}. Either set streaming=true or use default values for streaming options.`,
      );
    }
  }
  if (streaming && !is1xSdk(ctx.headers))
    throw detailError(422, 'streaming=true is only supported for SDK v1.0+ clients.');
  const rec = requireAgent(ctx, agentId);
  if (turn.unsupported)
    throw detailError(400, 'No tool call is currently awaiting approval (the Letta stand-in runs no tools).');
  const run = acquire(ctx.deps, rec, false, 'send_message', turn);
  try {
    await ctx.deps.hold(ctx.method, ctx.path);
    if (streaming) return await streamTurn(ctx, rec, turn, run, streamTokens, includePings);
    const r = await runTurn(ctx.deps, rec, turn.inputs, run);
    const wants = !turn.includeTypes || turn.includeTypes.includes('assistant_message');
    const res: LettaResponse = {
      messages: wants ? [r.assistant] : [],
      stop_reason: { message_type: 'stop_reason', stop_reason: 'end_turn' },
      usage: usageStatistics(r.usage),
      logprobs: null,
      turns: null,
    };
    return res;
  } catch (e) {
    throw e instanceof LlmError ? new HttpError(e.status, e.body) : e;
  } finally {
    ctx.deps.busy.delete(rec.base.id);
  }
}

async function sendAsync(ctx: Ctx): Promise<unknown> {
  const c = new Checks(ctx.query);
  const agentId = c.pathId('agent_id', ctx.params.agent_id ?? '');
  const b = bodyObject(c, ctx.body);
  const turn = parseTurn(c, b);
  stringField(c, b, ['body'], 'callback_url', false);
  c.done();
  const rec = requireAgent(ctx, agentId);
  if (turn.unsupported)
    throw detailError(400, 'No tool call is currently awaiting approval (the Letta stand-in runs no tools).');
  const run = acquire(ctx.deps, rec, true, 'send_message_async', turn);
  const created = structuredClone(run);
  void ctx.deps
    .hold(ctx.method, ctx.path)
    .then(() => runTurn(ctx.deps, rec, turn.inputs, run))
    .catch(() => undefined)
    .finally(() => ctx.deps.busy.delete(rec.base.id));
  return created;
}

async function listMessages(ctx: Ctx): Promise<unknown> {
  const c = new Checks(ctx.query);
  const agentId = c.pathId('agent_id', ctx.params.agent_id ?? '');
  const { after, before, limit, order } = pageQuery(c);
  const types = c.literalList('include_return_message_types', MESSAGE_TYPES);
  c.done();
  const rec = requireAgent(ctx, agentId);
  let ms = order === 'asc' ? [...rec.messages] : [...rec.messages].reverse();
  if (after !== null) {
    const i = ms.findIndex((m) => m.id === after);
    ms = i < 0 ? [] : ms.slice(i + 1);
  }
  if (before !== null) {
    const i = ms.findIndex((m) => m.id === before);
    if (i >= 0) ms = ms.slice(0, i);
  }
  if (types) ms = ms.filter((m) => types.includes(m.message_type as MessageType));
  return limit !== null && limit > 0 ? ms.slice(0, limit) : ms;
}

/**
 * The hidden capture endpoint: persists the user messages and the reply without an agent step
 * (and outside the agent's context window), then makes the same memory edit as a turn.
 */
async function capture(ctx: Ctx): Promise<unknown> {
  const c = new Checks(ctx.query);
  const agentId = c.pathId('agent_id', ctx.params.agent_id ?? '');
  const b = bodyObject(c, ctx.body);
  stringField(c, b, ['body'], 'provider', true);
  stringField(c, b, ['body'], 'model', true);
  if (b.request_messages === undefined)
    c.errors.push({ type: 'missing', loc: ['body', 'request_messages'], msg: 'Field required', input: b });
  else if (!Array.isArray(b.request_messages)) {
    c.errors.push(
      typeError('list_type', ['body', 'request_messages'], 'Input should be a valid list', b.request_messages),
    );
  }
  const resp = b.response_dict;
  if (resp === undefined)
    c.errors.push({ type: 'missing', loc: ['body', 'response_dict'], msg: 'Field required', input: b });
  else if (typeof resp !== 'object' || resp === null || Array.isArray(resp)) {
    c.errors.push(typeError('dict_type', ['body', 'response_dict'], 'Input should be a valid dictionary', resp));
  }
  c.done();
  const rec = requireAgent(ctx, agentId);
  if (ctx.deps.busy.has(rec.base.id)) throw new HttpError(409, { detail: BUSY_DETAIL });
  const userTexts = (b.request_messages as Json[]).filter((m) => m.role === 'user').map((m) => m.content);
  const replyText = (resp as Json).content;
  // The server builds TextContent(text=...) from these: anything but a string fails as a 500.
  if (!userTexts.every((t): t is string => typeof t === 'string') || typeof replyText !== 'string')
    throw new Error('content must be a string');
  const toPersist = [
    ...userTexts.map((content) => inputMessage({ role: 'user', content }, null, null)),
    inputMessage({ role: 'assistant', content: replyText }, null, null),
  ];
  ctx.deps.store.persist(rec, toPersist, false);
  rec.captures.push(b);
  noteTurn(ctx.deps, rec, userTexts);
  return { success: true, messages_created: toPersist.length, run_ids: [] };
}

export const messageRoutes: Route[] = [
  { method: 'POST', path: '/v1/agents/{agent_id}/messages', cost: 'none', handle: sendMessage },
  { method: 'GET', path: '/v1/agents/{agent_id}/messages', cost: 'read', handle: listMessages },
  { method: 'POST', path: '/v1/agents/{agent_id}/messages/async', cost: 'read', handle: sendAsync },
];

export const captureRoute: Route = {
  method: 'POST',
  path: '/v1/agents/{agent_id}/messages/capture',
  cost: 'read',
  hidden: true,
  handle: capture,
};
