/**
 * A spoken call with Letta memory, room-less, composed as the worker composes it: the memory
 * service behind a quiet window, the caller's memory (and, on request, its tools) in the product's
 * voice session, turns recorded for Letta, the real plugins and VAD against the stand-ins.
 */
import type { VAD, ipc } from '@livekit/agents';
import { type RoomlessCall, startRoomlessCall } from '../../bench/harness/roomless-call.ts';
import type { LettaStandIn } from '../../sim/index.ts';
import { loadConfig } from '../../src/config.ts';
import { type CallerMemory, MemoryService, type MemoryServiceOptions } from '../../src/memory/memory-service.ts';
import { QuietWindow, bindQuietWindow } from '../../src/voice/quiet-window.ts';
import { createReplyLLM } from '../../src/voice/services.ts';
import { createVoiceSession } from '../../src/voice/session-factory.ts';
import { defaultSpeechSettings } from '../../src/voice/speech-settings.ts';
import { fastRetries, recordingLogger } from '../memory/helpers.ts';
import type { SpeechStandIns } from './stand-ins.ts';

export interface MemoryCall {
  call: RoomlessCall;
  caller: CallerMemory;
  memory: MemoryService;
  /** Stops recording and closes the session; the memory service stays open (close it yourself). */
  end(): Promise<void>;
}

export async function startMemoryCall(o: {
  speech: SpeechStandIns;
  letta: LettaStandIn;
  journalDir: string;
  vad: VAD;
  sessionId: string;
  /** Gives the voice agent the caller's memory tools. */
  tools?: boolean;
  eotExecutor?: ipc.InferenceExecutor;
  memory?: Pick<MemoryServiceOptions, 'recall'>;
}): Promise<MemoryCall> {
  const config = loadConfig('chat', { LETTA_BASE_URL: o.letta.url, MEMORY_JOURNAL_DIR: o.journalDir });
  const quiet = new QuietWindow();
  const memory = new MemoryService({
    letta: { ...config.letta, baseURL: o.letta.url },
    logger: recordingLogger().logger,
    beforeRequest: () => quiet.wait(),
    writer: fastRetries,
    ...o.memory,
  });
  const caller = memory.open('alice', o.sessionId);
  const { session, agent } = createVoiceSession({
    llm: createReplyLLM({ apiKey: 'sim', baseURL: o.speech.openai.url, model: 'gpt-4.1-mini' }),
    vad: o.vad,
    speech: defaultSpeechSettings,
    ...(o.eotExecutor ? { eotExecutor: o.eotExecutor } : {}),
    memory: caller.context,
    ...(o.tools ? { tools: caller.tools } : {}),
    logger: recordingLogger().logger,
    memoryMaxChars: 4000,
    greeting: null,
    deepgram: { apiKey: 'sim', baseURL: o.speech.deepgram.url },
    elevenlabs: { apiKey: 'sim', baseURL: o.speech.elevenlabs.url, voiceId: 'sim-voice' },
  });
  const unbind = bindQuietWindow(session, quiet);
  const stop = caller.record(session);
  await caller.ready;
  const call = await startRoomlessCall({ session, agent });
  return {
    call,
    caller,
    memory,
    end: async () => {
      stop();
      unbind();
      await call.close();
    },
  };
}
