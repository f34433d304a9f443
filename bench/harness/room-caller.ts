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
import { type AudioReceive, audioReceiveOf } from '../../src/telemetry/audio-receive.ts';
import { memoryTopic } from '../../src/telemetry/memory-publisher.ts';
import { type TurnMessage, turnTopic } from '../../src/telemetry/turn-publisher.ts';
import { audibleOffsetMs } from './audible.ts';

const FRAME_MS = 10;
const MIC_RATE = 16000;
const MIC_QUEUE_MS = 50;
const EAR_RATE = 24000;
/** Silence this long ends a stretch of the agent's speech (the stand-in's words have short gaps). */
const SILENCE_ENDS_MS = 600;

export interface Heard {
  /** Wall time (epoch ms) of the first audible sample (a frame plays from its arrival), and of the last frame with sound. */
  startedAt: number;
  endedAt: number;
}

/** How the caller receives the agent's audio: its jitter buffer (its own WebRTC stats) and frames. */
export interface ReceiveStats extends AudioReceive {
  /** Size of the frames the caller's AudioStream delivers, ms. */
  frameMs: number | null;
}

export interface TranscriptionSegment {
  /** Who was transcribed: the participant whose track `lk.transcribed_track_id` names. */
  speaker: 'caller' | 'agent' | 'unknown';
  /** That track's sid (another track of the caller's, say, when it publishes two). */
  trackId: string;
  text: string;
  /**
   * `lk.transcription_final` once the stream has ended. The caller's words come as one short
   * stream per interim or final result; the agent's as one stream per segment, written as it is
   * spoken, whose header says not final and whose trailer says final (src/patches: rtc-node and
   * the framework send it, rtc-node's reader merges it), as LiveKit's own clients read it.
   */
  final: boolean;
}

export interface Spoken {
  /** Wall time (epoch ms) the recording's first sample leaves the microphone's queue for the network. */
  startedAt: number;
  /** The same for its last sample. */
  endedAt: number;
  /** The same for the sample `ms` into the recording (where its speech ends, say). */
  timeAt(ms: number): number;
}

/** Times within a recording from the times its 10 ms frames went out. */
function spokenAt(frameTimes: number[], samples: number): Spoken {
  const timeAt = (ms: number) => {
    const i = Math.min(Math.max(0, Math.floor(ms / FRAME_MS)), frameTimes.length - 1);
    return (frameTimes[i] ?? 0) + (ms - i * FRAME_MS);
  };
  return { startedAt: timeAt(0), endedAt: timeAt((samples / MIC_RATE) * 1000), timeAt };
}

export class Caller {
  readonly room = new Room();
  readonly identity: string;
  /** Stretches of the agent's speech, in order; the last one may still be growing. */
  readonly heard: Heard[] = [];
  readonly transcriptions: TranscriptionSegment[] = [];
  /** The worker's own figures for each of its turns (`voice-agent.turn`), as they arrive. */
  readonly turnReports: TurnMessage[] = [];
  /**
   * A short queue (rtc-node's default holds 1000 ms): a microphone loop that falls behind and
   * catches up pushes a burst, which would otherwise wait in the queue for the rest of the call
   * and add its length to every later utterance's delay.
   */
  #source = new AudioSource(MIC_RATE, 1, MIC_QUEUE_MS);
  #micTrackSid = '';
  #agentTrackSid = '';
  #queue: { samples: Int16Array; offset: number; frameTimes: number[]; resolve: (s: Spoken) => void }[] = [];
  #micRunning = false;
  #listeners = new Set<() => void>();
  #streams: AudioStream[] = [];
  #frameMs: number | null = null;

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
            trackId: track,
            text,
            final: attrs['lk.transcription_final'] === 'true',
          });
          this.#notify();
        },
        () => undefined,
      );
    });
    // The agent's state for a front end; this caller does not read it, and rtc-node logs every stream nobody takes.
    this.room.registerByteStreamHandler('lk.agent.session', (reader) => void reader.readAll().catch(() => undefined));
    // A cut-off stream or a message that is not JSON leaves no figures; the turn is still timed by ear.
    this.room.registerTextStreamHandler(turnTopic, (reader) => {
      void reader
        .readAll()
        .then((text) => this.turnReports.push(JSON.parse(text) as TurnMessage))
        .catch(() => undefined);
    });
    // The memory panel's messages for the join page; read by the browser test, drained here.
    this.room.registerTextStreamHandler(memoryTopic, (reader) => void reader.readAll().catch(() => undefined));
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
    return new Promise((resolve) => this.#queue.push({ samples, offset: 0, frameTimes: [], resolve }));
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

  /** The agent's audio as received so far: the jitter buffer's delay (WebRTC stats) and the frame size. */
  async receiveStats(): Promise<ReceiveStats> {
    return { ...(await audioReceiveOf(this.room)), frameMs: this.#frameMs };
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
        // When this frame will go out: after what the source still holds from earlier frames.
        head.frameTimes.push(Date.now() + this.#source.queuedDuration);
        const n = Math.min(per, head.samples.length - head.offset);
        data.set(head.samples.subarray(head.offset, head.offset + n));
        head.offset += n;
        if (head.offset >= head.samples.length) {
          this.#queue.shift();
          head.resolve(spokenAt(head.frameTimes, head.samples.length));
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
      this.#frameMs = (frame.samplesPerChannel / frame.sampleRate) * 1000;
      const offset = audibleOffsetMs(frame.data, frame.sampleRate, frame.channels);
      if (offset === null) continue;
      const now = Date.now();
      const last = this.heard.at(-1);
      if (last && now - last.endedAt < SILENCE_ENDS_MS) last.endedAt = now;
      // The frame plays from its arrival; the reply is heard from its first audible sample.
      else this.heard.push({ startedAt: now + offset, endedAt: now });
      this.#notify();
    }
  }
}
