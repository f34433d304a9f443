/** Reading the speech fixtures (16-bit PCM WAV, mono) and cutting them into LiveKit audio frames. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AudioFrame } from '@livekit/rtc-node';
import type { ScriptedTranscript } from '../../sim/index.ts';

export interface SpeechFixture {
  file: string;
  transcript: string;
  sampleRate: number;
  durationMs: number;
  /** Where the energy of the recording says speech starts and ends. */
  speechStartMs: number;
  speechEndMs: number;
}

/** A recording with one pause inside its sentence (`bench/fixtures/pauses/`, made by its `record.sh`). */
export interface PauseFixture extends SpeechFixture {
  /** The words before and after the pause. */
  parts: [string, string];
  /** Where the pause lies in the recording, ms. */
  pause: { startMs: number; endMs: number };
}

export const speechFixtureDir = fileURLToPath(new URL('../fixtures/speech/', import.meta.url));
export const pauseFixtureDir = fileURLToPath(new URL('../fixtures/pauses/', import.meta.url));

export function pauseManifest(): PauseFixture[] {
  return JSON.parse(readFileSync(`${pauseFixtureDir}manifest.json`, 'utf8')) as PauseFixture[];
}

/** What the Deepgram stand-in hears in a recording: with a pause, each part and where it is spoken. */
export function scriptOf(f: SpeechFixture | PauseFixture): ScriptedTranscript {
  if (!('pause' in f)) return f.transcript;
  const start = f.speechStartMs;
  return {
    parts: [
      { text: f.parts[0], startMs: 0, endMs: f.pause.startMs - start },
      { text: f.parts[1], startMs: f.pause.endMs - start, endMs: f.speechEndMs - start },
    ],
  };
}

export function speechManifest(): SpeechFixture[] {
  return JSON.parse(readFileSync(`${speechFixtureDir}manifest.json`, 'utf8')) as SpeechFixture[];
}

export function speechFixture(file: string): SpeechFixture & { path: string } {
  const f = speechManifest().find((x) => x.file === file);
  if (!f) throw new Error(`no speech fixture "${file}" in the manifest`);
  return { ...f, path: `${speechFixtureDir}${file}` };
}

export function readWav(path: string): { sampleRate: number; samples: Int16Array } {
  const buf = readFileSync(path);
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error(`${path}: not a RIFF/WAVE file`);
  }
  let sampleRate = 0;
  let offset = 12;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      const format = buf.readUInt16LE(body);
      const channels = buf.readUInt16LE(body + 2);
      const bits = buf.readUInt16LE(body + 14);
      if (format !== 1 || channels !== 1 || bits !== 16) {
        throw new Error(`${path}: expected 16-bit mono PCM, got format ${format}, ${channels} ch, ${bits} bit`);
      }
      sampleRate = buf.readUInt32LE(body + 4);
    } else if (id === 'data') {
      if (!sampleRate) throw new Error(`${path}: data chunk before fmt chunk`);
      const end = Math.min(body + size, buf.length);
      // Copy into a fresh, aligned buffer: the file buffer's offset need not be even.
      const samples = new Int16Array((end - body) >> 1);
      for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(body + i * 2);
      return { sampleRate, samples };
    }
    offset = body + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

/**
 * Cuts mono samples into frames of `ms` (the last one may be shorter). Each frame owns its
 * buffer: the Deepgram plugin reads `frame.data.buffer` whole, so views into a shared buffer
 * would send the entire recording with every frame.
 */
export function frames(samples: Int16Array, sampleRate: number, ms = 20): AudioFrame[] {
  const per = Math.round((sampleRate * ms) / 1000);
  const out: AudioFrame[] = [];
  for (let i = 0; i < samples.length; i += per) {
    const chunk = samples.slice(i, Math.min(i + per, samples.length));
    out.push(new AudioFrame(chunk, sampleRate, 1, chunk.length));
  }
  return out;
}

export function silence(ms: number, sampleRate: number): Int16Array {
  return new Int16Array(Math.round((sampleRate * ms) / 1000));
}

export function concatSamples(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
