/**
 * OpenAI Chat Completions stand-in. It speaks the wire format the `openai` SDK and the LiveKit
 * openai plugin parse (SSE chunks, usage chunk, `[DONE]`, errors in OpenAI's shape), paces content
 * deltas with a latency profile, and records when each delta really left the socket so the bench
 * can check its own measurements against it.
 */
import { serveFromCommandLine } from './cli.ts';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { profiles, sampler, seededRandom, type LatencyProfile } from './profile.ts';
import { listen, nowMs, type RequestLogEntry, type StandIn } from './server.ts';
import { embeddingModels, embeddingsReply } from './openai/embeddings.ts';
import { lettaStepReply } from './openai/letta-agent.ts';

export interface ChatMessageParam {
  role: string;
  content?: string | { type: string; text?: string }[] | null;
  name?: string;
  tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

/** The request fields the stand-in reads; anything else the client sends is kept in the log as is. */
export interface ChatRequestBody {
  model: string;
  messages: ChatMessageParam[];
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean; include_obfuscation?: boolean } | null;
  temperature?: number | null;
  top_p?: number | null;
  max_tokens?: number | null;
  [param: string]: unknown;
}

export interface OpenAIErrorReply {
  status: number;
  message: string;
  type?: string;
  code?: string | null;
  param?: string | null;
}

export interface OpenAIReply {
  /** Assistant text, split into token-sized content deltas. */
  content?: string;
  toolCalls?: { name: string; arguments: string; id?: string }[];
  /** Sent as an HTTP error in OpenAI's shape before any byte of the stream. */
  error?: OpenAIErrorReply;
  /** Stream this many content deltas, then destroy the socket (a mid-stream failure). */
  failAfterDeltas?: number;
  ttftMs?: number;
  tokenIntervalMs?: number;
}

/** `index` counts the requests that reached the responder, from 0. */
export type Responder = (req: ChatRequestBody, index: number) => OpenAIReply;

export interface OpenAIStandInOptions {
  /** Default: `instant`. */
  profile?: LatencyProfile;
  /** Seeds the latency draws; request N always gets the same draws for a given seed. Default 1. */
  seed?: number;
  port?: number;
  /** When set, requests whose Bearer token differs get OpenAI's 401. */
  apiKey?: string;
  /** Default: `defaultResponder()`. */
  respond?: Responder;
}

export interface OpenAIRequestLogEntry extends RequestLogEntry {
  status: number;
  /** Request headers; `authorization` redacted. */
  headers: Record<string, string>;
  model: string | null;
  stream: boolean;
  /** When each content delta was handed to the socket (epoch ms), in order. */
  deltas: { at: number; text: string }[];
  firstDeltaAt: number | null;
  /** When the response ended: last byte written, or the connection closed. */
  finishedAt: number | null;
  /** The client went away before the response was complete (before `[DONE]` when streaming). */
  clientClosedEarly: boolean;
  /** The stand-in cut the connection on purpose (`failAfterDeltas`). */
  destroyedByServer: boolean;
  /** The latency drawn for this reply (or the reply's overrides). */
  planned: { ttftMs: number; intervalsMs: number[] } | null;
}

export interface OpenAIStandIn extends StandIn {
  /** Ends with `/v1`, ready for `new OpenAI({ baseURL })`. */
  url: string;
  requests: OpenAIRequestLogEntry[];
  setResponder(r: Responder): void;
  /** The next `count` (default 1) chat completion requests get this error, whatever they contain. */
  failNext(reply: OpenAIErrorReply & { count?: number }): void;
}

/** Models the stand-in lists (real ids: Letta drops ids it does not know); chat completions accept any model name. */
const CHAT_MODELS = [
  'gpt-4o-mini',
  'gpt-4o',
  'gpt-4.1-mini',
  'gpt-4.1',
  'gpt-4.1-nano',
  'o3-mini',
  'o4-mini',
  'gpt-5',
  'gpt-5-mini',
  'gpt-5-nano',
];
const MODELS = [...CHAT_MODELS, ...Object.keys(embeddingModels)];
const MODEL_CREATED = 1_715_367_049;
const SYSTEM_FINGERPRINT = 'fp_5a0b1c2d3e';

