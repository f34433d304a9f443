/**
 * The framework's audio helpers as the pinned patch leaves them (src/patches/@livekit+agents+1.9.0.patch):
 * the same frames as before, built with native copies. Silero merges frames every 32 ms and the
 * Deepgram and ElevenLabs plugins cut their audio with AudioByteStream; spreading every sample
 * through a JS array there was a measurable share of a talking call's CPU (bench/README.md).
 */
import { AudioByteStream, initializeLogger, mergeFrames } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import { describe, expect, it } from 'vitest';

initializeLogger({ pretty: false, level: 'warn' });

/** A frame whose samples are a view into a larger buffer, as frames from the native layer are. */
function frameOf(samples: number, seed: number): AudioFrame {
  const backing = new Int16Array(samples + 8);
  for (let i = 0; i < backing.length; i++) backing[i] = ((i * 97 + seed * 13) % 65536) - 32768;
  return new AudioFrame(backing.subarray(4, 4 + samples), 16000, 1, samples);
}

describe('audio helpers of the agents framework', () => {
  it('mergeFrames concatenates the frames’ samples in order', () => {
    const frames = [frameOf(160, 1), frameOf(160, 2), frameOf(37, 3)];
    const merged = mergeFrames(frames);
    expect(merged.samplesPerChannel).toBe(357);
    expect(merged.sampleRate).toBe(16000);
    expect(Array.from(merged.data)).toEqual(frames.flatMap((f) => Array.from(f.data)));
  });

  it('AudioByteStream cuts any sequence of writes into the same whole frames', () => {
    const bytes = new Uint8Array(10_000).map((_, i) => (i * 7) & 255);
    const stream = new AudioByteStream(16000, 1, 160);
    const frames = [1, 999, 320, 4000, 4680].flatMap((len, i, all) => {
      const start = all.slice(0, i).reduce((a, b) => a + b, 0);
      return stream.write(bytes.subarray(start, start + len));
    });
    expect(frames).toHaveLength(31);
    const out = new Uint8Array(
      frames.flatMap((f) => Array.from(new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.byteLength))),
    );
    expect(out).toEqual(bytes.subarray(0, 31 * 320));
    expect(stream.flush()[0]?.samplesPerChannel).toBe((10_000 - 31 * 320) / 2);
  });

  it('copies natively: the pinned patch is applied', () => {
    // Without it, both spread every sample through a JS array (`[...data, ...frame.data]`).
    expect(mergeFrames.toString()).not.toContain('...');
    expect(AudioByteStream.prototype.write.toString()).not.toContain('...');
  });
});
