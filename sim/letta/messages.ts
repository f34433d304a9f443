/**
 * Message endpoints of the Letta stand-in: a turn through the agent (JSON, step-streamed or
 * token-streamed SSE, or async with a Run; the turn itself is in `turn.ts`), the message history,
 * and the hidden capture.
 */
import type { LettaResponse, MessageType } from '@letta-ai/letta-client/resources/agents/messages';
import { BUSY_DETAIL, HttpError, detailError } from './http.ts';
import { LlmError } from './llm.ts';
import type { Ctx, Route } from './routes.ts';
import { agentNotFound, is1xSdk, requireAgent } from './routes.ts';
import { otidFor } from './store.ts';
import type { Json } from './validate.ts';
import { MESSAGE_TYPES, parseTurn } from './message-request.ts';
import { Checks, boolField, bodyObject, pageQuery, stringField, typeError } from './validate.ts';
import { acquire, inputMessage, noteTurn, release, runTurn, streamTurn, usageStatistics, wanted } from './turn.ts';

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
