/**
 * The hybrid design as the bench drives it, composed exactly as the worker composes it: one
 * memory service per process (`openMemoryService`: caller→agent directory, memory cache, journaled
 * turn writer, all over Letta) behind one quiet window, and per call the product's agent
 * (`createAgent`, whose llm node streams from OpenAI) reading that caller's memory.
 */
import { randomUUID } from 'node:crypto';
import type { llm } from '@livekit/agents';
import type * as openaiPlugin from '@livekit/agents-plugin-openai';
import type { Config } from '../src/config.ts';
import { type CallerMemory, type MemoryService, openMemoryService } from '../src/memory/memory-service.ts';
import type { Logger } from '../src/telemetry/logger.ts';
import { type MemoryContext, noMemory } from '../src/voice/memory-context.ts';
import { QuietWindow } from '../src/voice/quiet-window.ts';
import { createReplyLLM } from '../src/voice/services.ts';
import { createAgent } from '../src/voice/session-factory.ts';
import type { VoiceAgent } from '../src/voice/voice-agent.ts';
import type { LettaEndpoint, OpenAIEndpoint } from './backend.ts';
import { type Measured, measureText } from './measure.ts';
import { hybridReply } from './paths.ts';

/** What a worker process holds: the quiet window and, with Letta configured, the memory service. */
export interface MemoryHost {
  window: QuietWindow;
  service: MemoryService | null;
  /** Flushes pending writes (up to `flushMs`) and stops the writer. */
  close(flushMs?: number): Promise<void>;
}

export function openMemoryHost(o: {
  config: Config;
  letta: LettaEndpoint | null;
  journalDir: string;
  /** A Redis journal instead of files in `journalDir`. */
  journalUrl?: string;
  logger: Logger;
}): MemoryHost {
  const window = new QuietWindow();
  const config: Config = {
    ...o.config,
    letta: {
      ...o.config.letta,
      journalDir: o.journalDir,
      ...(o.journalUrl !== undefined ? { journalUrl: o.journalUrl } : {}),
      ...(o.letta ? { baseURL: o.letta.baseURL, agentModel: o.letta.agentModel } : {}),
      ...(o.letta?.apiKey !== undefined ? { apiKey: o.letta.apiKey } : {}),
    },
  };
  if (!o.letta) delete config.letta.baseURL;
  const service = openMemoryService(config, o.logger, window);
  return {
    window,
    service,
    async close(flushMs = 0) {
      await service?.close(flushMs);
    },
  };
}

export interface Hybrid {
  agent: VoiceAgent;
  llm: openaiPlugin.LLM;
  /** This call's memory, when the host has a memory service. */
  caller: CallerMemory | null;
  memory: MemoryContext;
  window: QuietWindow;
  /** This call's hold on the process's quiet window. */
  windowKey: symbol;
  /** Hands a finished text turn to memory (voice sessions record their own turns via `caller.record`). */
  finished(user: string, assistant: string, userAt: number): void;
  close(): Promise<void>;
}

/**
 * Opens one call: the caller's memory is read within its budget (as the worker's greeting waits
 * for it), then the agent is built over it.
 */
export async function openHybrid(o: {
  openai: OpenAIEndpoint;
  host: MemoryHost;
  identity: string;
  logger: Logger;
  config: Config;
}): Promise<Hybrid> {
  const model = createReplyLLM({ apiKey: o.openai.apiKey, baseURL: o.openai.baseURL, model: o.openai.model });
  const sessionId = `bench-${randomUUID()}`;
  const caller = o.host.service?.open(o.identity, sessionId) ?? null;
  if (caller) await caller.ready;
  const memory = caller?.context ?? noMemory;
  const agent = createAgent({
    llm: model,
    memory,
    logger: o.logger,
    memoryMaxChars: o.config.letta.memoryMaxChars,
    greeting: null,
  });
  const windowKey = Symbol(o.identity);
  const recorder = caller?.recorder() ?? null;
  return {
    agent,
    llm: model,
    caller,
    memory,
    window: o.host.window,
    windowKey,
    finished(user, assistant, userAt) {
      recorder?.user(user, userAt);
      recorder?.assistant(assistant, false);
    },
    async close() {
      o.host.window.release(windowKey);
      await model.aclose();
    },
  };
}

/**
 * One text turn through the llm node, as the framework runs it: the quiet window is held from the
 * caller's turn to the first token (a text turn has no first audio, which ends the hold in a
 * spoken call), then the reply joins the history and the finished turn goes to memory.
 */
export async function hybridTextTurn(h: Hybrid, chatCtx: llm.ChatContext, prompt: string): Promise<Measured> {
  const userAt = Date.now();
  chatCtx.addMessage({ role: 'user', content: prompt });
  h.window.hold(h.windowKey);
  const m = await measureText(() => releaseOnFirst(hybridReply(h.agent, chatCtx), () => h.window.release(h.windowKey)));
  h.window.release(h.windowKey);
  chatCtx.addMessage({ role: 'assistant', content: m.text });
  h.finished(prompt, m.text, userAt);
  return m;
}

async function* releaseOnFirst(pieces: AsyncIterable<string>, release: () => void): AsyncGenerator<string> {
  let first = true;
  for await (const piece of pieces) {
    if (first) {
      first = false;
      release();
    }
    yield piece;
  }
}
