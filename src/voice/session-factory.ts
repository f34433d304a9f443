/**
 * Builds the agent session from its parts. One factory for the worker, the chat CLI, the bench
 * and the tests, so that what is measured and tested is what is deployed.
 */
import { type VAD, llm as lkllm, voice } from '@livekit/agents';
import type { Logger } from '../telemetry/logger.ts';
import type { MemoryContext } from './memory-context.ts';
import { type DeepgramSettings, type ElevenLabsSettings, createSTT, createTTS } from './services.ts';
import { VoiceAgent, replyConnOptions } from './voice-agent.ts';

export interface AgentParts {
  /** The reply model; the session must hold it even though the llm node is overridden. */
  llm: lkllm.LLM;
  memory: MemoryContext;
  logger: Logger;
  memoryMaxChars: number;
  instructions?: string;
  tools?: lkllm.ToolContextLike;
  /** Instructions for the greeting, or null for none. */
  greeting: string | null;
  greetAfter?: Promise<unknown>;
}

export interface VoiceSessionParts extends AgentParts {
  deepgram: DeepgramSettings;
  elevenlabs: ElevenLabsSettings;
  vad: VAD;
}

export function createAgent(p: AgentParts): VoiceAgent {
  return new VoiceAgent({
    llm: p.llm,
    memory: p.memory,
    logger: p.logger,
    memoryMaxChars: p.memoryMaxChars,
    greeting: p.greeting,
    connOptions: replyConnOptions,
    ...(p.instructions !== undefined ? { instructions: p.instructions } : {}),
    ...(p.tools !== undefined ? { tools: p.tools } : {}),
    ...(p.greetAfter !== undefined ? { greetAfter: p.greetAfter } : {}),
  });
}

/** The full speech pipeline: Silero VAD, Deepgram nova-3, the llm node, ElevenLabs Flash. */
export function createVoiceSession(p: VoiceSessionParts): { session: voice.AgentSession; agent: VoiceAgent } {
  const session = new voice.AgentSession({
    llm: p.llm,
    stt: createSTT(p.deepgram),
    tts: createTTS(p.elevenlabs),
    vad: p.vad,
    turnHandling: {
      // VAD turn detection runs locally with no model download, and lets preemptive generation
      // start on Deepgram's final transcript while the caller is still in trailing silence.
      turnDetection: 'vad',
      interruption: { enabled: true, mode: 'vad' },
      preemptiveGeneration: { enabled: true },
    },
    connOptions: { llmConnOptions: replyConnOptions },
  });
  return { session, agent: createAgent(p) };
}

/** Text only: no STT, TTS or VAD. Used by `npm run chat`. */
export function createTextSession(p: AgentParts): { session: voice.AgentSession; agent: VoiceAgent } {
  const session = new voice.AgentSession({
    llm: p.llm,
    vad: null,
    turnHandling: { turnDetection: 'manual', preemptiveGeneration: { enabled: false } },
    connOptions: { llmConnOptions: replyConnOptions },
  });
  return { session, agent: createAgent(p) };
}
