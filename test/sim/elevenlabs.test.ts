/**
 * The ElevenLabs stand-in, driven by the real `@livekit/agents-plugin-elevenlabs` plugin (and by a
 * raw WebSocket where the plugin cannot reach a case).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { type APIConnectOptions, initializeLogger, tts as ttsBase, type TimedString } from '@livekit/agents';
import * as elevenlabs from '@livekit/agents-plugin-elevenlabs';
import type { AudioFrame } from '@livekit/rtc-node';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  startElevenLabsStandIn,
  type ElevenLabsStandIn,
  type ElevenLabsStandInOptions,
  profiles,
  type LatencyProfile,
} from '../../sim/index.ts';

// The plugin's TTSEncoding type lists no pcm_24000, but it parses the rate from any `pcm_N`.
const PCM_24K = 'pcm_24000' as string as elevenlabs.TTSEncoding;
const NO_RETRY: APIConnectOptions = { maxRetry: 0, retryIntervalMs: 0, timeoutMs: 10_000 };
const TEXT = 'Hello there, this is the stand-in speaking. It reads every word aloud, in order!';

function withElevenLabs(ttfbMs: number, realtimeFactor: number): LatencyProfile {
  return { ...profiles.instant, elevenlabs: { ttfb: { medianMs: ttfbMs, p95Ms: ttfbMs }, realtimeFactor } };
}

/** Duration the stand-in's voice gives a text: 65 ms per character, 30 ms per space, 40 ms lead-in. */
function expectedSeconds(text: string): number {
  const chars = Array.from(text);
  const spaces = chars.filter((c) => c.trim() === '').length;
  return (40 + (chars.length - spaces) * 65 + spaces * 30) / 1000;
}

function rms(frames: AudioFrame[]): number {
  let sum = 0;
  let n = 0;
  for (const f of frames) {
    for (const s of f.data) sum += s * s;
    n += f.data.length;
  }
  return Math.sqrt(sum / Math.max(1, n));
}

const seconds = (frames: AudioFrame[]) => frames.reduce((s, f) => s + f.samplesPerChannel / f.sampleRate, 0);

interface Spoken {
  frames: AudioFrame[];
  words: TimedString[];
  firstFrameAfterMs: number | null;
}

/** pushText, flush, endInput, then read until END_OF_STREAM (or the stream's end after a failure). */
async function speak(tts: elevenlabs.TTS, text: string, connOptions?: APIConnectOptions): Promise<Spoken> {
  const stream = tts.stream(connOptions ? { connOptions } : undefined);
  const started = performance.now();
  stream.pushText(text);
  stream.flush();
  stream.endInput();
  const spoken: Spoken = { frames: [], words: [], firstFrameAfterMs: null };
  for await (const ev of stream) {
    if (ev === ttsBase.SynthesizeStream.END_OF_STREAM) break;
    spoken.firstFrameAfterMs ??= performance.now() - started;
    spoken.frames.push(ev.frame);
    // Where the framework's ttsNode takes `frame.userdata['lk.timed_transcripts']` from.
    spoken.words.push(...(ev.timedTranscripts ?? []));
  }
  stream.close();
  return spoken;
}

function newTts(standIn: ElevenLabsStandIn, apiKey = 'test'): elevenlabs.TTS {
  return new elevenlabs.TTS({ apiKey, baseURL: standIn.url, model: 'eleven_flash_v2_5', encoding: PCM_24K });
}

const running: { standIn: ElevenLabsStandIn; tts: elevenlabs.TTS[] }[] = [];

async function setup(opts: ElevenLabsStandInOptions = {}): Promise<ElevenLabsStandIn> {
  const standIn = await startElevenLabsStandIn(opts);
  running.push({ standIn, tts: [] });
  return standIn;
}

function track(tts: elevenlabs.TTS): elevenlabs.TTS {
  running.at(-1)?.tts.push(tts);
  return tts;
}

beforeAll(() => {
  initializeLogger({ pretty: false, level: 'silent' });
});

afterEach(async () => {
  for (const { standIn, tts } of running.splice(0)) {
    for (const t of tts) await t.close();
    await standIn.close();
  }
});