/** Pieces of roughly one BPE token: a word or one punctuation mark with its leading whitespace. Long words are cut. */
export function tokenize(text: string): string[] {
  const pieces: string[] = [];
  for (const m of text.matchAll(/\s*(?:[\p{L}\p{N}']+|[^\s\p{L}\p{N}'])|\s+$/gu)) {
    const piece = m[0];
    const lead = /^\s*/.exec(piece)?.[0] ?? '';
    const word = piece.slice(lead.length);
    if (word.length <= 8) {
      pieces.push(piece);
      continue;
    }
    pieces.push(lead + word.slice(0, 6));
    for (let i = 6; i < word.length; i += 6) pieces.push(word.slice(i, i + 6));
  }
  return pieces;
}

function messageText(m: ChatMessageParam | undefined): string {
  if (!m || m.content == null) return '';
  if (typeof m.content === 'string') return m.content;
  return m.content.map((p) => (p.type === 'text' && typeof p.text === 'string' ? p.text : '')).join(' ');
}

/** Plain text on one line, without the trailing punctuation the reply template adds itself. */
function quote(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[.!?]+$/, '');
}

/**
 * A deterministic reply computed from the request alone: same request, same reply. Inside a Letta
 * agent's step, memory tools first (see `letta-agent.ts`), then an answer to the user's message.
 */
export function defaultResponder(): Responder {
  return (req) => lettaStepReply(req, () => answerUser(req)) ?? reply(req);
}

function reply(req: ChatRequestBody): OpenAIReply {
  const last = req.messages.at(-1);
  if (last?.role === 'tool') return { content: `Here is what I found: ${quote(messageText(last))}.` };
  return { content: answerUser(req) };
}

function answerUser(req: ChatRequestBody): string {
  const said = quote(messageText(req.messages.findLast((m) => m.role === 'user')));
  if (!said) return 'Hello! How can I help you today?';
  return `You said: ${said}. That is an interesting point. Tell me more about it.`;
}

function isReasoningModel(model: string): boolean {
  return /^(o1|o3|o4|gpt-5)/.test(model);
}

/** OpenAI's 400s for sampling parameters reasoning models refuse (wording as the API sends it). */
function reasoningParamError(body: ChatRequestBody): OpenAIErrorReply | null {
  if (!isReasoningModel(body.model)) return null;
  const unsupported = (param: string, hint = ''): OpenAIErrorReply => ({
    status: 400,
    message: `Unsupported parameter: '${param}' is not supported with this model.${hint}`,
    param,
    code: 'unsupported_parameter',
  });
  if (body.max_tokens != null) return unsupported('max_tokens', " Use 'max_completion_tokens' instead.");
  if (body.temperature != null && body.temperature !== 1) {
    return {
      status: 400,
      message: `Unsupported value: 'temperature' does not support ${body.temperature} with this model. Only the default (1) value is supported.`,
      param: 'temperature',
      code: 'unsupported_value',
    };
  }
  if (body.top_p != null) return unsupported('top_p');
  return null;
}

/** Type names as OpenAI's validation messages spell them. */
function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return typeof v === 'number' ? (Number.isInteger(v) ? 'an integer' : 'a decimal') : `a ${typeof v}`;
}

