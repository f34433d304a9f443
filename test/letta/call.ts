/**
 * A call in text, composed as the worker composes a spoken one but without audio: the product's
 * memory service over Letta's own server, the caller's memory and tools in the product's session,
 * turns recorded for Letta. The voice agent's replies come from an OpenAI stand-in of the test's.
 */
import { initializeLogger, voice } from '@livekit/agents';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OpenAIStandIn } from '../../sim/index.ts';
import { loadConfig } from '../../src/config.ts';
import { type CallerMemory, MemoryService } from '../../src/memory/memory-service.ts';
import { QuietWindow } from '../../src/voice/quiet-window.ts';
import { createReplyLLM } from '../../src/voice/services.ts';
import { createTextSession } from '../../src/voice/session-factory.ts';
import { type LogLine, recordingLogger } from '../memory/helpers.ts';
import { lettaUrl, proxyModel } from './helpers.ts';

export interface TextCall {
  memory: MemoryService;
  caller: CallerMemory;
  lines: LogLine[];
  /** One turn: the caller's words in, the agent's reply (all its messages) out. */
  say(text: string): Promise<string>;
  /** Ends the call and closes the memory service (waiting up to `flushMs` for writes). */
  end(flushMs: number): Promise<{ pending: number }>;
}

export async function startTextCall(o: {
  openai: OpenAIStandIn;
  identity: string;
  tools?: boolean;
  env?: Record<string, string>;
}): Promise<TextCall> {
  initializeLogger({ pretty: false, level: 'silent' });
  const dir = await mkdtemp(join(tmpdir(), 'letta-call-'));
  const config = loadConfig('chat', {
    LETTA_BASE_URL: lettaUrl,
    LETTA_AGENT_MODEL: proxyModel,
    MEMORY_JOURNAL_DIR: dir,
    ...o.env,
  });
  const { logger, lines } = recordingLogger();
  const quiet = new QuietWindow();
  const memory = new MemoryService({
    letta: { ...config.letta, baseURL: lettaUrl },
    logger,
    beforeRequest: () => quiet.wait(),
    writer: { backoffBaseMs: 100, backoffCapMs: 1000 },
  });
  const caller = memory.open(o.identity, `call-${Date.now()}`);
  await caller.ready;
  const { session, agent } = createTextSession({
    llm: createReplyLLM({ apiKey: 'sim', baseURL: o.openai.url, model: 'gpt-4.1-mini' }),
    memory: caller.context,
    ...(o.tools ? { tools: caller.tools } : {}),
    logger,
    memoryMaxChars: 4000,
    greeting: null,
  });
  const stopRecording = caller.record(session);
  await session.start({ agent });
  return {
    memory,
    caller,
    lines,
    // Not `session.run()`: agents 1.9 hands a background tool's follow-up reply to the run's
    // watcher as a bare promise, which it cannot watch (an unhandled TypeError); a voice call has
    // no run, and neither does this.
    say: async (text) => {
      const said: string[] = [];
      const onItem = (ev: voice.ConversationItemAddedEvent): void => {
        if (ev.item.type === 'message' && ev.item.role === 'assistant') said.push(ev.item.textContent ?? '');
      };
      session.on(voice.AgentSessionEventTypes.ConversationItemAdded, onItem);
      try {
        await session.generateReply({ userInput: text }).waitForPlayout();
      } finally {
        session.off(voice.AgentSessionEventTypes.ConversationItemAdded, onItem);
      }
      return said.join(' ');
    },
    end: async (flushMs) => {
      stopRecording();
      await session.close();
      const { pending } = await memory.close(flushMs);
      await rm(dir, { recursive: true, force: true });
      return { pending: pending.length };
    },
  };
}
