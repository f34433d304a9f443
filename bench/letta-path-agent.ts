/**
 * The baseline this project exists to beat, as a benchmark baseline (not product): a voice agent
 * whose every reply goes through a Letta agent. Its llm node sends the caller's newest words to
 * Letta's messages endpoint with streaming on and step streaming (Letta's default, what was
 * measured in the field), and forwards the assistant text as it arrives.
 */
import type Letta from '@letta-ai/letta-client';
import { llm, voice } from '@livekit/agents';
import { ReadableStream } from 'node:stream/web';
import { defaultInstructions } from '../src/voice/prompt.ts';
import { lettaReply } from './paths.ts';

export interface LettaPathAgentOptions {
  client: Letta;
  agentId: string;
  /** The session's LLM; the framework needs one even though this node never calls it. */
  llm: llm.LLM;
  streamTokens?: boolean;
  /** Called with a failed reply's error; the reply then ends in silence, as it would for a caller. */
  onError?: (err: unknown) => void;
}

function newestUserText(chatCtx: llm.ChatContext): string {
  for (let i = chatCtx.items.length - 1; i >= 0; i--) {
    const item = chatCtx.items[i];
    if (item?.type === 'message' && item.role === 'user') return item.textContent ?? '';
  }
  return '';
}

export class LettaPathAgent extends voice.Agent {
  readonly #o: LettaPathAgentOptions;

  constructor(opts: LettaPathAgentOptions) {
    super({ instructions: defaultInstructions, llm: opts.llm });
    this.#o = opts;
  }

  override async llmNode(chatCtx: llm.ChatContext): Promise<ReadableStream<string> | null> {
    const text = newestUserText(chatCtx);
    if (!text) return null;
    const abort = new AbortController();
    const pieces = lettaReply(this.#o.client, this.#o.agentId, text, {
      streamTokens: this.#o.streamTokens ?? false,
      signal: abort.signal,
    });
    const onError = this.#o.onError;
    return new ReadableStream<string>({
      async pull(controller) {
        try {
          const next = await pieces.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        } catch (err) {
          // A cancelled generation aborts its own request: that is not a failure.
          if (!abort.signal.aborted) onError?.(err);
          controller.close();
        }
      },
      cancel() {
        abort.abort();
      },
    });
  }
}
