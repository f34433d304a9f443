/**
 * The model side of an agent step: the prompt a Letta agent compiles (system + memory blocks +
 * in-context history + new input), the call to an OpenAI-compatible model, and the memory edit
 * the stand-in makes after each turn.
 */
import OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { AgentRecord, BlockResponse, MessageCreate } from './store.ts';

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

function renderBlock(b: BlockResponse): string {
  const label = b.label ?? 'block';
  return [
    `<${label}>`,
    '<description>',
    b.description ?? '',
    '</description>',
    '<metadata>',
    `- chars_current=${b.value.length}`,
    `- chars_limit=${b.limit ?? 100000}`,
    '</metadata>',
    '<value>',
    b.value,
    '</value>',
    `</${label}>`,
  ].join('\n');
}

export function buildPrompt(
  rec: AgentRecord,
  blocks: BlockResponse[],
  inputs: MessageCreate[],
): ChatCompletionMessageParam[] {
  const memory = blocks.length
    ? `\n\n<memory_blocks>\nThe following memory blocks are currently engaged in your core memory unit:\n\n${blocks.map(renderBlock).join('\n\n')}\n</memory_blocks>`
    : '';
  const out: ChatCompletionMessageParam[] = [{ role: 'system', content: rec.base.system + memory }];
  const inContext = new Set(rec.inContext);
  for (const m of rec.messages) {
    if (!inContext.has(m.id)) continue;
    if (m.message_type === 'user_message') out.push({ role: 'user', content: textOf(m.content) });
    else if (m.message_type === 'assistant_message') out.push({ role: 'assistant', content: textOf(m.content) });
    else if (m.message_type === 'system_message') out.push({ role: 'system', content: m.content });
  }
  for (const m of inputs) out.push({ role: m.role, content: textOf(m.content) });
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

export interface ModelCall {
  client: OpenAI | undefined;
  model: string;
  messages: ChatCompletionMessageParam[];
  /** Token streaming: call the model with `stream: true` and report each content delta. */
  stream: boolean;
  onDelta: (delta: string) => void;
  signal: AbortSignal;
}

/** Calls the model (blocking, or streaming for token streaming); throws LlmError. */
export async function callModel(c: ModelCall): Promise<{ text: string; usage: Usage }> {
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
    return { text: ACK_TEXT, usage: estimate(ACK_TEXT) };
  }
  try {
    if (!c.stream) {
      const r = await c.client.chat.completions.create({ model: c.model, messages: c.messages }, { signal: c.signal });
      const text = r.choices[0]?.message.content ?? '';
      return { text, usage: r.usage ? reported(r.usage) : estimate(text) };
    }
    const stream = await c.client.chat.completions.create(
      { model: c.model, messages: c.messages, stream: true, stream_options: { include_usage: true } },
      { signal: c.signal },
    );
    let text = '';
    let usage: Usage | undefined;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta.content;
      if (delta) {
        text += delta;
        c.onDelta(delta);
      }
      if (chunk.usage) usage = reported(chunk.usage);
    }
    return { text, usage: usage ?? estimate(text) };
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
 * The memory edit a Letta agent would make with its memory tools, made deterministic: one line
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
