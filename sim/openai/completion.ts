/**
 * The OpenAI stand-in's side of one exchange on the wire: a streamed completion (SSE chunks paced by
 * the drawn latency, the usage chunk, `[DONE]`), a one-shot completion, and errors in OpenAI's shape.
 * Each content delta's send time is logged so the bench can check its own measurements against it.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { nowMs } from '../server.ts';
import type { ChatRequestBody, OpenAIErrorReply, OpenAIReply, OpenAIRequestLogEntry } from './request.ts';

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

function defaultErrorType(status: number): string {
  if (status === 429) return 'requests';
  return status >= 500 ? 'server_error' : 'invalid_request_error';
}

function defaultErrorCode(status: number): string | null {
  return status === 429 ? 'rate_limit_exceeded' : null;
}

export function alnum(n: number): string {
  return randomBytes(n * 2)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .padEnd(n, 'x')
    .slice(0, n);
}

/** One step of the stream after the role chunk: a content piece, a tool call opening, or an arguments fragment. */
interface PlannedDelta {
  delta: Record<string, unknown>;
  content?: string;
}

export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

export function planDeltas(content: string, toolCalls: ToolCall[]): PlannedDelta[] {
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

export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  entry: OpenAIRequestLogEntry;
  /** Aborts when the connection closes before the response is complete. */
  signal: AbortSignal;
  requestId: string;
  /** Settles once the last written piece has been handed to the kernel. */
  flushed: Promise<void>;
}

export function sendJson(ex: Exchange, status: number, payload: unknown): void {
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

export function sendError(ex: Exchange, e: OpenAIErrorReply): void {
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

export interface Completion {
  body: ChatRequestBody;
  reply: OpenAIReply;
  toolCalls: ToolCall[];
  planned: PlannedDelta[];
  ttftMs: number;
  intervalsMs: number[];
}

export async function streamCompletion(ex: Exchange, c: Completion): Promise<void> {
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

export async function completeOnce(ex: Exchange, c: Completion): Promise<void> {
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