function validateChatBody(body: unknown): { ok: true; body: ChatRequestBody } | { ok: false; error: OpenAIErrorReply } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return {
      ok: false,
      error: {
        status: 400,
        message: 'We could not parse the JSON body of your request. The OpenAI API expects a JSON object.',
      },
    };
  }
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string' || b.model === '') {
    return { ok: false, error: { status: 400, message: 'you must provide a model parameter' } };
  }
  if (b.messages === undefined) {
    return {
      ok: false,
      error: {
        status: 400,
        message: "Missing required parameter: 'messages'.",
        param: 'messages',
        code: 'missing_required_parameter',
      },
    };
  }
  if (!Array.isArray(b.messages)) {
    return {
      ok: false,
      error: {
        status: 400,
        message: `Invalid type for 'messages': expected an array, but got ${jsonType(b.messages)} instead.`,
        param: 'messages',
        code: 'invalid_type',
      },
    };
  }
  const badIndex = b.messages.findIndex((m: unknown) => typeof m !== 'object' || m === null || Array.isArray(m));
  if (badIndex >= 0) {
    const param = `messages[${badIndex}]`;
    const error = {
      status: 400,
      message: `Invalid type for '${param}': expected an object, but got ${jsonType(b.messages[badIndex])} instead.`,
      param,
      code: 'invalid_type',
    };
    return { ok: false, error };
  }
  const roleless = b.messages.findIndex((m: { role?: unknown }) => typeof m.role !== 'string');
  if (roleless >= 0) {
    const param = `messages[${roleless}].role`;
    return {
      ok: false,
      error: {
        status: 400,
        message: `Missing required parameter: '${param}'.`,
        param,
        code: 'missing_required_parameter',
      },
    };
  }
  if (b.messages.length === 0) {
    return {
      ok: false,
      error: {
        status: 400,
        message:
          "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
        param: 'messages',
        code: 'empty_array',
      },
    };
  }
  return { ok: true, body: b as ChatRequestBody };
}

function defaultErrorType(status: number): string {
  if (status === 429) return 'requests';
  return status >= 500 ? 'server_error' : 'invalid_request_error';
}

function defaultErrorCode(status: number): string | null {
  return status === 429 ? 'rate_limit_exceeded' : null;
}

function alnum(n: number): string {
  return randomBytes(n * 2)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .padEnd(n, 'x')
    .slice(0, n);
}

function maskKey(key: string): string {
  return key.length > 8
    ? `${key.slice(0, 3)}${'*'.repeat(Math.min(key.length - 7, 12))}${key.slice(-4)}`
    : '*'.repeat(key.length);
}