describe('ElevenLabs stand-in with the LiveKit plugin', () => {
  it('streams audible 24 kHz audio whose length fits the text', async () => {
    const standIn = await setup();
    const tts = track(newTts(standIn));
    const { frames } = await speak(tts, TEXT);

    expect(frames.length).toBeGreaterThan(0);
    for (const f of frames) {
      expect(f.sampleRate).toBe(24000);
      expect(f.channels).toBe(1);
    }
    expect(seconds(frames)).toBeGreaterThan(expectedSeconds(TEXT) * 0.95);
    expect(seconds(frames)).toBeLessThan(expectedSeconds(TEXT) * 1.05);
    expect(rms(frames)).toBeGreaterThan(1000);

    const ws = standIn.requests.filter((r) => r.method === 'WS');
    expect(ws).toHaveLength(1);
    expect(ws[0]?.path).toBe('/v1/text-to-speech/bIHbv24MWmeRgasZH58o/multi-stream-input');
    expect(ws[0]?.query).toMatchObject({
      model_id: 'eleven_flash_v2_5',
      output_format: 'pcm_24000',
      sync_alignment: 'true',
      auto_mode: 'true',
    });
    expect(standIn.contexts[0]?.text.trim()).toBe(TEXT);
  });

  // The service's alignment restarts at every audio message: monotonic times across the several
  // chunks of TEXT hold only with the project's patch of the plugin (src/patches/).
  it('attaches timed words that rebuild the text in order, with monotonic times', async () => {
    const standIn = await setup();
    const tts = track(newTts(standIn));
    const { frames, words } = await speak(tts, TEXT);

    expect(
      words
        .map((w) => w.text)
        .join('')
        .trim(),
    ).toBe(TEXT);
    expect(words.map((w) => w.text.trim())).toEqual(TEXT.split(' '));
    let previousEnd = 0;
    for (const w of words) {
      expect(w.startTime).toBeGreaterThanOrEqual(previousEnd - 1e-9);
      expect(w.endTime).toBeGreaterThan(w.startTime ?? 0);
      previousEnd = w.endTime ?? 0;
    }
    expect(words[0]?.startTime).toBe(0);
    // The plugin shifts times so the first word starts at 0: the audio's lead-in is not counted.
    expect(previousEnd).toBeCloseTo(seconds(frames) - 0.04, 1);
  });

  it('carries two streams of one TTS on one socket, as two contexts', async () => {
    const standIn = await setup({ profile: withElevenLabs(50, 20) });
    const tts = track(newTts(standIn));
    const [a, b] = await Promise.all([
      speak(tts, 'The first stream says this.'),
      speak(tts, 'And the second stream says that.'),
    ]);

    expect(seconds(a.frames)).toBeGreaterThan(1);
    expect(seconds(b.frames)).toBeGreaterThan(1);
    expect(
      a.words
        .map((w) => w.text)
        .join('')
        .trim(),
    ).toBe('The first stream says this.');
    expect(
      b.words
        .map((w) => w.text)
        .join('')
        .trim(),
    ).toBe('And the second stream says that.');
    expect(standIn.requests.filter((r) => r.method === 'WS')).toHaveLength(1);
    expect(standIn.contexts).toHaveLength(2);
    const [c1, c2] = standIn.contexts;
    expect(c1?.contextId).not.toBe(c2?.contextId);
    expect(c1?.connectionId).toBe(c2?.connectionId);
  });

  it('sends isFinal only after the last audio chunk of the context', async () => {
    const standIn = await setup({ profile: withElevenLabs(20, 10) });
    const tts = track(newTts(standIn));
    await speak(tts, TEXT);

    const ctx = standIn.contexts[0];
    expect(ctx?.closedByClient).toBe(true);
    expect(ctx?.audioChunks.length).toBeGreaterThan(2);
    const lastChunk = ctx?.audioChunks.at(-1)?.at ?? Infinity;
    expect(ctx?.closedAt).not.toBeNull();
    expect(ctx?.finalSentAt).toBeGreaterThanOrEqual(lastChunk);
    const bytes = ctx?.audioChunks.reduce((s, c) => s + c.bytes, 0) ?? 0;
    // The plugin ends every sentence it sends with a space, so the last one is spoken too.
    expect(bytes / 2 / 24000).toBeCloseTo(expectedSeconds(`${TEXT} `), 2);
  });

  it('treats close_context during synthesis (an interrupted stream) as end of input: all audio, then isFinal', async () => {
    const standIn = await setup({ profile: withElevenLabs(0, 5) });
    const tts = track(newTts(standIn));
    const stream = tts.stream();
    stream.pushText(TEXT);
    stream.flush();
    for await (const ev of stream) {
      if (ev !== ttsBase.SynthesizeStream.END_OF_STREAM) break;
    }
    stream.close();
    const ctx = standIn.contexts[0];
    while (ctx?.finalSentAt === null) await new Promise((r) => setTimeout(r, 20));

    expect(ctx?.closedByClient).toBe(true);
    expect(ctx?.closedAt).toBeLessThan(ctx?.audioChunks.at(-1)?.at ?? 0);
    expect(ctx?.finalSentAt).toBeGreaterThanOrEqual(ctx?.audioChunks.at(-1)?.at ?? Infinity);
    const bytes = ctx?.audioChunks.reduce((s, c) => s + c.bytes, 0) ?? 0;
    expect(bytes / 2 / 24000).toBeCloseTo(expectedSeconds(`${TEXT} `), 2);
  });

  it("respects the profile's ttfb and paces audio at its real-time factor", async () => {
    const standIn = await setup({ profile: withElevenLabs(400, 4) });
    const tts = track(newTts(standIn));
    const { firstFrameAfterMs } = await speak(tts, TEXT);

    const ctx = standIn.contexts[0];
    const firstText = ctx?.firstTextAt ?? NaN;
    const firstAudio = ctx?.firstAudioAt ?? NaN;
    expect(firstAudio - firstText).toBeGreaterThanOrEqual(400);
    expect(firstAudio - firstText).toBeLessThan(400 + 1000);
    expect(firstFrameAfterMs).toBeGreaterThanOrEqual(400);

    // All audio but the last chunk must have been "played" at 4x before the last chunk left.
    const chunks = ctx?.audioChunks ?? [];
    const lastBytes = chunks.at(-1)?.bytes ?? 0;
    const earlierSeconds = (chunks.reduce((s, c) => s + c.bytes, 0) - lastBytes) / 2 / 24000;
    const span = (chunks.at(-1)?.at ?? 0) - (chunks[0]?.at ?? 0);
    expect(span).toBeGreaterThanOrEqual((earlierSeconds * 1000) / 4 - 5);
    expect(span).toBeLessThan((earlierSeconds * 1000) / 4 + 1500);
  });

  it('surfaces failNextContext as an error from the plugin stream, and the socket stays usable', async () => {
    const standIn = await setup();
    const tts = track(newTts(standIn));
    const errors: { error: Error; recoverable: boolean }[] = [];
    tts.on('error', (e) => errors.push(e));

    standIn.failNextContext('voice_not_found');
    const failed = await speak(tts, TEXT, NO_RETRY);
    expect(failed.frames).toHaveLength(0);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.recoverable).toBe(false);
    expect(standIn.contexts[0]?.error).toBe('voice_not_found');
    expect(standIn.contexts[0]?.audioChunks).toHaveLength(0);

    const next = await speak(tts, 'Working again now.', NO_RETRY);
    expect(seconds(next.frames)).toBeGreaterThan(1);
    expect(standIn.requests.filter((r) => r.method === 'WS')).toHaveLength(1);
  });

  it('rejects a wrong api key with 401 before the socket opens', async () => {
    const standIn = await setup({ apiKey: 'right-key' });
    const tts = track(newTts(standIn, 'wrong-key'));
    const errors: Error[] = [];
    tts.on('error', (e) => errors.push(e.error));

    const { frames } = await speak(tts, TEXT, NO_RETRY);
    expect(frames).toHaveLength(0);
    expect(errors).toHaveLength(1);
    expect(standIn.requests).toMatchObject([{ method: 'WS', status: 401 }]);
    expect(standIn.contexts).toHaveLength(0);
  });

  it('serves the REST stream endpoint that synthesize() uses', async () => {
    const standIn = await setup({ apiKey: 'test' });
    const tts = track(newTts(standIn));
    const frames: AudioFrame[] = [];
    for await (const ev of tts.synthesize('Say this over plain HTTP.')) frames.push(ev.frame);

    expect(frames.every((f) => f.sampleRate === 24000)).toBe(true);
    expect(seconds(frames)).toBeCloseTo(expectedSeconds('Say this over plain HTTP.'), 1);
    expect(rms(frames)).toBeGreaterThan(1000);
    const post = standIn.requests[0];
    expect(post).toMatchObject({
      method: 'POST',
      path: '/v1/text-to-speech/bIHbv24MWmeRgasZH58o/stream',
      query: { output_format: 'pcm_24000' },
      status: 200,
      body: { text: 'Say this over plain HTTP.', model_id: 'eleven_flash_v2_5' },
    });
    expect((post?.chunks as unknown[]).length).toBeGreaterThan(0);
  });
});

