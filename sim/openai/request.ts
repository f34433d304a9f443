/**
 * The chat completion request as the OpenAI stand-in reads it, and the 400s OpenAI sends for one it
 * refuses (wording as the API sends it): a body that is not an object, a missing model or messages,
 * and sampling parameters reasoning models reject.
 */
import type { RequestLogEntry } from '../server.ts';

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

function isReasoningModel(model: string): boolean {
  return /^(o1|o3|o4|gpt-5)/.test(model);
}

/** OpenAI's 400s for sampling parameters reasoning models refuse (wording as the API sends it). */
export function reasoningParamError(body: ChatRequestBody): OpenAIErrorReply | null {
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

export function validateChatBody(
  body: unknown,
): { ok: true; body: ChatRequestBody } | { ok: false; error: OpenAIErrorReply } {
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
