/**
 * OpenAI Chat Completions stand-in. It speaks the wire format the `openai` SDK and the LiveKit
 * openai plugin parse (SSE chunks, usage chunk, `[DONE]`, errors in OpenAI's shape), paces content
 * deltas with a latency profile, and records when each delta really left the socket so the bench
 * can check its own measurements against it.
 */
import { serveFromCommandLine } from './cli.ts';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { profiles, sampler, seededRandom, type LatencyProfile } from './profile.ts';
import { listen, nowMs, type StandIn } from './server.ts';
import { embeddingModels, embeddingsReply } from './openai/embeddings.ts';
import { lettaStepReply } from './openai/letta-agent.ts';
import {
  alnum,
  completeOnce,
  planDeltas,
  sendError,
  sendJson,
  streamCompletion,
  type Completion,
  type Exchange,
} from './openai/completion.ts';
import {
  reasoningParamError,
  validateChatBody,
  type ChatMessageParam,
  type ChatRequestBody,
  type OpenAIErrorReply,
  type OpenAIReply,
  type OpenAIRequestLogEntry,
} from './openai/request.ts';

export { tokenize } from './openai/completion.ts';
export type {
  ChatMessageParam,
  ChatRequestBody,
  OpenAIErrorReply,
  OpenAIReply,
  OpenAIRequestLogEntry,
} from './openai/request.ts';

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
