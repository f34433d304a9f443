/**
 * The ways a reply can reach the speech path, each as a stream of text pieces:
 * - openai-direct: a bare `openai` SDK stream, the floor for this stage;
 * - letta: a message through a Letta agent with streaming on, step streaming (what was measured
 *   in the field) or token streaming;
 * - hybrid: the product's llm node, memory in the prompt, streaming from OpenAI.
 */
import type Letta from '@letta-ai/letta-client';
import { llm } from '@livekit/agents';
import type OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { messageText } from '../src/memory/letta-writes.ts';
import type { VoiceAgent } from '../src/voice/voice-agent.ts';

export async function* openaiDirectReply(
  client: OpenAI,
  model: string,
  messages: ChatCompletionMessageParam[],
  signal?: AbortSignal,
): AsyncGenerator<string> {
  const stream = await client.chat.completions.create({ model, messages, stream: true }, signal ? { signal } : {});
  for await (const chunk of stream) {
    const piece = chunk.choices[0]?.delta.content;
    if (piece) yield piece;
  }
}

/**
 * A reply through a Letta agent, as the field setup asked for it: `streaming: true`, and step
 * streaming unless `streamTokens`. Only `assistant_message` events carry reply text; the ping the
 * server sends first (and keep-alive pings) are not tokens.
 */
export async function* lettaReply(
  client: Letta,
  agentId: string,
  text: string,
  opts: { streamTokens: boolean; signal?: AbortSignal },
): AsyncGenerator<string> {
  const stream = await client.agents.messages.create(
    agentId,
    {
      messages: [{ role: 'user', content: text }],
      streaming: true,
      ...(opts.streamTokens ? { stream_tokens: true } : {}),
    },
    opts.signal ? { signal: opts.signal } : {},
  );
  for await (const event of stream) {
    if (event.message_type === 'assistant_message') yield messageText(event.content);
  }
}

/** The product's llm node, called as the framework calls it; yields the text it forwards. */
export async function* hybridReply(agent: VoiceAgent, chatCtx: llm.ChatContext): AsyncGenerator<string> {
  const out = await agent.llmNode(chatCtx, new llm.ToolContext(), {});
  if (out === null) return;
  for await (const chunk of out) {
    const piece = typeof chunk === 'string' ? chunk : (chunk.delta?.content ?? '');
    if (piece) yield piece;
  }
}
