/**
 * A fixed first greeting, synthesized once per voice and kept on disk: a caller the agent has no
 * memory of hears it as soon as the session starts, with no model reply and no TTS request in the
 * way. Every job process is a new process, so the cache is a file: the first process to need it
 * synthesizes it, the others read it.
 */
import { AudioFrame } from '@livekit/rtc-node';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ReadableStream } from 'node:stream/web';
import { type Config, requireSetting } from '../config.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { ElevenLabsSettings } from './services.ts';
import { ttsEncoding, ttsModel } from './services.ts';

/** What makes one cached greeting differ from another: the words and everything that voices them. */
export interface GreetingVoice {
  text: string;
  voiceId: string;
  model: string;
  encoding: string;
}

/** Header of the cache file: sample rate and channels (uint32 LE each), then s16 PCM. */
const HEADER_BYTES = 8;

export function greetingFile(dir: string, voice: GreetingVoice): string {
  const key = createHash('sha256').update(JSON.stringify(voice)).digest('hex').slice(0, 24);
  return join(dir, `greeting-${key}.pcm`);
}

function encode(frame: AudioFrame): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(frame.sampleRate, 0);
  header.writeUInt32LE(frame.channels, 4);
  return Buffer.concat([header, Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength)]);
}

function decode(bytes: Buffer): AudioFrame {
  if (bytes.length <= HEADER_BYTES) throw new Error('the cached greeting is empty');
  const sampleRate = bytes.readUInt32LE(0);
  const channels = bytes.readUInt32LE(4);
  const pcm = new Int16Array((bytes.length - HEADER_BYTES) >> 1);
  Buffer.from(pcm.buffer).set(bytes.subarray(HEADER_BYTES, HEADER_BYTES + pcm.byteLength));
  if (sampleRate === 0 || channels === 0 || pcm.length % channels !== 0)
    throw new Error('the cached greeting has a malformed header');
  return new AudioFrame(pcm, sampleRate, channels, pcm.length / channels);
}

/**
 * One request to ElevenLabs' REST text-to-speech, the endpoint the plugin's own one-shot synthesis
 * uses. Not through the plugin: in agents 1.9 a failed one-shot synthesis (`ChunkedStream`) is left
 * as an unhandled rejection, which would end the job process when ElevenLabs is unreachable.
 */
export function elevenLabsSynthesis(
  s: ElevenLabsSettings,
  voice: GreetingVoice,
  timeoutMs = 15_000,
): () => Promise<AudioFrame> {
  return async () => {
    const rate = Number(/^pcm_(\d+)$/.exec(voice.encoding)?.[1]);
    if (!Number.isInteger(rate)) throw new Error(`the greeting needs a pcm_* encoding, not ${voice.encoding}`);
    const url = `${s.baseURL}/text-to-speech/${encodeURIComponent(voice.voiceId)}/stream?output_format=${voice.encoding}`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'xi-api-key': s.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ text: voice.text, model_id: voice.model }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(`ElevenLabs answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    const pcm = new Int16Array(bytes.length >> 1);
    Buffer.from(pcm.buffer).set(bytes.subarray(0, pcm.byteLength));
    return new AudioFrame(pcm, rate, 1, pcm.length);
  };
}

/** Frames of 20 ms, as a TTS stream hands them to the audio output. */
function framesOf(audio: AudioFrame): AudioFrame[] {
  const step = Math.max(1, Math.round(audio.sampleRate / 50)) * audio.channels;
  const frames: AudioFrame[] = [];
  for (let at = 0; at < audio.data.length; at += step) {
    const data = audio.data.slice(at, at + step);
    frames.push(new AudioFrame(data, audio.sampleRate, audio.channels, data.length / audio.channels));
  }
  return frames;
}

export class GreetingAudio {
  readonly text: string;
  readonly #file: string;
  readonly #synthesize: () => Promise<AudioFrame>;
  readonly #logger: Logger;
  #audio: AudioFrame | null = null;
  #loading: Promise<void> | null = null;

  constructor(o: { voice: GreetingVoice; synthesize: () => Promise<AudioFrame>; cacheDir: string; logger: Logger }) {
    this.text = o.voice.text;
    this.#file = greetingFile(o.cacheDir, o.voice);
    this.#synthesize = o.synthesize;
    this.#logger = o.logger;
  }

  /**
   * Reads the cached greeting, or synthesizes and caches it. Never throws: without the audio the
   * greeting is spoken through the TTS like any reply, with the same words.
   */
  load(): Promise<void> {
    this.#loading ??= this.#load().catch((err: unknown) =>
      this.#logger.warn(
        { event: 'greeting_audio_unavailable', err: (err as Error).message },
        'could not synthesize the fixed greeting; it is spoken through the TTS on each call instead',
      ),
    );
    return this.#loading;
  }

  /** The greeting's audio as a stream of frames, or null while it is not loaded. */
  stream(): ReadableStream<AudioFrame> | null {
    if (!this.#audio) return null;
    const frames = framesOf(this.#audio);
    return new ReadableStream<AudioFrame>({
      start(controller) {
        for (const f of frames) controller.enqueue(f);
        controller.close();
      },
    });
  }

  async #load(): Promise<void> {
    try {
      this.#audio = decode(await readFile(this.#file));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.#logger.warn(
          { err: (err as Error).message, file: this.#file },
          'cached greeting unreadable; synthesizing it again',
        );
    }
    const audio = await this.#synthesize();
    if (audio.samplesPerChannel === 0) throw new Error('the TTS returned no audio for the greeting');
    await mkdir(join(this.#file, '..'), { recursive: true });
    // Several processes may synthesize it at once: each renames a whole file into place.
    const tmp = `${this.#file}.${process.pid}.tmp`;
    await writeFile(tmp, encode(audio));
    await rename(tmp, this.#file);
    this.#audio = audio;
    this.#logger.info(
      {
        event: 'greeting_audio_cached',
        file: this.#file,
        ms: Math.round((audio.samplesPerChannel / audio.sampleRate) * 1000),
      },
      'fixed greeting synthesized and cached',
    );
  }
}

/**
 * The worker's fixed greeting for new callers (NEW_CALLER_GREETING), loading in the background:
 * a call that starts before it is loaded speaks the same words through the TTS.
 */
export function newCallerGreeting(config: Config, logger: Logger): GreetingAudio | null {
  const text = config.newCallerGreeting;
  if (text === undefined) return null;
  const voice = { text, voiceId: config.elevenlabs.voiceId, model: ttsModel, encoding: ttsEncoding };
  const apiKey = requireSetting(config.elevenlabs.apiKey, 'ELEVEN_API_KEY');
  const synthesize = elevenLabsSynthesis({ ...config.elevenlabs, apiKey }, voice);
  const greeting = new GreetingAudio({
    voice,
    synthesize,
    cacheDir: join(config.letta.journalDir, 'greetings'),
    logger,
  });
  void greeting.load();
  return greeting;
}
