/**
 * Message endpoints of the Letta stand-in: a turn through the agent (JSON, step-streamed or
 * token-streamed SSE, or async with a Run), the message history, and the hidden capture.
 */
import type {
  AssistantMessage,
  LettaResponse,
  LettaStreamingResponse,
  MessageType,
  SystemMessage,
  ToolCallDelta,
  ToolCallMessage,
  UserMessage,
} from '@letta-ai/letta-client/resources/agents/messages';
import type { ToolReturnMessage } from '@letta-ai/letta-client/resources/tools';
import { nowMs, sleep } from '../server.ts';
import { BUSY_DETAIL, HttpError, detailError } from './http.ts';
import type { Usage } from './llm.ts';
import { LlmError, buildPrompt, callModel, humanNote, textOf } from './llm.ts';
import type { Ctx, Deps, Route } from './routes.ts';
import { REPLIED, agentNotFound, is1xSdk, requireAgent } from './routes.ts';
import type { AgentRecord, LettaMessage, MessageCreate, Run } from './store.ts';
import { isoNow, newId, otidFor } from './store.ts';
import { MEMORY_TOOLS, runTool, storedArguments } from './tools.ts';
import type { Json } from './validate.ts';
import { MESSAGE_TYPES, type Turn, parseTurn } from './message-request.ts';
import { Checks, boolField, bodyObject, pageQuery, stringField, typeError } from './validate.ts';

/** The server's keepalive: a ping after this long without any event. */
const KEEPALIVE_MS = 20_000;

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

/** The head of a message the agent itself produces: its `otid` derives from its id. */
function produced(id: string, date: string, stepId: string | null, runId: string | null) {
  return {
    id,
    date,
    name: null,
    otid: otidFor(id),
    sender_id: null,
    step_id: stepId,
    is_err: null,
    seq_id: null,
    run_id: runId,
  };
}

function usageStatistics(u: Usage, steps: number): LettaResponse.Usage {
  return {
    message_type: 'usage_statistics',
    completion_tokens: u.completion_tokens,
    prompt_tokens: u.prompt_tokens,
    total_tokens: u.total_tokens,
    step_count: steps,
    run_ids: null,
    cached_input_tokens: 0,
    cache_write_tokens: 0,
    reasoning_tokens: 0,
    context_tokens: u.prompt_tokens,
  };
}

/** The 'notes' mode's edit to the `human` block after a turn (see `humanNote`). */
function noteTurn(deps: Deps, rec: AgentRecord, userTexts: string[]): void {
  const human = deps.store.blockByLabel(rec, 'human');
  const value = human && humanNote(human, userTexts);
  if (value !== undefined) deps.store.upsertBlock(rec, 'human', { value });
}

/**
 * A Run for a message-creating request. On Letta Cloud (`server: 'cloud'`) one request per agent
 * runs at a time and a second one gets 409 (ConversationBusyError); Letta's own server takes no
 * lock on this endpoint and runs both.
 */
function acquire(deps: Deps, rec: AgentRecord, background: boolean, runType: string, turn: Turn): Run {
  const locks = deps.server === 'cloud';
  if (locks && deps.busy.has(rec.base.id)) throw new HttpError(409, { detail: BUSY_DETAIL });
  const run = deps.store.createRun(rec.base.id, background, runType, turn.includeTypes);
  if (locks) deps.busy.set(rec.base.id, run.id);
  return run;
}

function release(deps: Deps, rec: AgentRecord, run: Run): void {
  if (deps.busy.get(rec.base.id) === run.id) deps.busy.delete(rec.base.id);
}

/** Where a turn's messages go as they are made, for the two kinds of streaming. */
interface TurnSink {
  /** Token streaming: assistant text and tool-call pieces as the model produces them. */
  piece?: (m: AssistantMessage | ToolCallMessage) => void;
  /** Each message the step produced once it is done (step streaming), or only tool returns (token streaming). */
  message: (m: LettaMessage) => void;
}

interface TurnResult {
  /** What the agent produced (tool calls, tool returns, replies), oldest first; not the inputs. */
  messages: LettaMessage[];
  usage: Usage;
  steps: number;
  stopReason: 'end_turn' | 'max_steps';
}

function addUsage(a: Usage, b: Usage): Usage {
  return {
    prompt_tokens: a.prompt_tokens + b.prompt_tokens,
    completion_tokens: a.completion_tokens + b.completion_tokens,
    total_tokens: a.total_tokens + b.total_tokens,
  };
}

