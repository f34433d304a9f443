/**
 * The ElevenLabs stand-in's voice: a deterministic vowel-like tone per character (s16le mono at the
 * requested rate), cut into chunks of about 200 ms at character boundaries, each with the alignment
 * the service sends (character start times and durations, counted from the start of the chunk).
 */
const VOICED_MS = 65;
const SPACE_MS = 30;
/** Real TTS audio starts with a little silence; the plugin measures it from the first char start > 0. */
export const LEADING_SILENCE_MS = 40;
const CHUNK_TARGET_MS = 200;

/** How long the stand-in takes to say `text` (lead-in excluded): what a listener hears of it, in ms. */
export function speechMs(text: string): number {
  return Array.from(text).reduce((ms, ch) => ms + (ch.trim() === '' ? SPACE_MS : VOICED_MS), 0);
}
const PEAK = 0.35 * 32767;
/** Formant pairs (Hz) of five vowels: a, e, i, o, u. */
const VOWELS: readonly (readonly [number, number])[] = [
  [730, 1090],
  [530, 1840],
  [270, 2290],
  [570, 840],
  [300, 870],
];

export interface RenderedChunk {
  pcm: Buffer;
  chars: string[];
  /** Char start and end within this chunk, in samples. */
  starts: number[];
  ends: number[];
}

const rendered = new Map<string, Buffer>();

/** One character of "speech": silence for whitespace, otherwise a tone with pitch and vowel from its code point. */
function renderChar(ch: string, rate: number): Buffer {
  const key = `${rate}:${ch}`;
  const cached = rendered.get(key);
  if (cached) return cached;
  const pcm = synthChar(ch, rate);
  // Few distinct characters occur, and the synthesis is the costliest step on the bench's CPU.
  rendered.set(key, pcm);
  return pcm;
}

function synthChar(ch: string, rate: number): Buffer {
  const blank = ch.trim() === '';
  const n = Math.round(((blank ? SPACE_MS : VOICED_MS) * rate) / 1000);
  const out = Buffer.alloc(n * 2);
  if (blank) return out;
  const code = ch.codePointAt(0) ?? 0;
  const f0 = 100 + (code % 13) * 9;
  const [f1, f2] = VOWELS[code % VOWELS.length] ?? [500, 1500];
  const resonance = (f: number, formant: number) => 1 / (1 + ((f - formant) / 120) ** 2);
  const amps: number[] = [];
  for (let k = 1; k * f0 < Math.min(3500, rate / 2); k++) {
    amps.push((0.3 + resonance(k * f0, f1) + resonance(k * f0, f2)) / k);
  }
  const norm = amps.reduce((a, b) => a + b, 0);
  // Short fades keep the character boundaries free of clicks.
  const fade = Math.max(1, Math.round(0.008 * rate));
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let k = 0; k < amps.length; k++) v += (amps[k] ?? 0) * Math.sin((2 * Math.PI * (k + 1) * f0 * i) / rate);
    const env = Math.min(1, i / fade, (n - 1 - i) / fade);
    out.writeInt16LE(Math.round((PEAK * env * v) / norm), i * 2);
  }
  return out;
}

/** Renders text into chunks of about CHUNK_TARGET_MS, cut at character boundaries so each carries its own alignment. */
export function renderText(text: string, rate: number, leadingSilenceSamples: number): RenderedChunk[] {
  const target = Math.round((CHUNK_TARGET_MS * rate) / 1000);
  const chunks: RenderedChunk[] = [];
  let parts: Buffer[] = [];
  let cur: Omit<RenderedChunk, 'pcm'> = { chars: [], starts: [], ends: [] };
  let samples = 0;
  if (leadingSilenceSamples > 0) {
    parts.push(Buffer.alloc(leadingSilenceSamples * 2));
    samples = leadingSilenceSamples;
  }
  // Code points, not UTF-16 units: the plugin pads multi-unit chars itself.
  for (const ch of Array.from(text)) {
    const pcm = renderChar(ch, rate);
    cur.chars.push(ch);
    cur.starts.push(samples);
    samples += pcm.length / 2;
    cur.ends.push(samples);
    parts.push(pcm);
    if (samples >= target) {
      chunks.push({ pcm: Buffer.concat(parts), ...cur });
      parts = [];
      cur = { chars: [], starts: [], ends: [] };
      samples = 0;
    }
  }
  if (cur.chars.length > 0) chunks.push({ pcm: Buffer.concat(parts), ...cur });
  return chunks;
}

interface Alignment {
  chars: string[];
  charStartTimesMs: number[];
  charDurationsMs: number[];
}

/**
 * Integer milliseconds like the real service, derived from sample positions so they never drift
 * from the audio, and counted from the start of this chunk's audio as the service counts them
 * (ElevenLabs' WebSocket docs). The 1.9.0 plugin adds no running offset; the project's patch of it
 * does (src/patches/).
 */
export function alignment(chunk: RenderedChunk, rate: number): Alignment {
  const ms = (s: number) => Math.round((s * 1000) / rate);
  return {
    chars: chunk.chars,
    charStartTimesMs: chunk.starts.map(ms),
    charDurationsMs: chunk.starts.map((s, i) => ms(chunk.ends[i] ?? s) - ms(s)),
  };
}
