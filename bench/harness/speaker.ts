/**
 * The caller's loudspeaker for a session without a room: plays the agent's audio in simulated real
 * time, reports playback start and end to the framework (which is what defines end-to-end latency
 * and lets it wait for playout), and on interruption reports how far playback got together with
 * the words heard so far, from the TTS word timings attached to each frame. That last part is what
 * RoomIO's transcription synchronizer does in a room.
 */
import { voice } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import { audibleOffsetMs } from './audible.ts';

const TIMED_TRANSCRIPTS = 'lk.timed_transcripts';
/** Set by the TTS stream on its frames: when its first text went to the provider (performance.now() / 1000). */
const TTS_STARTED_TIME = 'lk.tts_started_time';

export interface PlayedSegment {
  /** Wall time (epoch ms) the first frame of the segment was played. */
  startedAt: number;
  /**
   * Wall time its first audible sample was played (TTS audio starts with a little silence), the
   * moment a caller in a room is taken to hear the reply; null if none was.
   */
  audibleAt: number | null;
  /**
   * Wall time the frame holding that sample began to play: what `audibleAt` was before it counted
   * the sample's place in its frame (the frames here are 100 ms, a room caller's 10 ms).
   */
  audibleFrameAt: number | null;
  /** Wall time the TTS sent the segment's first text to the provider, from its first frame; null if unmarked. */
  ttsStartedAt: number | null;
  /** Audio captured for the segment, in ms. */
  durationMs: number;
  /** How much was played before the segment ended, in ms. */
  playedMs: number;
  interrupted: boolean;
  /** Words whose audio started before the playhead stopped. */
  heard: string;
  frames: number;
}

interface Word {
  text: string;
  /** Start within the segment, seconds. */
  start: number;
}

export class SimulatedSpeaker extends voice.AudioOutput {
  readonly segments: PlayedSegment[] = [];
  #current: {
    startedAt: number;
    audibleAt: number | null;
    audibleFrameAt: number | null;
    ttsStartedAt: number | null;
    playheadEnd: number;
    durationMs: number;
    words: Word[];
    frames: number;
  } | null = null;
  #finishTimer: NodeJS.Timeout | undefined;

  constructor(sampleRate = 24000) {
    super(sampleRate);
  }

  override async captureFrame(frame: AudioFrame): Promise<void> {
    await super.captureFrame(frame);
    const now = performance.timeOrigin + performance.now();
    if (this.#current === null) {
      const started = frame.userdata[TTS_STARTED_TIME];
      const ttsStartedAt = typeof started === 'number' ? performance.timeOrigin + started * 1000 : null;
      this.#current = {
        startedAt: now,
        audibleAt: null,
        audibleFrameAt: null,
        ttsStartedAt,
        playheadEnd: now,
        durationMs: 0,
        words: [],
        frames: 0,
      };
      this.onPlaybackStarted(now);
    }
    const seg = this.#current;
    const frameMs = (frame.samplesPerChannel / frame.sampleRate) * 1000;
    const timed = frame.userdata[TIMED_TRANSCRIPTS];
    if (Array.isArray(timed)) {
      for (const t of timed as voice.TimedString[]) {
        // The plugin's word times are relative to the start of the TTS context, i.e. of this segment.
        seg.words.push({ text: t.text, start: t.startTime ?? 0 });
      }
    }
    // An underrun (audio arriving slower than real time) leaves a gap: playback resumes at `now`.
    const playsAt = Math.max(seg.playheadEnd, now);
    if (seg.audibleAt === null) {
      const offset = audibleOffsetMs(frame.data, frame.sampleRate, frame.channels);
      if (offset !== null) {
        seg.audibleAt = playsAt + offset;
        seg.audibleFrameAt = playsAt;
      }
    }
    seg.playheadEnd = playsAt + frameMs;
    seg.durationMs += frameMs;
    seg.frames++;
  }

  override flush(): void {
    super.flush();
    const seg = this.#current;
    if (seg === null) return;
    const remaining = seg.playheadEnd - (performance.timeOrigin + performance.now());
    this.#finishTimer = setTimeout(() => this.#finish(false), Math.max(0, remaining));
  }

  override clearBuffer(): void {
    if (this.#current === null) return;
    clearTimeout(this.#finishTimer);
    this.#finish(true);
  }

  #finish(interrupted: boolean): void {
    const seg = this.#current;
    if (seg === null) return;
    this.#current = null;
    const now = performance.timeOrigin + performance.now();
    const playedMs = interrupted ? Math.max(0, seg.durationMs - Math.max(0, seg.playheadEnd - now)) : seg.durationMs;
    const heard = seg.words
      .filter((w) => w.start * 1000 < playedMs)
      .map((w) => w.text)
      .join('');
    this.segments.push({
      startedAt: seg.startedAt,
      audibleAt: seg.audibleAt,
      audibleFrameAt: seg.audibleFrameAt,
      ttsStartedAt: seg.ttsStartedAt,
      durationMs: seg.durationMs,
      playedMs,
      interrupted,
      heard,
      frames: seg.frames,
    });
    this.onPlaybackFinished({
      playbackPosition: playedMs / 1000,
      interrupted,
      ...(interrupted ? { synchronizedTranscript: heard } : {}),
    });
  }
}