/**
 * An agent turn: the agent loop's overhead (profile `letta.agentLoop`), then steps. Each step calls
 * the model and is persisted when it ends (its inputs with it), as Letta checkpoints at step end.
 * In 'tools' mode the model is offered Letta's memory tools; a step whose model calls tools runs
 * them (a tool-call and a tool-return message) and the loop goes on, until a step answers in plain
 * text or `maxSteps` is reached. In 'notes' mode there is one step, then the deterministic note.
 */
async function runTurn(
  deps: Deps,
  rec: AgentRecord,
  inputs: MessageCreate[],
  run: Run,
  maxSteps: number,
  sink?: TurnSink,
): Promise<TurnResult> {
  const t0 = nowMs();
  const tools = deps.memoryEdits === 'tools' ? MEMORY_TOOLS : undefined;
  try {
    await sleep(deps.sample(deps.profile.letta.agentLoop), deps.signal);
    const out: LettaMessage[] = [];
    let usage: Usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
    let firstAt: number | undefined;
    let steps = 0;
    let stopReason: TurnResult['stopReason'] = 'end_turn';
    for (;;) {
      steps++;
      const stepId = newId('step');
      const pending = steps === 1 ? inputs.map((m) => inputMessage(m, run.id, stepId)) : [];
      // Token pieces and the persisted message share one id (clients join pieces by id).
      const replyHead = produced(newId('message'), isoNow(), stepId, run.id);
      const callHead = produced(newId('message'), isoNow(), stepId, run.id);
      const callIds: string[] = [];
      const answer = await callModel({
        client: deps.llm,
        model: rec.base.llm_config.model,
        messages: buildPrompt(rec, deps.store.blocksOf(rec), pending),
        ...(tools ? { tools } : {}),
        stream: sink?.piece !== undefined,
        signal: deps.signal,
        onDelta: (d) => {
          firstAt ??= nowMs();
          sink?.piece?.({ ...replyHead, message_type: 'assistant_message', content: d });
        },
        onToolCallDelta: (d) => {
          firstAt ??= nowMs();
          if (d.id) callIds[d.index] = d.id;
          const piece: ToolCallDelta = {
            ...(d.name ? { name: d.name } : {}),
            ...(d.arguments ? { arguments: d.arguments } : {}),
            tool_call_id: callIds[d.index] ?? null,
          };
          // The server streams `tool_calls` as the same single piece, not an array.
          sink?.piece?.({ ...callHead, message_type: 'tool_call_message', tool_call: piece, tool_calls: piece });
        },
      });
      usage = addUsage(usage, answer.usage);
      const made: LettaMessage[] = [];
      const calls = tools ? answer.toolCalls : [];
      if (calls.length > 0) {
        const toolCalls = calls.map((c) => ({
          name: c.name,
          arguments: storedArguments(c.arguments),
          tool_call_id: c.id,
        }));
        made.push({
          ...callHead,
          message_type: 'tool_call_message',
          tool_call: toolCalls[0]!,
          tool_calls: toolCalls,
        } satisfies ToolCallMessage);
        for (const c of calls) {
          const result = runTool(deps.store, rec, c.name, c.arguments);
          const ret = {
            tool_return: result.text,
            status: result.status,
            tool_call_id: c.id,
            stdout: null,
            stderr: null,
          };
          made.push({
            ...produced(newId('message'), isoNow(), stepId, run.id),
            name: c.name,
            message_type: 'tool_return_message',
            ...ret,
            tool_returns: [{ type: 'tool', ...ret }],
          } satisfies ToolReturnMessage);
        }
      } else {
        made.push({ ...replyHead, message_type: 'assistant_message', content: answer.text } satisfies AssistantMessage);
      }
      deps.store.persist(rec, [...pending, ...made], true);
      out.push(...made);
      for (const m of made) if (!sink?.piece || m.message_type === 'tool_return_message') sink?.message(m);
      if (calls.length === 0) break;
      if (steps >= maxSteps) {
        stopReason = 'max_steps';
        break;
      }
    }
    if (!tools)
      noteTurn(
        deps,
        rec,
        inputs.filter((m) => m.role === 'user').map((m) => textOf(m.content)),
      );
    const end = nowMs();
    Object.assign(run, {
      status: 'completed',
      stop_reason: stopReason,
      completed_at: isoNow(),
      ttft_ns: Math.round(((firstAt ?? end) - t0) * 1e6),
      total_duration_ns: Math.round((end - t0) * 1e6),
    } satisfies Partial<Run>);
    Object.assign(rec.base, {
      last_run_completion: run.completed_at,
      last_run_duration_ms: Math.round(end - t0),
      last_stop_reason: stopReason,
    });
    return { messages: out, usage, steps, stopReason };
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

function wanted(turn: Turn, m: { message_type?: string | null }): boolean {
  return !turn.includeTypes || turn.includeTypes.includes(m.message_type as MessageType);
}

async function streamTurn(
  ctx: Ctx,
  rec: AgentRecord,
  turn: Turn,
  run: Run,
  opts: { streamTokens: boolean; includePings: boolean; maxSteps: number },
): Promise<typeof REPLIED> {
  // The server marks a streamed run running as the stream starts; a JSON or async one stays 'created' until done.
  run.status = 'running';
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
  if (opts.includePings) ping();
  const keepalive = opts.includePings
    ? setInterval(() => nowMs() - lastSent >= KEEPALIVE_MS && ping(), 1000)
    : undefined;
  const forward = (m: LettaMessage): void => void (wanted(turn, m) && send(m as LettaStreamingResponse));
  try {
    const r = await runTurn(ctx.deps, rec, turn.inputs, run, opts.maxSteps, {
      ...(opts.streamTokens ? { piece: forward } : {}),
      message: forward,
    });
    send({ message_type: 'stop_reason', stop_reason: r.stopReason });
    send(usageStatistics(r.usage, r.steps));
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
    if (streaming)
      return await streamTurn(ctx, rec, turn, run, { streamTokens, includePings, maxSteps: turn.maxSteps });
    const r = await runTurn(ctx.deps, rec, turn.inputs, run, turn.maxSteps);
    const res: LettaResponse = {
      messages: r.messages.filter((m) => wanted(turn, m)),
      stop_reason: { message_type: 'stop_reason', stop_reason: r.stopReason },
      usage: usageStatistics(r.usage, r.steps),
      logprobs: null,
      turns: null,
    };
    return res;
  } catch (e) {
    throw e instanceof LlmError ? new HttpError(e.status, e.body) : e;
  } finally {
    release(ctx.deps, rec, run);
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
    .then(() => runTurn(ctx.deps, rec, turn.inputs, run, turn.maxSteps))
    .catch(() => undefined)
    .finally(() => release(ctx.deps, rec, run));
  return created;
}

async function listMessages(ctx: Ctx): Promise<unknown> {
  const c = new Checks(ctx.query);
  const agentId = c.pathId('agent_id', ctx.params.agent_id ?? '');
  const { after, before, limit, order } = pageQuery(c);
  const types = c.literalList('include_return_message_types', MESSAGE_TYPES);
  c.done();
  const rec = ctx.deps.store.record(agentId);
  if (!rec) throw detailError(404, 'Agent not found');
  let ms = order === 'asc' ? [...rec.messages] : [...rec.messages].reverse();
  if (after !== null) {
    const i = ms.findIndex((m) => m.id === after);
    ms = i < 0 ? [] : ms.slice(i + 1);
  }
  if (before !== null) {
    const i = ms.findIndex((m) => m.id === before);
    if (i >= 0) ms = ms.slice(0, i);
  }
  // The server pages stored messages, then converts and filters them by type, then (for `desc`)
  // turns the page back into chronological order: `desc` picks the newest, oldest first.
  if (limit !== null && limit > 0) ms = ms.slice(0, limit);
  if (types) ms = ms.filter((m) => types.includes(m.message_type as MessageType));
  return order === 'desc' ? ms.reverse() : ms;
}

/**
 * The hidden capture endpoint: persists the user messages and the reply without an agent step
 * (and outside the agent's context window). Memory changes only through an agent's sleep-time
 * agent (`enable_sleeptime`), which the stand-in stands in for with the 'notes' edit.
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
  const rec = ctx.deps.store.record(agentId);
  if (!rec) throw agentNotFound(agentId);
  if (ctx.deps.server === 'cloud' && ctx.deps.busy.has(rec.base.id)) throw new HttpError(409, { detail: BUSY_DETAIL });
  const userTexts = (b.request_messages as Json[]).filter((m) => m.role === 'user').map((m) => m.content);
  const replyText = (resp as Json).content;
  // The server builds TextContent(text=...) from these: anything but a string fails as a 500.
  if (!userTexts.every((t): t is string => typeof t === 'string') || typeof replyText !== 'string')
    throw new Error('content must be a string');
  const reply = inputMessage({ role: 'assistant', content: replyText }, null, null);
  const toPersist = [
    ...userTexts.map((content) => inputMessage({ role: 'user', content }, null, null)),
    { ...reply, otid: otidFor(reply.id) },
  ];
  ctx.deps.store.persist(rec, toPersist, false);
  rec.captures.push(b);
  if (rec.base.enable_sleeptime) noteTurn(ctx.deps, rec, userTexts);
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
