/**
 * The model side of an agent step: the prompt a Letta agent compiles (system + memory blocks +
 * in-context history + the turn so far), the call to an OpenAI-compatible model (with Letta's
 * memory tools offered, or none), and the deterministic memory edit of the stand-in's 'notes' mode.
 */
import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { AgentRecord, BlockResponse, LettaMessage } from './store.ts';
import { compileSystem } from './system-prompt.ts';

/** The reply when no model is configured. */
export const ACK_TEXT = "Thanks, I've noted that.";

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** The text of a message's content: a string, or the concatenated text parts of a content array. */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((p: unknown) =>
      typeof p === 'object' && p !== null && 'text' in p && typeof p.text === 'string' ? p.text : '',
    )
    .join('');
}

function chatMessage(m: LettaMessage): ChatCompletionMessageParam | undefined {
  switch (m.message_type) {
    case 'user_message':
      return { role: 'user', content: textOf(m.content) };
    case 'assistant_message':
      return { role: 'assistant', content: textOf(m.content) };
    case 'system_message':
      return { role: 'system', content: m.content };
    case 'tool_call_message': {
      const calls = Array.isArray(m.tool_calls) ? m.tool_calls : [m.tool_call];
      return {
        role: 'assistant',
        content: null,
        tool_calls: calls.map((c) => ({
          id: c.tool_call_id ?? '',
          type: 'function' as const,
          function: { name: c.name ?? '', arguments: c.arguments ?? '' },
        })),
      };
    }
    case 'tool_return_message':
      return { role: 'tool', tool_call_id: m.tool_call_id, content: m.tool_return };
    // Nothing the stand-in writes into an agent's context.
    case 'reasoning_message':
    case 'hidden_reasoning_message':
    case 'approval_request_message':
    case 'approval_response_message':
    case 'summary_message':
    case 'event_message':
    case undefined:
      return undefined;
  }
}

/**
 * What the model sees in a step: the system prompt compiled with the blocks as they are now, the
 * agent's in-context history, then this turn's messages not yet persisted (its inputs, at first).
 */
export function buildPrompt(
  rec: AgentRecord,
  blocks: BlockResponse[],
  pending: LettaMessage[],
): ChatCompletionMessageParam[] {
  const out: ChatCompletionMessageParam[] = [{ role: 'system', content: compileSystem(rec.base.system, blocks) }];
  const inContext = new Set(rec.inContext);
  for (const m of [...rec.messages.filter((x) => inContext.has(x.id)), ...pending]) {
    if (m.id === rec.systemId) continue;
    const c = chatMessage(m);
    if (c) out.push(c);
  }
  return out;
}

function estimateTokens(messages: ChatCompletionMessageParam[]): number {
  const chars = messages.reduce((n, m) => n + (typeof m.content === 'string' ? m.content.length : 0), 0);
  return Math.ceil(chars / 4);
}

/** A model failure, answered the way the archived server's LLM error handlers answer it. */
export class LlmError extends Error {
  readonly status: number;
  readonly body: { error: { type: string; message: string; detail: string } };
  constructor(status: number, type: string, message: string, detail: string) {
    super(detail);
    this.status = status;
    this.body = { error: { type, message, detail } };
  }
}

function toLlmError(e: unknown): LlmError {
  const detail = e instanceof Error ? e.message : String(e);
  if (e instanceof OpenAI.APIConnectionTimeoutError)
    return new LlmError(504, 'llm_timeout', 'The LLM request timed out. Please try again.', detail);
  if (e instanceof OpenAI.APIError) {
    if (e.status === 429)
      return new LlmError(
        429,
        'llm_rate_limit',
        'Rate limit exceeded for LLM model provider. Please wait before making another request.',
        detail,
      );
    if (e.status === 401)
      return new LlmError(401, 'llm_authentication', 'Authentication failed with the LLM model provider.', detail);
    if (e.status === 400)
      return new LlmError(400, 'llm_bad_request', 'The request to the LLM model provider was invalid.', detail);
  }
  return new LlmError(500, 'llm_error', 'An error occurred with the LLM request.', detail);
}

/** A tool call the model made: whole, or (`ToolCallDelta`) a piece of one as it streams. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface ToolCallDelta {
  index: number;
  /** On the piece that opens the call. */
  id?: string;
  name?: string;
  /** A fragment of the arguments' JSON. */
  arguments?: string;
}

