/**
 * A caller in a real room, on @livekit/rtc-node: a microphone that sends audio in real time
 * (silence between utterances, like an open microphone), ears that tell when the agent's audio is
 * sound and when it is silence, and what arrives on the `lk.transcription` text-stream topic.
 */
import {
  AudioFrame,
  AudioSource,
  AudioStream,
  LocalAudioTrack,
  type RemoteTrack,
  Room,
  RoomEvent,
  TrackKind,
  TrackPublishOptions,
  TrackSource,
} from '@livekit/rtc-node';
import { memoryTopic } from '../../src/telemetry/memory-publisher.ts';
import { turnTopic } from '../../src/telemetry/turn-publisher.ts';

const FRAME_MS = 10;
const MIC_RATE = 16000;
const EAR_RATE = 24000;
/** Peak level (of 32767) above which a frame of the agent's audio counts as sound. */
const SOUND_PEAK = 1000;
/** Silence this long ends a stretch of the agent's speech (the stand-in's words have short gaps). */
const SILENCE_ENDS_MS = 600;

export interface Heard {
  /** Wall time (epoch ms) of the first and last frame with sound. */
  startedAt: number;
  endedAt: number;
}

export interface TranscriptionSegment {
  /** Who was transcribed: the participant whose track `lk.transcribed_track_id` names. */
  speaker: 'caller' | 'agent' | 'unknown';
  text: string;
  /**
   * The caller's words come as one short stream per interim or final result, marked by
   * `lk.transcription_final`; the agent's come as one stream per segment, written as it is
   * spoken, whose header says not final: a stream that has ended is its whole segment.
   */
  final: boolean;
}

export interface Spoken {
  startedAt: number;
  endedAt: number;
}

export class Caller {
  readonly room = new Room();
  readonly identity: string;
  /** Stretches of the agent's speech, in order; the last one may still be growing. */
  readonly heard: Heard[] = [];
  readonly transcriptions: TranscriptionSegment[] = [];
  #source = new AudioSource(MIC_RATE, 1);
  #micTrackSid = '';
  #agentTrackSid = '';
  #queue: { samples: Int16Array; offset: number; startedAt?: number; resolve: (s: Spoken) => void }[] = [];
  #micRunning = false;
  #listeners = new Set<() => void>();
  #streams: AudioStream[] = [];

  constructor(identity: string) {
    this.identity = identity;
  }

