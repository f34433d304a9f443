/**
 * The job entry: one call in one room. Builds the session from its parts and wires the memory
 * implementation into the speech path's memory interface.
 */
import { type JobContext, type JobProcess, type VAD, defineAgent } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';
import type { llm } from '@livekit/agents';
import { type Config, loadConfig, requireSetting as required } from './config.ts';
import { createLogger } from './telemetry/logger.ts';
import { logTurnLatency } from './telemetry/turn-latency.ts';
import { noMemory } from './voice/memory-context.ts';
import { createReplyLLM } from './voice/services.ts';
import { createVoiceSession } from './voice/session-factory.ts';
import { defaultGreeting } from './voice/voice-agent.ts';

interface Prewarmed {
  config: Config;
  vad: VAD;
  llm: llm.LLM;
}

export default defineAgent<Prewarmed>({
  prewarm: async (proc: JobProcess<Prewarmed>) => {
    const config = loadConfig('worker');
    proc.userData.config = config;
    proc.userData.vad = await silero.VAD.load();
    const model = createReplyLLM({ ...config.openai, apiKey: required(config.openai.apiKey, 'OPENAI_API_KEY') });
    // Opens DNS, TLS and a keep-alive connection before the first reply needs them.
    model.prewarm();
    proc.userData.llm = model;
  },
  entry: async (ctx: JobContext<Prewarmed>) => {
    const { config, vad, llm: model } = ctx.proc.userData;
    const logger = createLogger({ level: config.logLevel, name: 'voice-agent', secrets: config.secrets }).child({
      room: ctx.job.room?.name,
    });
    const { session, agent } = createVoiceSession({
      llm: model,
      vad,
      memory: noMemory,
      logger,
      memoryMaxChars: config.letta.memoryMaxChars,
      greeting: defaultGreeting,
      deepgram: { ...config.deepgram, apiKey: required(config.deepgram.apiKey, 'DEEPGRAM_API_KEY') },
      elevenlabs: { ...config.elevenlabs, apiKey: required(config.elevenlabs.apiKey, 'ELEVEN_API_KEY') },
      ...(config.instructions !== undefined ? { instructions: config.instructions } : {}),
    });
    logTurnLatency(session, logger);
    await session.start({ agent, room: ctx.room });
    await ctx.connect();
  },
});
