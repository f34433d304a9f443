/**
 * Wire-level pieces of the Letta stand-in: the archived server's error bodies, and a reply object
 * that logs when each byte really left (or, under a 'lost-response' fault, drops it on the floor).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LettaStreamingResponse } from '@letta-ai/letta-client/resources/agents/messages';
import type { RequestLogEntry } from '../server.ts';
import { nowMs } from '../server.ts';

export interface SentEvent {
  at: number;
  /** `message_type` of the event, `error` for `event: error`, `[DONE]` for the terminator. */
  type: string;
}

export interface LettaRequestLogEntry extends RequestLogEntry {
  query: Record<string, string[]>;
  /** Status sent (or, under 'lost-response', the status the server would have sent). */
  status?: number;
  /** SSE events in send order, for streaming responses. */
  events?: SentEvent[];
  finishedAt?: number;
  /** Set when a fault took this request over. */
  fault?: 'status' | 'timeout' | 'reset' | 'lost-response';
}

/** Thrown by handlers; the router turns it into a JSON response. */
export class HttpError extends Error {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Record<string, string>;
  constructor(status: number, body: unknown, headers: Record<string, string> = {}) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

/** The 409 a second message-creating request for a busy agent (or conversation) gets. */
export const BUSY_DETAIL =
  'Cannot send a new message: Another request is currently being processed for this conversation. Please wait for the current request to complete.';

export function detailError(status: number, detail: string): HttpError {
  return new HttpError(status, { detail });
}

// ---------------------------------------------------------------------------------------------
// 422 bodies. The archived server's RequestValidationError handler (letta/server/rest_api/app.py)
// answers `{trace_id, detail: repr(errors), examples?}`: `detail` is the Python repr() of the
// pydantic error list, a STRING, although the OpenAPI schema's HTTPValidationError declares an
// array of ValidationError objects. We send what the server sends.

/** A Python tuple, so `loc` prints as `('path', 'agent_id')`. */
class PyTuple {
  readonly items: readonly unknown[];
  constructor(items: readonly unknown[]) {
    this.items = items;
  }
}

/** Text printed verbatim by `pyRepr` (e.g. `ValueError("...")` inside a pydantic ctx). */
class PyRaw {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

function pyStr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of s) {
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch < ' ' || ch === '\x7f') out += `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return quote + out + quote;
}

/** Python's repr() of JSON-like data (dict/list/str/int/bool/None), tuples and raw text. */
function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return pyStr(v);
  if (typeof v === 'number') return String(v);
  if (v instanceof PyRaw) return v.text;
  if (v instanceof PyTuple) {
    const parts = v.items.map(pyRepr);
    return parts.length === 1 ? `(${parts[0]},)` : `(${parts.join(', ')})`;
  }
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${pyStr(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  }
  return pyStr(String(v));
}

export interface PydanticError {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

const UUID4 = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';

/** `agent-<uuid4>` and friends, as the server's PRIMITIVE_ID_PATTERNS. */
export function idPattern(primitive: string): RegExp {
  return new RegExp(`^${primitive}-${UUID4}$`);
}

export function validationError(errors: PydanticError[], examples: string[] = []): HttpError {
  const asPython = errors.map((e) => ({
    type: e.type,
    loc: new PyTuple(e.loc),
    msg: e.msg,
    input: e.input,
    ...(e.ctx ? { ctx: e.ctx } : {}),
  }));
  const body: Record<string, unknown> = { trace_id: '', detail: pyRepr(asPython) };
  if (examples.length > 0) body.examples = [...new Set(examples)].sort();
  return new HttpError(422, body);
}

export function missing(loc: (string | number)[], input: unknown): PydanticError {
  return { type: 'missing', loc, msg: 'Field required', input };
}

export function valueError(loc: (string | number)[], message: string, input: unknown): PydanticError {
  return {
    type: 'value_error',
    loc,
    msg: `Value error, ${message}`,
    input,
    ctx: { error: new PyRaw(`ValueError(${pyStr(message)})`) },
  };
}

// ---------------------------------------------------------------------------------------------
// Request body and query.

/** V8's JSON.parse messages → what Python's json module says at that place. */
const PY_JSON_ERRORS: [RegExp, string, number][] = [
  [/^Expected property name or '}'/, 'Expecting property name enclosed in double quotes', 0],
  [/^Expected ',' or '[}\]]'/, "Expecting ',' delimiter", 0],
  [/^Expected ':' after property name/, "Expecting ':' delimiter", 0],
  [/^Unexpected non-whitespace character after JSON/, 'Extra data', 0],
  [/^Bad escaped character/, 'Invalid \\escape', -1],
  [/^Bad control character/, 'Invalid control character at', 0],
  [/^Unterminated string/, 'Unterminated string starting at', 0],
];

/** A request body that is not JSON; answered as pydantic's `json_invalid` once the route is known. */
export class InvalidJson {
  readonly position: number;
  readonly message: string;
  constructor(error: unknown, raw: string) {
    const text = error instanceof Error ? error.message : '';
    const at = /position (\d+)/.exec(text);
    const known = PY_JSON_ERRORS.find(([re]) => re.test(text));
    this.message = known?.[1] ?? 'Expecting value';
    if (/^Unexpected end of JSON input/.test(text)) this.position = raw.length;
    else this.position = at ? Number(at[1]) + (known?.[2] ?? 0) : 0;
  }
}

export function invalidJsonError(body: InvalidJson): HttpError {
  return validationError([
    {
      type: 'json_invalid',
      loc: ['body', body.position],
      msg: 'JSON decode error',
      input: {},
      ctx: { error: body.message },
    },
  ]);
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function parseQuery(search: URLSearchParams): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of search) (out[k] ??= []).push(v);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Replies.

export interface Sse {
  readonly started: boolean;
  /** `data: <json>` (the client yields it). */
  send(data: LettaStreamingResponse): void;
  /** `event: error` + `data: <json>` (the client throws APIError with status undefined). */
  error(data: LettaStreamingResponse.LettaErrorMessage): void;
  /** `data: [DONE]` and end of the response. */
  done(): void;
}

export interface Reply {
  json(status: number, body: unknown, headers?: Record<string, string>): void;
  /** An SSE channel; the 200 + headers go out with the first event. */
  sse(): Sse;
}

/**
 * Writes to the socket, or under a 'lost-response' fault (`lost`) processes everything, logs what
 * would have been sent, and destroys the socket instead: the write landed but the client can't know.
 */
export class HttpReply implements Reply {
  private readonly res: ServerResponse;
  private readonly entry: LettaRequestLogEntry;
  private readonly lost: boolean;

  constructor(res: ServerResponse, entry: LettaRequestLogEntry, lost: boolean) {
    this.res = res;
    this.entry = entry;
    this.lost = lost;
  }

  json(status: number, body: unknown, headers: Record<string, string> = {}): void {
    // `undefined` sends no body at all (redirects).
    const text = body === undefined ? '' : JSON.stringify(body);
    this.entry.status = status;
    if (this.lost) return this.drop();
    if (!this.res.destroyed) {
      const type: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
      this.res.writeHead(status, { ...type, 'content-length': Buffer.byteLength(text), ...headers });
      this.res.end(text);
    }
    this.entry.finishedAt = nowMs();
  }

  sse(): Sse {
    let started = false;
    const events: SentEvent[] = (this.entry.events ??= []);
    const write = (chunk: string, type: string): void => {
      if (!started) {
        started = true;
        this.entry.status = 200;
        if (!this.lost && !this.res.destroyed) {
          this.res.writeHead(200, {
            'content-type': 'text/event-stream; charset=utf-8',
            'cache-control': 'no-cache',
            connection: 'keep-alive',
          });
          this.res.flushHeaders();
        }
      }
      events.push({ at: nowMs(), type });
      if (!this.lost && !this.res.destroyed) this.res.write(chunk);
    };
    return {
      get started() {
        return started;
      },
      send: (data) => write(`data: ${JSON.stringify(data)}\n\n`, data.message_type ?? 'unknown'),
      error: (data) => write(`event: error\ndata: ${JSON.stringify(data)}\n\n`, 'error'),
      done: () => {
        write('data: [DONE]\n\n', '[DONE]');
        if (this.lost) return this.drop();
        if (!this.res.destroyed) this.res.end();
        this.entry.finishedAt = nowMs();
      },
    };
  }

  private drop(): void {
    this.entry.fault = 'lost-response';
    this.res.socket?.destroy();
    this.entry.finishedAt = nowMs();
  }
}
