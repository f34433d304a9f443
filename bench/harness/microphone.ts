/**
 * A simulated caller's microphone for a session without a room: like a real one it sends audio
 * continuously in real time (silence between utterances), so VAD and the STT see what they would
 * see from a room, and latency measured through it is real.
 */
import { voice } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import { ReadableStream, type ReadableStreamDefaultController } from 'node:stream/web';

const FRAME_MS = 20;

export interface SpokenUtterance {
  /** Wall time (epoch ms) the first sample of the clip was sent. */
  startedAt: number;
  /** Wall time the last sample of the clip was sent. */
  endedAt: number;
}

interface Pending {
  samples: Int16Array;
  offset: number;
  startedAt?: number;
  resolve: (u: SpokenUtterance) => void;
}

export class SimulatedMicrophone extends voice.AudioInput {
  readonly sampleRate: number;
  readonly #samplesPerFrame: number;
  #controller: ReadableStreamDefaultController<AudioFrame> | undefined;
  #queue: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #startedAt = 0;
  #framesSent = 0;

  constructor(sampleRate = 16000) {
    super();
    this.sampleRate = sampleRate;
    this.#samplesPerFrame = (sampleRate * FRAME_MS) / 1000;
    this.multiStream.addInputStream(
      new ReadableStream<AudioFrame>({
        start: (c) => {
          this.#controller = c;
        },
      }),
    );
  }

  /** Starts sending audio (silence until something is said). */
  start(): void {
    if (this.#timer) return;
    this.#startedAt = performance.now();
    // Frames are due on a fixed schedule from the start; a late tick sends every frame it owes.
    this.#timer = setInterval(() => this.#tick(), FRAME_MS / 2);
  }

  /** Queues a clip (mono s16 at this microphone's rate); resolves once all of it has been sent. */
  say(samples: Int16Array): Promise<SpokenUtterance> {
    return new Promise((resolve) => this.#queue.push({ samples, offset: 0, resolve }));
  }

  #tick(): void {
    const due = Math.floor((performance.now() - this.#startedAt) / FRAME_MS);
    while (this.#framesSent < due) {
      this.#controller?.enqueue(this.#nextFrame());
      this.#framesSent++;
    }
  }

  #nextFrame(): AudioFrame {
    const data = new Int16Array(this.#samplesPerFrame);
    const head = this.#queue[0];
    if (head) {
      const now = performance.timeOrigin + performance.now();
      head.startedAt ??= now;
      const n = Math.min(this.#samplesPerFrame, head.samples.length - head.offset);
      data.set(head.samples.subarray(head.offset, head.offset + n));
      head.offset += n;
      if (head.offset >= head.samples.length) {
        this.#queue.shift();
        head.resolve({ startedAt: head.startedAt, endedAt: now });
      }
    }
    return new AudioFrame(data, this.sampleRate, 1, this.#samplesPerFrame);
  }

  override async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    try {
      this.#controller?.close();
    } catch {
      // Already closed by the framework when the session ended.
    }
    await super.close();
  }
}
