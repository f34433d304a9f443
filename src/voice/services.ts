/**
 * The three provider clients, built from explicit settings. Keys are always passed in: the
 * Deepgram plugin reads its key from the environment at import time, which would ignore `.env`
 * and the stand-ins.
 */
import * as deepgram from '@livekit/agents-plugin-deepgram';
import * as elevenlabs from '@livekit/agents-plugin-elevenlabs';
import * as openai from '@livekit/agents-plugin-openai';
import type { SpeechSettings } from './speech-settings.ts';
import { ttsTokenizer } from './text-chunker.ts';

export interface OpenAISettings {
  apiKey: string;
  baseURL: string;
  model: string;
}
export interface DeepgramSettings {
  apiKey: string;
  baseURL: string;
}
export interface ElevenLabsSettings {
  apiKey: string;
  baseURL: string;
  voiceId: string;
}

export function createReplyLLM(s: OpenAISettings): openai.LLM {
  return new openai.LLM({ apiKey: s.apiKey, baseURL: s.baseURL, model: s.model });
}

export function createSTT(s: DeepgramSettings, speech: Pick<SpeechSettings, 'deepgramEndpointingMs'>): deepgram.STT {
  return new deepgram.STT({
    apiKey: s.apiKey,
    baseUrl: s.baseURL,
    model: 'nova-3',
    language: 'en-US',
    endpointing: speech.deepgramEndpointingMs,
  });
}

/** ElevenLabs' lowest-latency model (the plugin's default model is end-of-life). */
export const ttsModel = 'eleven_flash_v2_5';
/**
 * The plugin decodes audio as raw s16 PCM, so only pcm_* encodings work; 22050 Hz is the highest
 * rate its types allow below 44.1 kHz (the framework resamples to the output rate).
 */
export const ttsEncoding = 'pcm_22050';

export function createTTS(s: ElevenLabsSettings, speech: Pick<SpeechSettings, 'ttsChunking'>): elevenlabs.TTS {
  return new elevenlabs.TTS({
    // A sentence tokenizer keeps the plugin in auto mode, where every piece is flushed.
    wordTokenizer: ttsTokenizer(speech.ttsChunking),
    apiKey: s.apiKey,
    baseURL: s.baseURL,
    voiceId: s.voiceId,
    model: ttsModel,
    encoding: ttsEncoding,
  });
}