function redactHeaders(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    out[k] = k === 'authorization' ? 'Bearer [redacted]' : Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** One step of the stream after the role chunk: a content piece, a tool call opening, or an arguments fragment. */
interface PlannedDelta {
  delta: Record<string, unknown>;
  content?: string;
}

interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

function planDeltas(content: string, toolCalls: ToolCall[]): PlannedDelta[] {
  const out: PlannedDelta[] = tokenize(content).map((text) => ({ delta: { content: text }, content: text }));
  toolCalls.forEach(({ id, ...call }, index) => {
    out.push({
      delta: { tool_calls: [{ index, id, type: 'function', function: { name: call.name, arguments: '' } }] },
    });
    for (const fragment of tokenize(call.arguments))
      out.push({ delta: { tool_calls: [{ index, function: { arguments: fragment } }] } });
  });
  return out;
}

/** The first chunk: OpenAI merges the role into the first tool call when there is no text. */
function roleDelta(first: PlannedDelta | undefined): { delta: Record<string, unknown>; consumed: boolean } {
  if (first && first.content === undefined)
    return { delta: { role: 'assistant', content: null, ...first.delta, refusal: null }, consumed: true };
  return { delta: { role: 'assistant', content: '', refusal: null }, consumed: false };
}

function usageOf(promptTokens: number, completionTokens: number): Record<string, unknown> {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** About four characters per token, as OpenAI's own rule of thumb. */
function estimatePromptTokens(body: ChatRequestBody): number {
  return Math.max(1, Math.ceil(JSON.stringify([body.messages, body.tools ?? null]).length / 4));
}

/** Waits unless the client is gone; never leaves listeners behind on the signal. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return;
  await delay(ms, undefined, { signal }).catch(() => undefined);
}

interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  entry: OpenAIRequestLogEntry;
  /** Aborts when the connection closes before the response is complete. */
  signal: AbortSignal;
  requestId: string;
  /** Settles once the last written piece has been handed to the kernel. */
  flushed: Promise<void>;
}

function sendJson(ex: Exchange, status: number, payload: unknown): void {
  if (ex.signal.aborted) return;
  ex.entry.status = status;
  ex.res.writeHead(status, {
    'content-type': 'application/json',
    'x-request-id': ex.requestId,
    'openai-version': '2020-10-01',
    'openai-processing-ms': String(Math.round(nowMs() - ex.entry.at)),
  });
  ex.res.end(JSON.stringify(payload));
  ex.entry.finishedAt = nowMs();
}

function sendError(ex: Exchange, e: OpenAIErrorReply): void {
  sendJson(ex, e.status, {
    error: {
      message: e.message,
      type: e.type ?? defaultErrorType(e.status),
      param: e.param ?? null,
      code: e.code === undefined ? defaultErrorCode(e.status) : e.code,
    },
  });
}

/** Writes one piece and waits for the socket to drain if it must; false once the client is gone. */
async function write(ex: Exchange, text: string): Promise<boolean> {
  if (ex.signal.aborted || ex.res.destroyed) return false;
  let accepted = true;
  ex.flushed = new Promise<void>((resolve) => {
    accepted = ex.res.write(text, () => resolve());
  });
  if (!accepted)
    await new Promise<void>((resolve) => {
      const done = (): void => {
        ex.res.off('drain', done);
        ex.res.off('close', done);
        resolve();
      };
      ex.res.on('drain', done);
      ex.res.on('close', done);
    });
  return !ex.signal.aborted;
}

interface Completion {
  body: ChatRequestBody;
  reply: OpenAIReply;
  toolCalls: ToolCall[];
  planned: PlannedDelta[];
  ttftMs: number;
  intervalsMs: number[];
}

async function streamCompletion(ex: Exchange, c: Completion): Promise<void> {
  const includeUsage = c.body.stream_options?.include_usage === true;
  const obfuscate = c.body.stream_options?.include_obfuscation !== false;
  const id = `chatcmpl-${alnum(29)}`;
  const created = Math.floor(Date.now() / 1000);
  const sse = (choices: unknown[], usage: Record<string, unknown> | null = null): string => {
    const chunk: Record<string, unknown> = {
      id,
      object: 'chat.completion.chunk',
      created,
      model: c.body.model,
      service_tier: 'default',
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices,
    };
    if (includeUsage) chunk.usage = usage;
    // OpenAI pads every chunk with a random field against length side channels; clients must ignore it.
    if (obfuscate) chunk.obfuscation = alnum(1 + Math.floor(Math.random() * 12));
    return `data: ${JSON.stringify(chunk)}\n\n`;
  };
  const choice = (delta: Record<string, unknown>, finish: string | null = null): unknown => ({
    index: 0,
    delta,
    logprobs: null,
    finish_reason: finish,
  });

  await pause(c.ttftMs, ex.signal);
  if (ex.signal.aborted) return;
  ex.entry.status = 200;
  ex.res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'x-request-id': ex.requestId,
    'openai-version': '2020-10-01',
    'openai-processing-ms': String(Math.round(nowMs() - ex.entry.at)),
  });
  const role = roleDelta(c.planned[0]);
  if (!(await write(ex, sse([choice(role.delta)])))) return;

  const failAfter = c.reply.failAfterDeltas;
  for (let i = role.consumed ? 1 : 0; i < c.planned.length; i++) {
    if (failAfter !== undefined && ex.entry.deltas.length >= failAfter) break;
    const step = c.planned[i];
    if (!step) break;
    // The first piece leaves with the role chunk (both at TTFT); later ones are paced.
    if (i > 0) await pause(c.intervalsMs[i - 1] ?? 0, ex.signal);
    if (!(await write(ex, sse([choice(step.delta)])))) return;
    if (step.content !== undefined) {
      const at = nowMs();
      ex.entry.deltas.push({ at, text: step.content });
      ex.entry.firstDeltaAt ??= at;
    }
  }
  if (failAfter !== undefined && ex.entry.deltas.length >= failAfter) {
    // Let the deltas already written reach the client before the connection is cut.
    await ex.flushed;
    ex.entry.destroyedByServer = true;
    ex.entry.finishedAt = nowMs();
    ex.res.destroy();
    return;
  }

  const finish = c.toolCalls.length ? 'tool_calls' : 'stop';
  if (!(await write(ex, sse([choice({}, finish)])))) return;
  if (includeUsage && !(await write(ex, sse([], usageOf(estimatePromptTokens(c.body), c.planned.length))))) return;
  if (!(await write(ex, 'data: [DONE]\n\n'))) return;
  ex.res.end();
  ex.entry.finishedAt = nowMs();
}

