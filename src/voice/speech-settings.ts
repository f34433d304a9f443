/**
 * The settings that trade reply speed against patience with the caller, in one place: how text
 * is chunked for TTS, how the end of a turn is decided, whether TTS starts before the turn is
 * committed, and Deepgram's endpointing. The worker reads them from the environment
 * (`src/config.ts`); the bench compares named variants side by side.
 */
import { tokenize } from '@livekit/agents';
import { ClauseFirstTokenizer } from './text-chunker.ts';

export type TtsChunking = 'clause' | 'sentence';
export type TurnDetectorKind = 'eot' | 'vad';

export interface SpeechSettings {
  /** `clause`: first piece at the first clause boundary, then sentences; `sentence`: the plugin's own tokenizer. */
  ttsChunking: TtsChunking;
  /** `eot`: LiveKit's local audio end-of-turn model decides, after VAD silence; `vad`: silence alone. */
  turnDetector: TurnDetectorKind;
  /** Silero: silence that ends a speech segment. */
  vadMinSilenceMs: number;
  /** Caller's last word → turn committed, at least (and when the model thinks the caller is done). */
  endpointingMinDelayMs: number;
  /** The same when the end-of-turn model thinks the caller is not done yet. */
  endpointingMaxDelayMs: number;
  /** Start TTS on the preemptive reply, before the turn is committed (audio plays only once it is). */
  preemptiveTts: boolean;
  /** Silence (ms) Deepgram waits for before it finalises a transcript. */
  deepgramEndpointingMs: number;
}

/**
 * Per turn detector, the silence and delays it allows. With the model, Silero may end a segment
 * after 250 ms (the least the model's window needs) because a pause the model judges unfinished
 * waits for `maxDelay`. With silence alone, 1 s: callers pause mid-sentence for up to ~900 ms, and
 * with preemptive generation and preemptive TTS the reply is being prepared during that second,
 * so the wait is mostly hidden behind the three stages (see the README's results).
 */
export const turnTimingDefaults: Record<
  TurnDetectorKind,
  Pick<SpeechSettings, 'vadMinSilenceMs' | 'endpointingMinDelayMs' | 'endpointingMaxDelayMs'>
> = {
  eot: { vadMinSilenceMs: 250, endpointingMinDelayMs: 300, endpointingMaxDelayMs: 2500 },
  vad: { vadMinSilenceMs: 1000, endpointingMinDelayMs: 500, endpointingMaxDelayMs: 3000 },
};

/** The least Silero silence the end-of-turn model works with (its window must hold some silence). */
export const eotMinVadSilenceMs = 250;

/** What the worker ran before these levers: the plugins' and the framework's defaults. */
export const baselineSpeechSettings: SpeechSettings = {
  ttsChunking: 'sentence',
  turnDetector: 'vad',
  vadMinSilenceMs: 550,
  endpointingMinDelayMs: 500,
  endpointingMaxDelayMs: 3000,
  preemptiveTts: false,
  deepgramEndpointingMs: 25,
};

/** The worker's defaults: the best setting measured by `npm run bench -- --voice-settings levers`. */
export const defaultSpeechSettings: SpeechSettings = {
  ttsChunking: 'clause',
  turnDetector: 'vad',
  ...turnTimingDefaults.vad,
  preemptiveTts: true,
  deepgramEndpointingMs: 25,
};

/** The tokenizer handed to the ElevenLabs plugin. */
export function ttsTokenizer(chunking: TtsChunking): tokenize.SentenceTokenizer {
  return chunking === 'clause' ? new ClauseFirstTokenizer() : new tokenize.basic.SentenceTokenizer();
}