describe('ElevenLabs stand-in wire protocol', () => {
  interface ServerMessage {
    audio?: string;
    isFinal?: boolean;
    error?: string;
    contextId?: string;
    normalizedAlignment?: { chars: string[]; charStartTimesMs: number[]; charDurationsMs: number[] };
  }

  async function connect(
    standIn: ElevenLabsStandIn,
    query: string,
    key = 'k',
  ): Promise<{ ws: WebSocket; messages: ServerMessage[] }> {
    const ws = new WebSocket(
      `${standIn.url.replace('http://', 'ws://')}/text-to-speech/v1/multi-stream-input?${query}`,
      {
        headers: { 'xi-api-key': key },
      },
    );
    const messages: ServerMessage[] = [];
    ws.on('message', (d) => messages.push(JSON.parse(String(d)) as ServerMessage));
    await once(ws, 'open');
    return { ws, messages };
  }

  async function rejection(standIn: ElevenLabsStandIn, query: string): Promise<number> {
    const ws = new WebSocket(
      `${standIn.url.replace('http://', 'ws://')}/text-to-speech/v1/multi-stream-input?${query}`,
    );
    const [req, res] = (await once(ws, 'unexpected-response')) as [{ destroy(): void }, { statusCode: number }];
    req.destroy();
    return res.statusCode;
  }

  it('refuses non-PCM formats, unsupported rates and missing or retired models', async () => {
    const standIn = await setup();
    expect(await rejection(standIn, 'model_id=eleven_flash_v2_5&output_format=mp3_44100_128')).toBe(400);
    expect(await rejection(standIn, 'model_id=eleven_flash_v2_5&output_format=pcm_32000')).toBe(400);
    expect(await rejection(standIn, 'model_id=&output_format=pcm_16000')).toBe(400);
    expect(await rejection(standIn, 'model_id=eleven_monolingual_v1&output_format=pcm_16000')).toBe(400);
    expect(standIn.requests.map((r) => r.status)).toEqual([400, 400, 400, 400]);
  });

  it('finishes a context closed mid-synthesis, then sends isFinal, alignment in order', async () => {
    const standIn = await setup({ profile: withElevenLabs(0, 5) });
    const { ws, messages } = await connect(standIn, 'model_id=eleven_flash_v2_5&output_format=pcm_16000');
    const text = 'Closed while still speaking, yet every word is sent. ';
    ws.send(JSON.stringify({ text: ' ', voice_settings: {}, context_id: 'c1' }));
    ws.send(JSON.stringify({ text, context_id: 'c1', flush: true }));
    ws.send(JSON.stringify({ text: '', context_id: 'c1' }));
    ws.send(JSON.stringify({ context_id: 'c1', close_context: true }));
    while (!messages.some((m) => m.isFinal)) await new Promise((r) => setTimeout(r, 20));

    expect(messages.at(-1)).toEqual({ isFinal: true, contextId: 'c1' });
    const audio = messages.slice(0, -1);
    expect(audio.every((m) => m.contextId === 'c1' && typeof m.audio === 'string')).toBe(true);
    expect(audio.flatMap((m) => m.normalizedAlignment?.chars ?? []).join('')).toBe(text);
    // Times count from the start of each audio message, as the service sends them.
    const starts = audio.map((m) => m.normalizedAlignment?.charStartTimesMs ?? []);
    expect(starts.length).toBeGreaterThan(1);
    for (const [i, s] of starts.entries()) {
      expect(s).toEqual([...s].sort((x, y) => x - y));
      if (i > 0) expect(s[0]).toBe(0);
    }
    const bytes = audio.reduce((s, m) => s + Buffer.from(m.audio ?? '', 'base64').length, 0);
    expect(bytes / 2 / 16000).toBeCloseTo(expectedSeconds(text), 2);
    ws.send(JSON.stringify({ close_socket: true }));
    await once(ws, 'close');
  });

  it('starts from the command line and prints its URL', async () => {
    const child = spawn(process.execPath, ['sim/elevenlabs.ts', '--port', '0', '--profile', 'instant'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const printed = JSON.parse(line) as { service: string; url: string };
      expect(printed.service).toBe('elevenlabs');
      expect(printed.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});
