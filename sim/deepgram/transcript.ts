/**
 * The words of a Deepgram stand-in transcript: the script's tokens, laid over the audio where the
 * speech was heard, cut at a pause inside a scripted sentence, and Deepgram's time and model fields.
 */
import { createHash } from 'node:crypto';
import type { ScriptedTranscript } from './records.ts';

/** How far past a part's end the speech may run and still count that part as spoken. */
export const PART_END_TOLERANCE_MS = 150;

export interface Word {
  word: string;
  start: number;
  end: number;
  confidence: number;
  punctuated_word?: string;
}

export interface Token {
  word: string;
  punctuated: string;
}

export interface ModelInfo {
  name: string;
  version: string;
  arch: string;
  uuid: string;
}

/** The metadata every `Results` message carries. */
export interface ResultsMetadata {
  request_id: string;
  model_info: Omit<ModelInfo, 'uuid'>;
  model_uuid: string;
}

export function modelInfo(model: string): ModelInfo {
  const arch = /^nova-3/.test(model) ? 'nova-3' : /^nova-2/.test(model) ? 'nova-2' : model;
  // A stable UUID per model, as Deepgram's are; derived, since the real ones are not published.
  const h = createHash('sha256').update(model).digest('hex');
  const uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  return { name: `general-${arch}`, version: 'stand-in', arch, uuid };
}

export function scriptText(script: ScriptedTranscript): string {
  return typeof script === 'string' ? script : script.parts.map((p) => p.text).join(' ');
}

export function tokenize(transcript: string): Token[] {
  return transcript
    .trim()
    .split(/\s+/)
    .map((punctuated) => ({ punctuated, word: punctuated.toLowerCase().replace(/[^\p{L}\p{N}'-]/gu, '') }))
    .filter((t) => t.word.length > 0);
}

export function sec(ms: number): number {
  return round(ms / 1000, 3);
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Lays words over [startMs, endMs] in proportion to their length, with a short gap after each. */
export function layWords(
  tokens: Token[],
  startMs: number,
  endMs: number,
  formatted: boolean,
  confidence: () => number,
): Word[] {
  const weights = tokens.map((t) => t.word.length + 1);
  const total = weights.reduce((a, b) => a + b, 0);
  const span = Math.max(0, endMs - startMs);
  let acc = 0;
  return tokens.map((t, i) => {
    const w = weights[i]!;
    const start = startMs + (acc / total) * span;
    acc += w;
    const end = startMs + (acc / total) * span - Math.min(40, (w / total) * span * 0.1);
    const word: Word = { word: t.word, start: sec(start), end: sec(end), confidence: confidence() };
    if (formatted) word.punctuated_word = t.punctuated;
    return word;
  });
}

/**
 * Where a scripted sentence with a pause is cut when the speech ended `spokenMs` into it: the
 * parts spoken so far, and the rest (its times shifted to start at 0) for the next utterance.
 * Null when nothing is cut.
 */
export function cutAtPause(
  script: ScriptedTranscript,
  spokenMs: number,
): { spoken: string; rest: ScriptedTranscript } | null {
  if (typeof script === 'string') return null;
  const parts = script.parts;
  const spoken = parts.filter((p) => p.endMs <= spokenMs + PART_END_TOLERANCE_MS);
  if (spoken.length === 0 || spoken.length === parts.length) return null;
  const rest = parts.slice(spoken.length);
  const shift = rest[0]?.startMs ?? 0;
  return {
    spoken: spoken.map((p) => p.text).join(' '),
    rest: { parts: rest.map((p) => ({ text: p.text, startMs: p.startMs - shift, endMs: p.endMs - shift })) },
  };
}

/** A `Results` message: one segment of the audio, [startS, endS], and its words. */
export function resultsMessage(r: {
  words: Word[];
  text: string;
  startS: number;
  endS: number;
  isFinal: boolean;
  speechFinal: boolean;
  fromFinalize: boolean;
  metadata: ResultsMetadata;
}): Record<string, unknown> {
  const confidence = r.words.length ? round(r.words.reduce((a, w) => a + w.confidence, 0) / r.words.length, 8) : 0;
  return {
    type: 'Results',
    channel_index: [0, 1],
    duration: round(Math.max(0, r.endS - r.startS), 3),
    start: r.startS,
    is_final: r.isFinal,
    speech_final: r.speechFinal,
    channel: { alternatives: [{ transcript: r.text, confidence, words: r.words }] },
    metadata: r.metadata,
    from_finalize: r.fromFinalize,
  };
}

/** The `Metadata` message that closes a stream: the audio received (its SHA-256 and duration) and the model. */
export function metadataMessage(
  m: ResultsMetadata,
  audio: { sha256: string; created: string; durationS: number; channels: number },
): Record<string, unknown> {
  return {
    type: 'Metadata',
    transaction_key: 'deprecated',
    request_id: m.request_id,
    sha256: audio.sha256,
    created: audio.created,
    duration: audio.durationS,
    channels: audio.channels,
    models: [m.model_uuid],
    model_info: { [m.model_uuid]: { name: m.model_info.name, version: m.model_info.version, arch: m.model_info.arch } },
  };
}