async function completeOnce(ex: Exchange, c: Completion): Promise<void> {
  // A non-streaming reply arrives once the whole completion has been generated.
  await pause(c.ttftMs + c.intervalsMs.reduce((a, b) => a + b, 0), ex.signal);
  if (ex.signal.aborted) return;
  const toolCalls = c.toolCalls.map(({ id, name, arguments: args }) => ({
    id,
    type: 'function',
    function: { name, arguments: args },
  }));
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: c.reply.content ?? null,
    refusal: null,
    annotations: [],
  };
  if (toolCalls.length) message.tool_calls = toolCalls;
  sendJson(ex, 200, {
    id: `chatcmpl-${alnum(29)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: c.body.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: toolCalls.length ? 'tool_calls' : 'stop' }],
    usage: usageOf(estimatePromptTokens(c.body), c.planned.length),
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startOpenAIStandIn(opts: OpenAIStandInOptions = {}): Promise<OpenAIStandIn> {
  const profile = opts.profile ?? profiles.instant;
  const seed = opts.seed ?? 1;
  let respond = opts.respond ?? defaultResponder();
  let responderCalls = 0;
  let chatRequests = 0;
  const injected: OpenAIErrorReply[] = [];
  const requests: OpenAIRequestLogEntry[] = [];

  /** Per-request RNG: request N gets the same draws for a seed however requests interleave. */
  const drawLatency = (
    reply: OpenAIReply,
    gaps: number,
    requestIndex: number,
  ): { ttftMs: number; intervalsMs: number[] } => {
    const sample = sampler(seededRandom((seed ^ Math.imul(requestIndex + 1, 0x9e3779b9)) >>> 0));
    const ttftMs = reply.ttftMs ?? sample(profile.openai.ttft);
    const intervalsMs = Array.from(
      { length: gaps },
      () => reply.tokenIntervalMs ?? sample(profile.openai.tokenInterval),
    );
    return { ttftMs, intervalsMs };
  };

  const authError = (header: string | undefined): OpenAIErrorReply | null => {
    if (opts.apiKey === undefined) return null;
    const token = /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim();
    if (!token) {
      return {
        status: 401,
        message:
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        code: null,
      };
    }
    if (token === opts.apiKey) return null;
    return {
      status: 401,
      message: `Incorrect API key provided: ${maskKey(token)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      code: 'invalid_api_key',
    };
  };

  const chat = async (ex: Exchange, raw: string): Promise<void> => {
    const requestIndex = chatRequests++;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
      ex.entry.body = parsed;
    } catch {
      ex.entry.body = raw;
    }
    const forced = injected.shift();
    if (forced) return sendError(ex, forced);
    const denied = authError(ex.req.headers.authorization);
    if (denied) return sendError(ex, denied);
    if (parsed === undefined) {
      return sendError(ex, {
        status: 400,
        message:
          "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
      });
    }
    const valid = validateChatBody(parsed);
    if (!valid.ok) return sendError(ex, valid.error);
    const body = valid.body;
    ex.entry.model = body.model;
    ex.entry.stream = body.stream === true;
    const refused = reasoningParamError(body);
    if (refused) return sendError(ex, refused);

    const reply = respond(body, responderCalls++);
    if (reply.error) return sendError(ex, reply.error);
    const toolCalls = (reply.toolCalls ?? []).map((call) => ({ ...call, id: call.id ?? `call_${alnum(24)}` }));
    const planned = planDeltas(reply.content ?? '', toolCalls);
    const latency = drawLatency(reply, Math.max(0, planned.length - 1), requestIndex);
    ex.entry.planned = latency;
    const completion: Completion = { body, reply, toolCalls, planned, ...latency };
    return ex.entry.stream ? streamCompletion(ex, completion) : completeOnce(ex, completion);
  };

  const models = (ex: Exchange, id: string | null): void => {
    const denied = authError(ex.req.headers.authorization);
    if (denied) return sendError(ex, denied);
    const model = (name: string): unknown => ({
      id: name,
      object: 'model',
      created: MODEL_CREATED,
      owned_by: 'system',
    });
    if (id === null) return sendJson(ex, 200, { object: 'list', data: MODELS.map(model) });
    if (MODELS.includes(id)) return sendJson(ex, 200, model(id));
    return sendError(ex, {
      status: 404,
      message: `The model '${id}' does not exist or you do not have access to it.`,
      code: 'model_not_found',
    });
  };

  const embeddings = (ex: Exchange, raw: string): void => {
    const denied = authError(ex.req.headers.authorization);
    if (denied) return sendError(ex, denied);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return sendError(ex, { status: 400, message: 'We could not parse the JSON body of your request.' });
    }
    ex.entry.body = parsed;
    const reply = embeddingsReply(parsed);
    if (!reply.ok) return sendError(ex, reply.error);
    ex.entry.model = (parsed as { model: string }).model;
    sendJson(ex, 200, reply.payload);
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://stand-in').pathname;
    const entry: OpenAIRequestLogEntry = {
      at: nowMs(),
      method: req.method ?? 'GET',
      path,
      status: 0,
      headers: redactHeaders(req.headers),
      model: null,
      stream: false,
      deltas: [],
      firstDeltaAt: null,
      finishedAt: null,
      clientClosedEarly: false,
      destroyedByServer: false,
      planned: null,
    };
    requests.push(entry);
    const closed = new AbortController();
    res.on('close', () => {
      if (res.writableFinished || entry.destroyedByServer) return;
      entry.clientClosedEarly = true;
      entry.finishedAt ??= nowMs();
      closed.abort();
    });
    const ex: Exchange = {
      req,
      res,
      entry,
      signal: closed.signal,
      requestId: `req_${randomBytes(16).toString('hex')}`,
      flushed: Promise.resolve(),
    };

    const route = async (): Promise<void> => {
      const raw = await readBody(req);
      const modelPath = /^\/v1\/models\/(.+)$/.exec(path);
      if (req.method === 'POST' && path === '/v1/chat/completions') return chat(ex, raw);
      if (req.method === 'POST' && path === '/v1/embeddings') return embeddings(ex, raw);
      if (req.method === 'GET' && path === '/v1/models') return models(ex, null);
      if (req.method === 'GET' && modelPath?.[1]) return models(ex, decodeURIComponent(modelPath[1]));
      return sendError(ex, { status: 404, message: `Invalid URL (${req.method} ${path})` });
    };
    route().catch((err: unknown) => {
      // A broken request or a throwing responder must surface as a 500, not hang the client.
      if (!res.headersSent && !closed.signal.aborted)
        sendError(ex, { status: 500, message: `stand-in failure: ${String(err)}` });
      else res.destroy();
    });
  });
  server.on('connection', (socket) => socket.setNoDelay(true));

  const { port, close } = await listen(server, opts.port ?? 0);
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close,
    setResponder(r) {
      respond = r;
    },
    failNext({ count = 1, ...error }) {
      for (let i = 0; i < count; i++) injected.push(error);
    },
  };
}

if (import.meta.main) {
  await serveFromCommandLine('openai', [], (common) => startOpenAIStandIn(common));
}
