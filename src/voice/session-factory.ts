/**
 * Builds the agent session from its parts. One factory for the worker, the chat CLI, the bench
 * and the tests, so that what is measured and tested is what is deployed.
 */
import { type VAD, ipc, llm as lkllm, voice } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';
import type { Logger } from '../telemetry/logger.ts';
import type { MemoryContext } from './memory-context.ts';
import { localTurnDetector } from './end-of-turn.ts';
import { type DeepgramSettings, type ElevenLabsSettings, createSTT, createTTS } from './services.ts';
import { type SpeechSettings, replyConnOptions } from './speech-settings.ts';
import { type FixedGreeting, VoiceAgent } from './voice-agent.ts';

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
  /** See `VoiceAgentOptions.fixedGreeting`. */
  fixedGreeting?: () => FixedGreeting | null;
  /** The caller's words a previous agent of this call died answering (see src/calls/call-rescue.ts). */
  unanswered?: string;
}

export interface VoiceSessionParts extends AgentParts {
  deepgram: DeepgramSettings;
  elevenlabs: ElevenLabsSettings;
  /** Silero, loaded with `speech.vadMinSilenceMs` (see `loadVad`). */
  vad: VAD;
  speech: SpeechSettings;
  /** Runs the end-of-turn model; unset in a job, whose shared inference process runs it. */
  eotExecutor?: ipc.InferenceExecutor;
}

/** Silero VAD with the silence the speech settings ask for; the model ships in its package. */
export function loadVad(speech: Pick<SpeechSettings, 'vadMinSilenceMs'>): Promise<VAD> {
  return silero.VAD.load({ minSilenceDuration: speech.vadMinSilenceMs });
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
    ...(p.fixedGreeting !== undefined ? { fixedGreeting: p.fixedGreeting } : {}),
    ...(p.unanswered !== undefined ? { unanswered: p.unanswered } : {}),
  });
}

/** The full speech pipeline: Silero VAD, Deepgram nova-3, the llm node, ElevenLabs Flash. */
export function createVoiceSession(p: VoiceSessionParts): { session: voice.AgentSession; agent: VoiceAgent } {
  const s = p.speech;
  const session = new voice.AgentSession({
    llm: p.llm,
    stt: createSTT(p.deepgram, s),
    tts: createTTS(p.elevenlabs, s),
    vad: p.vad,
    turnHandling: {
      // Both run locally with no download. With either, the framework still treats the turn as
      // VAD-based: preemptive generation starts on Deepgram's final transcript while the caller
      // is still in trailing silence; the model only stretches the wait when a pause sounds unfinished.
      turnDetection: s.turnDetector === 'eot' ? localTurnDetector(p.eotExecutor) : 'vad',
      endpointing: { mode: 'fixed', minDelay: s.endpointingMinDelayMs, maxDelay: s.endpointingMaxDelayMs },
      interruption: { enabled: true, mode: 'vad' },
      preemptiveGeneration: { enabled: true, preemptiveTts: s.preemptiveTts },
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
