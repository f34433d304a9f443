/**
 * Energy-based speech detector over s16le PCM, in audio time (samples received). It stands in
 * for the voice activity detection a speech service runs on the audio it is sent: no model, just
 * frame RMS with hysteresis, tuned so that the pauses inside a spoken sentence (espeak leaves up
 * to ~210 ms of digital silence at a comma) do not split it.
 */

export interface SpeechDetectorOptions {
  /** Frame length the RMS is measured over. */
  frameMs: number;
  /** RMS (full scale 1.0) a frame must exceed to begin a speech candidate. */
  startThreshold: number;
  /** RMS a frame must reach to keep speech (or a candidate) going; below it the frame is silence. */
  keepThreshold: number;
  /** Voiced audio needed before a candidate counts as speech (clicks and blips are ignored). */
  minSpeechMs: number;
  /** Trailing silence that ends speech. */
  hangoverMs: number;
}

export const defaultSpeechDetectorOptions: SpeechDetectorOptions = {
  frameMs: 10,
  // −40 dBFS: well above the 0.004 the LiveKit AudioEnergyFilter treats as silence.
  startThreshold: 0.01,
  keepThreshold: 0.006,
  minSpeechMs: 60,
  hangoverMs: 300,
};

export type SpeechDetectorEvent =
  | { type: 'start'; audioMs: number }
  /** `audioMs` is where the trailing silence began; `decidedAtAudioMs` where the hangover ran out. */
  | { type: 'end'; audioMs: number; decidedAtAudioMs: number };

export class SpeechDetector {
  readonly #opts: SpeechDetectorOptions;
  readonly #sampleRate: number;
  readonly #channels: number;
  readonly #frameSamples: number;
  #pending: Buffer = Buffer.alloc(0);
  /** Audio ms of the frames analysed so far. */
  #analysedMs = 0;
  #state: 'idle' | 'candidate' | 'speech' = 'idle';
  #candidateStartMs = 0;
  #voicedMs = 0;
  #silenceStartMs: number | null = null;

  constructor(sampleRate: number, channels: number, opts: Partial<SpeechDetectorOptions> = {}) {
    this.#opts = { ...defaultSpeechDetectorOptions, ...opts };
    this.#sampleRate = sampleRate;
    this.#channels = channels;
    this.#frameSamples = Math.max(1, Math.round((sampleRate * this.#opts.frameMs) / 1000));
  }

  get speaking(): boolean {
    return this.#state === 'speech';
  }

  /** Audio ms analysed so far (whole frames only). */
  get analysedMs(): number {
    return this.#analysedMs;
  }

  /** Feeds interleaved s16le PCM of any length; returns what changed, in order. */
  push(pcm: Buffer): SpeechDetectorEvent[] {
    const frameBytes = this.#frameSamples * this.#channels * 2;
    const data = this.#pending.length ? Buffer.concat([this.#pending, pcm]) : pcm;
    const events: SpeechDetectorEvent[] = [];
    let offset = 0;
    for (; offset + frameBytes <= data.length; offset += frameBytes) {
      const event = this.#frame(this.#rms(data, offset));
      if (event) events.push(event);
    }
    this.#pending = Buffer.from(data.subarray(offset));
    return events;
  }

  /**
   * Ends speech now, as when the client asks for a flush: returns where speech ended (the start
   * of a trailing silence already under way, else the end of the audio analysed), or null when
   * no speech was under way.
   */
  forceEnd(): number | null {
    const wasSpeaking = this.#state === 'speech';
    const end = this.#silenceStartMs ?? this.#analysedMs;
    this.#toIdle();
    return wasSpeaking ? end : null;
  }

  #rms(data: Buffer, offset: number): number {
    let sum = 0;
    for (let i = 0; i < this.#frameSamples; i++) {
      // Channels are mixed down: the stand-in transcribes one channel.
      let mixed = 0;
      for (let c = 0; c < this.#channels; c++) mixed += data.readInt16LE(offset + (i * this.#channels + c) * 2);
      const x = mixed / this.#channels / 32768;
      sum += x * x;
    }
    return Math.sqrt(sum / this.#frameSamples);
  }

  #frame(rms: number): SpeechDetectorEvent | null {
    const startMs = this.#analysedMs;
    const frameMs = (this.#frameSamples * 1000) / this.#sampleRate;
    this.#analysedMs += frameMs;
    const o = this.#opts;
    switch (this.#state) {
      case 'idle':
        if (rms > o.startThreshold) {
          this.#state = 'candidate';
          this.#candidateStartMs = startMs;
          this.#voicedMs = frameMs;
          return this.#confirm();
        }
        return null;
      case 'candidate':
        if (rms < o.keepThreshold) {
          this.#toIdle();
          return null;
        }
        this.#voicedMs += frameMs;
        return this.#confirm();
      case 'speech':
        if (rms >= o.keepThreshold) {
          this.#silenceStartMs = null;
          return null;
        }
        this.#silenceStartMs ??= startMs;
        if (this.#analysedMs - this.#silenceStartMs >= o.hangoverMs) {
          const end = this.#silenceStartMs;
          this.#toIdle();
          return { type: 'end', audioMs: end, decidedAtAudioMs: this.#analysedMs };
        }
        return null;
    }
  }

  #confirm(): SpeechDetectorEvent | null {
    if (this.#voicedMs < this.#opts.minSpeechMs) return null;
    this.#state = 'speech';
    this.#silenceStartMs = null;
    return { type: 'start', audioMs: this.#candidateStartMs };
  }

  #toIdle(): void {
    this.#state = 'idle';
    this.#voicedMs = 0;
    this.#silenceStartMs = null;
  }
}