export interface ModelCall {
  client: OpenAI | undefined;
  model: string;
  messages: ChatCompletionMessageParam[];
  /** Offered to the model; none: a plain completion. */
  tools?: ChatCompletionTool[];
  /** Token streaming: call the model with `stream: true` and report each content delta. */
  stream: boolean;
  onDelta: (delta: string) => void;
  onToolCallDelta?: (delta: ToolCallDelta) => void;
  signal: AbortSignal;
}

export interface ModelAnswer {
  text: string;
  toolCalls: ToolCall[];
  usage: Usage;
}

/** Calls the model (blocking, or streaming for token streaming); throws LlmError. */
export async function callModel(c: ModelCall): Promise<ModelAnswer> {
  // Used when the model reports no usage (or there is no model).
  const estimate = (text: string): Usage => {
    const prompt = estimateTokens(c.messages);
    const completion = Math.ceil(text.length / 4);
    return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  };
  const reported = (u: OpenAI.CompletionUsage): Usage => ({
    prompt_tokens: u.prompt_tokens,
    completion_tokens: u.completion_tokens,
    total_tokens: u.total_tokens,
  });
  if (!c.client) {
    if (c.stream) c.onDelta(ACK_TEXT);
    return { text: ACK_TEXT, toolCalls: [], usage: estimate(ACK_TEXT) };
  }
  const tools = c.tools?.length ? { tools: c.tools } : {};
  try {
    if (!c.stream) {
      const r = await c.client.chat.completions.create(
        { model: c.model, messages: c.messages, ...tools },
        { signal: c.signal },
      );
      const message = r.choices[0]?.message;
      const text = message?.content ?? '';
      const toolCalls = (message?.tool_calls ?? []).flatMap((t) =>
        t.type === 'function' ? [{ id: t.id, name: t.function.name, arguments: t.function.arguments }] : [],
      );
      return { text, toolCalls, usage: r.usage ? reported(r.usage) : estimate(text) };
    }
    const stream = await c.client.chat.completions.create(
      { model: c.model, messages: c.messages, ...tools, stream: true, stream_options: { include_usage: true } },
      { signal: c.signal },
    );
    let text = '';
    const calls: ToolCall[] = [];
    let usage: Usage | undefined;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta;
      if (delta?.content) {
        text += delta.content;
        c.onDelta(delta.content);
      }
      for (const t of delta?.tool_calls ?? []) {
        const call = (calls[t.index] ??= { id: '', name: '', arguments: '' });
        const piece: ToolCallDelta = { index: t.index };
        if (t.id) piece.id = call.id = t.id;
        if (t.function?.name) piece.name = call.name = t.function.name;
        if (t.function?.arguments) {
          call.arguments += t.function.arguments;
          piece.arguments = t.function.arguments;
        }
        c.onToolCallDelta?.(piece);
      }
      if (chunk.usage) usage = reported(chunk.usage);
    }
    return { text, toolCalls: calls.filter(Boolean), usage: usage ?? estimate(text) };
  } catch (e) {
    throw toLlmError(e);
  }
}

/** What a memory agent would take from one user message: a transcript's caller lines, else the message. */
function notesFrom(text: string): string[] {
  const said = [...text.matchAll(/^(?:\[[^\]]*\] )?Caller: (.+)$/gm)].map((m) => m[1]!);
  return said.length > 0 ? said : [text];
}

/**
 * The 'notes' mode's memory edit, what a Letta agent would do with its memory tools made
 * deterministic whatever the model answers: one line
 * `- <first 120 chars>` per user message (per caller line when the message is a call transcript)
 * appended to the `human` block. Like Letta's memory tools, an edit that would exceed the block's
 * limit is not made. Returns the new value, or undefined.
 */
export function humanNote(block: BlockResponse, userTexts: string[]): string | undefined {
  let value = block.value;
  for (const t of userTexts.flatMap(notesFrom)) {
    const line = `- ${t.trim().replace(/\s+/g, ' ').slice(0, 120)}`;
    if (line === '- ') continue;
    const next = value ? `${value}\n${line}` : line;
    if (next.length <= (block.limit ?? 100000)) value = next;
  }
  return value === block.value ? undefined : value;
}