  async join(url: string, token: string): Promise<void> {
    this.room.registerTextStreamHandler('lk.transcription', (reader) => {
      // A stream cut off by leaving the room is no transcript: its rejection is dropped.
      void reader.readAll().then(
        (text) => {
          const attrs = reader.info.attributes ?? {};
          const track = attrs['lk.transcribed_track_id'] ?? '';
          const speaker = track === this.#micTrackSid ? 'caller' : track === this.#agentTrackSid ? 'agent' : 'unknown';
          this.transcriptions.push({
            speaker,
            text,
            final: speaker === 'agent' || attrs['lk.transcription_final'] === 'true',
          });
          this.#notify();
        },
        () => undefined,
      );
    });
    // The agent's state for a front end; this caller does not read it, and rtc-node logs every stream nobody takes.
    this.room.registerByteStreamHandler('lk.agent.session', (reader) => void reader.readAll().catch(() => undefined));
    // The worker's panel messages for the join page; read by the browser test, drained here.
    for (const topic of [turnTopic, memoryTopic]) {
      this.room.registerTextStreamHandler(topic, (reader) => void reader.readAll().catch(() => undefined));
    }
    this.room.on(RoomEvent.TrackSubscribed, (track: RemoteTrack) => {
      if (track.kind !== TrackKind.KIND_AUDIO) return;
      this.#agentTrackSid = track.sid ?? '';
      void this.#listen(track);
    });
    await this.room.connect(url, token, { autoSubscribe: true, dynacast: false });
    const track = LocalAudioTrack.createAudioTrack('microphone', this.#source);
    const options = new TrackPublishOptions();
    options.source = TrackSource.SOURCE_MICROPHONE;
    const pub = await this.room.localParticipant!.publishTrack(track, options);
    this.#micTrackSid = pub.sid ?? '';
    void this.#runMicrophone();
  }

  /** Queues a recording (mono s16 at 16 kHz); resolves when its last sample has been sent. */
  say(samples: Int16Array): Promise<Spoken> {
    return new Promise((resolve) => this.#queue.push({ samples, offset: 0, resolve }));
  }

  /** Sends a typed message to the agent, as a chat box does. */
  async chat(text: string): Promise<void> {
    await this.room.localParticipant!.sendText(text, { topic: 'lk.chat' });
  }

  /**
   * Resolves once `check` returns something. It is checked whenever audio or text arrives, and
   * every 100 ms, because the end of the agent's speech is the absence of sound.
   */
  until<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        clearInterval(tick);
        this.#listeners.delete(test);
      };
      const test = () => {
        const v = check();
        if (v === undefined) return;
        finish();
        resolve(v);
      };
      const timer = setTimeout(() => {
        finish();
        const seen = `heard ${this.heard.length} stretches, ${this.transcriptions.length} transcriptions, agent track ${this.#agentTrackSid || 'none'}`;
        reject(new Error(`${this.identity}: no ${what} within ${timeoutMs} ms (${seen})`));
      }, timeoutMs);
      const tick = setInterval(test, 100);
      this.#listeners.add(test);
      test();
    });
  }

  /** The n-th stretch of the agent's speech (0 = greeting) once it has ended. */
  heardSpeech(n: number, timeoutMs = 30_000): Promise<Heard> {
    return this.until(
      () => {
        const h = this.heard[n];
        return h && (n < this.heard.length - 1 || Date.now() - h.endedAt >= SILENCE_ENDS_MS) ? h : undefined;
      },
      timeoutMs,
      `agent speech #${n}`,
    );
  }

  /** Resolves when the agent's audio has sound again after `since` (epoch ms). */
  speechAfter(since: number, timeoutMs = 30_000): Promise<Heard> {
    return this.until(() => this.heard.find((h) => h.startedAt > since), timeoutMs, 'agent speech');
  }

  finalTranscripts(speaker: TranscriptionSegment['speaker']): string[] {
    return this.transcriptions.filter((t) => t.speaker === speaker && t.final).map((t) => t.text);
  }

  async leave(): Promise<void> {
    this.#micRunning = false;
    for (const s of this.#streams) await s.cancel().catch(() => undefined);
    await this.room.disconnect();
    await this.#source.close();
  }

  #notify(): void {
    for (const l of [...this.#listeners]) l();
  }

  /** 10 ms frames on a fixed wall-clock schedule from the start, so the audio runs in real time. */
  async #runMicrophone(): Promise<void> {
    this.#micRunning = true;
    const per = (MIC_RATE * FRAME_MS) / 1000;
    const start = performance.now();
    let sent = 0;
    while (this.#micRunning) {
      const data = new Int16Array(per);
      const head = this.#queue[0];
      if (head) {
        head.startedAt ??= Date.now();
        const n = Math.min(per, head.samples.length - head.offset);
        data.set(head.samples.subarray(head.offset, head.offset + n));
        head.offset += n;
        if (head.offset >= head.samples.length) {
          this.#queue.shift();
          head.resolve({ startedAt: head.startedAt, endedAt: Date.now() });
        }
      }
      await this.#source.captureFrame(new AudioFrame(data, MIC_RATE, 1, per));
      sent++;
      const due = start + sent * FRAME_MS;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }

  async #listen(track: RemoteTrack): Promise<void> {
    const stream = new AudioStream(track, { sampleRate: EAR_RATE, numChannels: 1 });
    this.#streams.push(stream);
    for await (const frame of stream) {
      let peak = 0;
      for (const v of frame.data) peak = Math.max(peak, Math.abs(v));
      if (peak < SOUND_PEAK) continue;
      const now = Date.now();
      const last = this.heard.at(-1);
      if (last && now - last.endedAt < SILENCE_ENDS_MS) last.endedAt = now;
      else this.heard.push({ startedAt: now, endedAt: now });
      this.#notify();
    }
  }
}
