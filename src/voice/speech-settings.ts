/**
 * Every timing on the speech path, in one place, each with its default and its reason: how the end
 * of a turn is decided (silence, endpointing, the end-of-turn model), how reply text is chunked for
 * TTS, whether TTS starts before the turn is committed, the reply's timeout and retry, and how long
 * background memory traffic may be held off the reply. The levers the environment sets are read by
 * `src/config.ts` (names and docs in `src/settings.ts`); the bench compares named variants side by
 * side; the rest are constants here.
 */
import type { APIConnectOptions } from '@livekit/agents';

export type TtsChunking = 'clause' | 'sentence';
export type TurnDetectorKind = 'eot' | 'vad';
export const roomInputSampleRates = [16000, 24000, 48000] as const;
export type RoomInputSampleRate = (typeof roomInputSampleRates)[number];

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
  /**
   * The rate (Hz) a room call's input is decoded to (RoomIO's input option; the framework's default
   * is 24000). Silero and Deepgram both take 16 kHz: at any other rate each runs its own resampler
   * on every 10 ms frame, a native call through rtc-node's FFI, in the job process's main thread.
   */
  roomInputSampleRate: RoomInputSampleRate;
  /**
   * Length (ms) of the frames a room call's input is cut into (the native layer's default is 10).
   * Every frame crosses the FFI as an event, then the framework's streams to Silero and Deepgram:
   * longer frames mean fewer crossings for the same audio, and at most that much later a VAD decision.
   */
  roomInputFrameMs: number;
}

/**
 * Per turn detector, the silence and delays it allows. With the model, Silero may end a segment
 * after 250 ms (the least the model's window needs) because a pause the model judges unfinished
 * waits for `maxDelay`. With silence alone, 1 s: callers pause mid-sentence for up to ~900 ms, and
 * with preemptive generation and preemptive TTS the reply is being prepared during that second,
 * so the wait is mostly hidden behind the three stages (see docs/speech.md, the settings measured).
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
  roomInputSampleRate: 24000,
  roomInputFrameMs: 10,
};

/** The worker's defaults: the best setting measured by `npm run bench -- --voice-settings levers`. */
export const defaultSpeechSettings: SpeechSettings = {
  ttsChunking: 'clause',
  turnDetector: 'vad',
  ...turnTimingDefaults.vad,
  preemptiveTts: true,
  deepgramEndpointingMs: 25,
  roomInputSampleRate: 16000,
  roomInputFrameMs: 10,
};

/**
 * How the reply's audio goes into a room (RoomIO's audio output, in a call with a room). Measured
 * against the room's share of the reply delay by `npm run bench -- --scenario room
 * --room-variants` (bench/README.md, "the room's share").
 */
export interface RoomAudioSettings {
  /**
   * The output AudioSource's queue (ms): how far the reply's audio may run ahead of real time in
   * the native source before the framework waits. The source plays the first frame of a reply at
   * its next 10 ms tick whatever the queue holds later, and an interruption clears the queue.
   */
  queueMs: number;
  /** Opus discontinuous transmission on the agent's track (few packets while it is silent). */
  dtx: boolean;
  /** Redundant audio packets (RED) on the agent's track: each packet repeats the previous ones. */
  red: boolean;
}

/**
 * The framework's and LiveKit's defaults (RoomOutputOptions' 200 ms queue, DTX and RED on). Each
 * lever measured off in one bench run moved the room's transport share by less than the run's
 * noise (+125..+137 ms against +130 ms, bench/README.md, "The room's share"), so none replaces the
 * default: RED keeps hiding lost packets, DTX keeps the agent's silent track cheap, and the queue
 * does not hold back a reply's first frame (the source plays it at its next 10 ms tick).
 */
export const defaultRoomAudioSettings: RoomAudioSettings = { queueMs: 200, dtx: true, red: true };

/**
 * The reply's connection to the model: one retry before the first token, inside a short budget. A
 * failed first attempt costs at most `timeoutMs`, and the retry starts after 100 ms. After the first
 * token the plugin never retries (the caller would hear the reply start twice).
 */
export const replyConnOptions: APIConnectOptions = { maxRetry: 1, retryIntervalMs: 100, timeoutMs: 4000 };

/** The clause-first chunker's thresholds (see `text-chunker.ts`). */
export interface ChunkerOptions {
  /** The first piece is released after this many complete words if no clause boundary came first. */
  firstChunkWords: number;
  /** A later piece shorter than this (characters) waits for the next sentence. */
  minChunkChars: number;
}

/**
 * Four words are about 300 ms of speech: enough for ElevenLabs to start with natural prosody, few
 * enough that the first audio does not wait for a long first clause. A piece under 20 characters
 * sounds clipped when spoken alone.
 */
export const defaultChunkerOptions: ChunkerOptions = { firstChunkWords: 4, minChunkChars: 20 };

/**
 * The longest the quiet window (memory traffic held off the reply) stays closed for one turn: a
 * reply that never reports its first audio (a lost event) must not stall memory writes for good.
 */
export const quietWindowMaxHoldMs = 20_000;
