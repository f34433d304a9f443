/**
 * The voice agent: instructions, tools and the llm node. The node streams straight from the
 * OpenAI plugin's LLM (which gives retries before the first token, tool-call parsing, metrics and
 * prewarm) with the caller's memory added to the prompt; it never waits on the memory service.
 */
import { type APIConnectOptions, llm, voice } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import type { ReadableStream } from 'node:stream/web';
import type { Logger } from '../telemetry/logger.ts';
import type { MemoryContext } from './memory-context.ts';
import { defaultInstructions, renderMemory, withMemory } from './prompt.ts';
import { forwardReply } from './reply-stream.ts';

export interface VoiceAgentOptions {
  llm: llm.LLM;
  memory: MemoryContext;
  logger: Logger;
  instructions?: string;
  tools?: llm.ToolContextLike;
  /** Upper bound on the memory section of the prompt, in characters. */
  memoryMaxChars: number;
  /** How the greeting is produced; null: the agent waits for the caller to speak first. */
  greeting: string | null;
  /** The greeting waits for this (bounded by its owner), so that it can use the caller's memory. */
  greetAfter?: Promise<unknown>;
  /**
   * Asked once the greeting's wait is over: fixed words (and their audio, when cached) to greet
   * with instead of a model reply, or null for the model's greeting.
   */
  fixedGreeting?: () => FixedGreeting | null;
  connOptions: APIConnectOptions;
  /**
   * The caller's words a previous agent of this call died answering: the conversation starts
   * with them, so the first reply can answer them (the memory journal has them too, but Letta
   * may have taken them off it before this session reads it).
   */
  unanswered?: string;
}

export interface FixedGreeting {
  text: string;
  /** Null: the words are spoken through the TTS. */
  audio: ReadableStream<AudioFrame> | null;
}

export const defaultGreeting = 'Greet the caller in one short sentence and ask how you can help.';
/** After the call's previous agent died mid-call (see src/calls/call-rescue.ts). */
export const rescueGreeting =
  'The call dropped for a moment and you are back. In one short sentence, say sorry for the interruption and, ' +
  'if the caller had asked something you did not finish answering, answer it now.';

export class VoiceAgent extends voice.Agent {
  readonly #llm: llm.LLM;
  readonly #memory: MemoryContext;
  readonly #logger: Logger;
  readonly #memoryMaxChars: number;
  readonly #greeting: string | null;
  readonly #greetAfter: Promise<unknown>;
  readonly #fixedGreeting: () => FixedGreeting | null;
  readonly #connOptions: APIConnectOptions;

  constructor(opts: VoiceAgentOptions) {
    super({
      instructions: opts.instructions ?? defaultInstructions,
      llm: opts.llm,
      ...(opts.tools ? { tools: opts.tools } : {}),
      ...(opts.unanswered ? { chatCtx: startingWith(opts.unanswered) } : {}),
    });
    this.#llm = opts.llm;
    this.#memory = opts.memory;
    this.#logger = opts.logger;
    this.#memoryMaxChars = opts.memoryMaxChars;
    this.#greeting = opts.greeting;
    this.#greetAfter = opts.greetAfter ?? Promise.resolve();
    this.#fixedGreeting = opts.fixedGreeting ?? (() => null);
    this.#connOptions = opts.connOptions;
  }

  override async onEnter(): Promise<void> {
    if (this.#greeting === null) return;
    await this.#greetAfter.catch(() => undefined);
    const fixed = this.#fixedGreeting();
    if (fixed) this.session.say(fixed.text, fixed.audio ? { audio: fixed.audio } : {});
    else this.session.generateReply({ instructions: this.#greeting });
  }

  override async llmNode(
    chatCtx: llm.ChatContext,
    toolCtx: llm.ToolContext,
    modelSettings: voice.ModelSettings,
  ): Promise<ReadableStream<llm.ChatChunk | string> | null> {
    const memory = renderMemory(this.#memory.snapshot(), this.#memoryMaxChars);
    const stream = this.#llm.chat({
      chatCtx: withMemory(chatCtx, memory),
      toolCtx,
      connOptions: this.#connOptions,
      ...(modelSettings.toolChoice !== undefined ? { toolChoice: modelSettings.toolChoice } : {}),
    });
    return forwardReply(this.#llm, stream, this.#logger);
  }
}

/** A conversation that opens with the caller's words. */
function startingWith(user: string): llm.ChatContext {
  const ctx = llm.ChatContext.empty();
  ctx.addMessage({ role: 'user', content: user });
  return ctx;
}
