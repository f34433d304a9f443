/**
 * The Deepgram stand-in, driven by the real `@livekit/agents-plugin-deepgram` streaming real
 * speech (espeak-ng fixtures) at real-time pace, plus raw-protocol checks with a bare WebSocket.
 */
import { initializeLogger, stt } from '@livekit/agents';
import * as deepgram from '@livekit/agents-plugin-deepgram';
import type { AudioFrame } from '@livekit/rtc-node';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  type DeepgramStandIn,
  startDeepgramStandIn,
  type LatencyProfile,
  profiles,
  nowMs,
  sleep,
} from '../../sim/index.ts';
import {
  concatSamples,
  frames,
  pauseFixtureDir,
  pauseManifest,
  readWav,
  scriptOf,
  silence,
  speechFixture,
} from '../../bench/harness/speech.ts';

// The plugin's logger throws until initialised.
initializeLogger({ pretty: false, level: 'silent' });

const { START_OF_SPEECH, INTERIM_TRANSCRIPT, FINAL_TRANSCRIPT, END_OF_SPEECH, RECOGNITION_USAGE } = stt.SpeechEventType;
const FRAME_MS = 20;
/** Detected speech bounds may differ from the manifest's by this much (frames, chunks, hysteresis). */
const BOUND_TOLERANCE_MS = 150;

interface Seen {
  type: stt.SpeechEventType;
  at: number;
  text?: string;
  words?: { text: string; startTime?: number | undefined; endTime?: number | undefined }[];
}

interface Session {
  stream: deepgram.SpeechStream;
  events: Seen[];
  done: Promise<void>;
  /** Wall time each pushed frame went in, by index. */
  pushedAt: number[];
}

let standIn: DeepgramStandIn | undefined;

afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
});

function profileWith(endpointingMs: number, interimMs = 100): LatencyProfile {
  return {
    ...profiles.instant,
    deepgram: {
      endpointing: { medianMs: endpointingMs, p95Ms: endpointingMs },
      interimInterval: { medianMs: interimMs, p95Ms: interimMs },
    },
  };
}

function openSession(
  url: string,
  apiKey = 'test',
  endpointing?: number,
): { sttInstance: deepgram.STT; session: Session } {
  const sttInstance = new deepgram.STT({
    apiKey,
    baseUrl: url,
    model: 'nova-3',
    ...(endpointing !== undefined ? { endpointing } : {}),
  });
  const stream = sttInstance.stream();
  const events: Seen[] = [];
  const done = (async () => {
    for await (const ev of stream) {
      if (ev.type === RECOGNITION_USAGE) continue;
      const alt = ev.alternatives?.[0];
      events.push({
        type: ev.type,
        at: nowMs(),
        ...(alt
          ? {
              text: alt.text,
              words: (alt.words ?? []).map((w) => ({ text: w.text, startTime: w.startTime, endTime: w.endTime })),
            }
          : {}),
      });
    }
  })();
  return { sttInstance, session: { stream, events, done, pushedAt: [] } };
}

/** Pushes frames on a real-time schedule (absolute, so timer lateness does not accumulate). */
async function pushRealtime(session: Session, audio: AudioFrame[]): Promise<void> {
  const t0 = performance.now();
  for (let i = 0; i < audio.length; i++) {
    const wait = t0 + i * FRAME_MS - performance.now();
    if (wait > 0) await sleep(wait);
    session.pushedAt.push(nowMs());
    session.stream.pushFrame(audio[i]!);
  }
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function speechAudio(
  file: string,
  trailingSilenceMs = 1000,
): { audio: AudioFrame[]; fixture: ReturnType<typeof speechFixture> } {
  const fixture = speechFixture(file);
  const { sampleRate, samples } = readWav(fixture.path);
  return {
    fixture,
    audio: frames(concatSamples(samples, silence(trailingSilenceMs, sampleRate)), sampleRate, FRAME_MS),
  };
}

function count(events: Seen[], type: stt.SpeechEventType): number {
  return events.filter((e) => e.type === type).length;
}

function bareWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}'\s-]/gu, '')
    .split(/\s+/)
    .filter(Boolean);
}

describe('Deepgram stand-in driven by the LiveKit Deepgram plugin', () => {
  it('turns one spoken sentence into START, interims, the scripted FINAL with word timings, END', async () => {
    const { fixture, audio } = speechAudio('weather-paris.wav');
    standIn = await startDeepgramStandIn({
      profile: profiles.instant,
      apiKey: 'test',
      transcripts: [fixture.transcript],
    });
    const { session } = openSession(standIn.url);

    await pushRealtime(session, audio);
    await waitFor(() => count(session.events, END_OF_SPEECH) === 1, 3000, 'END_OF_SPEECH');
    session.stream.endInput();
    await session.done;

    const types = session.events.map((e) => e.type);
    const firstFinal = types.indexOf(FINAL_TRANSCRIPT);
    expect(types[0]).toBe(START_OF_SPEECH);
    expect(types.slice(1, firstFinal).every((t) => t === INTERIM_TRANSCRIPT)).toBe(true);
    expect(firstFinal).toBeGreaterThan(1);
    expect(types.slice(firstFinal)).toEqual([FINAL_TRANSCRIPT, END_OF_SPEECH]);

    const final = session.events[firstFinal]!;
    expect(final.text).toBe(fixture.transcript);
    const spokenWords = fixture.transcript.split(' ');
    expect(final.words!.map((w) => w.text)).toEqual(spokenWords);
    const lo = (fixture.speechStartMs - BOUND_TOLERANCE_MS) / 1000;
    const hi = (fixture.speechEndMs + BOUND_TOLERANCE_MS) / 1000;
    let prevEnd = 0;
    for (const w of final.words!) {
      expect(w.startTime!).toBeGreaterThanOrEqual(Math.max(lo, prevEnd));
      expect(w.endTime!).toBeGreaterThan(w.startTime!);
      expect(w.endTime!).toBeLessThanOrEqual(hi);
      prevEnd = w.endTime!;
    }

    // Interims reveal a growing prefix of the script, never all of it.
    const target = bareWords(fixture.transcript);
    let prevLen = 0;
    for (const interim of session.events.filter((e) => e.type === INTERIM_TRANSCRIPT)) {
      const shown = bareWords(interim.text!);
      expect(shown).toEqual(target.slice(0, shown.length));
      expect(shown.length).toBeGreaterThanOrEqual(prevLen);
      expect(shown.length).toBeLessThan(target.length);
      prevLen = shown.length;
    }

    // What the stand-in heard matches what the recording holds.
    expect(standIn.utterances).toHaveLength(1);
    const u = standIn.utterances[0]!;
    expect(Math.abs(u.speechStartAudioMs - fixture.speechStartMs)).toBeLessThanOrEqual(BOUND_TOLERANCE_MS);
    expect(Math.abs(u.speechEndAudioMs! - fixture.speechEndMs)).toBeLessThanOrEqual(BOUND_TOLERANCE_MS);
    expect(u.endedBy).toBe('silence');
    expect(u.speechStartedSentAt!).toBeLessThan(u.interimSentAt[0]!);
    expect(u.interimSentAt.at(-1)!).toBeLessThan(u.finalSentAt!);
  });

  it('logs the query the plugin sends, the audio received and CloseStream at stream close', async () => {
    // Shorter than the detector's hangover: speech is still open when the stream closes.
    const { fixture, audio } = speechAudio('hello.wav', 200);
    standIn = await startDeepgramStandIn({
      profile: profiles.instant,
      apiKey: 'test',
      transcripts: [fixture.transcript],
    });
    const { session } = openSession(standIn.url);
    await pushRealtime(session, audio);
    const endInputAt = nowMs();
    session.stream.endInput();
    await session.done;
    await waitFor(() => standIn!.requests[0]?.closedAt != null, 2000, 'the socket to close');

    expect(standIn.requests).toHaveLength(1);
    const log = standIn.requests[0]!;
    expect(log).toMatchObject({
      method: 'WS',
      path: '/v1/listen',
      status: 101,
      closeCode: 1000,
      query: {
        model: 'nova-3',
        encoding: 'linear16',
        sample_rate: '16000',
        channels: '1',
        interim_results: 'true',
        vad_events: 'true',
        endpointing: '25',
        punctuate: 'true',
        smart_format: 'true',
        language: 'en-US',
      },
    });
    // Every sample went out (the energy filter only drops silence after 1 s of it).
    expect(log.audioMs).toBeGreaterThanOrEqual(fixture.durationMs);
    const closeStream = log.control.find((c) => c.type === 'CloseStream');
    expect(closeStream?.at).toBeGreaterThanOrEqual(endInputAt);
    expect(log.sent.at(-1)?.type).toBe('Metadata');
    expect(log.closedAt!).toBeGreaterThanOrEqual(closeStream!.at);
    // CloseStream flushed the open utterance.
    expect(standIn.utterances[0]?.endedBy).toBe('close');
    expect(session.events.filter((e) => e.type === FINAL_TRANSCRIPT).map((e) => e.text)).toEqual([fixture.transcript]);
  });

  it('gives two utterances in one stream the first and second scripted transcripts, in order', async () => {
    const a = speechFixture('hello.wav');
    const b = speechFixture('thanks-bye.wav');
    const wavA = readWav(a.path);
    const wavB = readWav(b.path);
    standIn = await startDeepgramStandIn({ profile: profiles.instant, transcripts: [a.transcript, b.transcript] });
    const { session } = openSession(standIn.url);

    // A pause under 1 s: the plugin's energy filter would drop silence beyond that and shift audio time.
    const pauseMs = 800;
    const rate = wavA.sampleRate;
    const audio = frames(
      concatSamples(wavA.samples, silence(pauseMs, rate), wavB.samples, silence(1000, rate)),
      rate,
      FRAME_MS,
    );
    await pushRealtime(session, audio);
    await waitFor(() => count(session.events, END_OF_SPEECH) === 2, 3000, 'two END_OF_SPEECH');
    session.stream.endInput();
    await session.done;

    const outline = session.events.filter((e) => e.type !== INTERIM_TRANSCRIPT).map((e) => [e.type, e.text ?? '']);
    expect(outline).toEqual([
      [START_OF_SPEECH, ''],
      [FINAL_TRANSCRIPT, a.transcript],
      [END_OF_SPEECH, ''],
      [START_OF_SPEECH, ''],
      [FINAL_TRANSCRIPT, b.transcript],
      [END_OF_SPEECH, ''],
    ]);
    expect(standIn.utterances.map((u) => u.transcript)).toEqual([a.transcript, b.transcript]);
    const [ua, ub] = standIn.utterances;
    // Second utterance starts after the first's speech, the whole first recording and the pause.
    const secondStart = a.durationMs + pauseMs + b.speechStartMs;
    expect(Math.abs(ub!.speechStartAudioMs - secondStart)).toBeLessThanOrEqual(BOUND_TOLERANCE_MS);
    expect(ua!.finalSentAt!).toBeLessThan(ub!.speechStartedSentAt!);
  });

  it('transcribes a sentence with a pause in two parts when speech ends at the pause, whole otherwise', async () => {
    const jazz = pauseManifest().find((f) => f.file === 'jazz.wav')!;
    const wav = readWav(`${pauseFixtureDir}${jazz.file}`);
    const audio = frames(concatSamples(wav.samples, silence(1000, wav.sampleRate)), wav.sampleRate, FRAME_MS);
    const finals = async (endpointing: number) => {
      standIn = await startDeepgramStandIn({ profile: profiles.instant, transcripts: [scriptOf(jazz)] });
      const { session } = openSession(standIn.url, 'test', endpointing);
      await pushRealtime(session, audio);
      session.stream.endInput();
      await session.done;
      await standIn.close();
      standIn = undefined;
      return session.events.filter((e) => e.type === FINAL_TRANSCRIPT).map((e) => e.text);
    };
    // The 800 ms pause outlasts the 300 ms the detector waits for with endpointing 25: two utterances.
    expect(await finals(25)).toEqual(jazz.parts);
    // Endpointing 1000 ms rides over it: one utterance, the whole sentence.
    expect(await finals(1000)).toEqual([jazz.transcript]);
  });

  it('holds the final until the endpointing delay has passed since speech ended', async () => {
    // Well above the detector's 300 ms hangover, so the delay (not the hangover) decides.
    const endpointingMs = 800;
    const { fixture, audio } = speechAudio('dragon-story.wav');
    standIn = await startDeepgramStandIn({ profile: profileWith(endpointingMs), transcripts: [fixture.transcript] });
    const { session } = openSession(standIn.url);
    await pushRealtime(session, audio);
    await waitFor(() => count(session.events, END_OF_SPEECH) === 1, 3000, 'END_OF_SPEECH');
    session.stream.endInput();
    await session.done;

    // The frame holding the last voiced sample went in at this wall time; no server can have it sooner.
    const lastSpeechFrame = Math.floor(fixture.speechEndMs / FRAME_MS);
    const speechEndPushedAt = session.pushedAt[lastSpeechFrame]!;
    const final = session.events.find((e) => e.type === FINAL_TRANSCRIPT)!;
    expect(final.at).toBeGreaterThanOrEqual(speechEndPushedAt + endpointingMs);
    // Generous upper bound: delay + detector hangover + a 100 ms chunk + scheduling slack.
    expect(final.at).toBeLessThan(speechEndPushedAt + endpointingMs + 300 + 100 + 1000);

    const u = standIn.utterances[0]!;
    expect(u.finalSentAt! - u.speechEndReceivedAt!).toBeGreaterThanOrEqual(endpointingMs);
  });

  it('keeps a long sentence with a comma pause as one utterance, interims growing, never complete', async () => {
    const { fixture, audio } = speechAudio('roman-empire.wav');
    standIn = await startDeepgramStandIn({
      profile: profileWith(10, 250),
      transcripts: [fixture.transcript, 'unused'],
    });
    const { session } = openSession(standIn.url);
    await pushRealtime(session, audio);
    await waitFor(() => count(session.events, END_OF_SPEECH) === 1, 3000, 'END_OF_SPEECH');
    session.stream.endInput();
    await session.done;

    expect(standIn.utterances).toHaveLength(1);
    expect(count(session.events, START_OF_SPEECH)).toBe(1);
    const interims = session.events.filter((e) => e.type === INTERIM_TRANSCRIPT).map((e) => bareWords(e.text!).length);
    const total = bareWords(fixture.transcript).length;
    expect(interims.length).toBeGreaterThanOrEqual(10);
    expect(interims.at(-1)!).toBeGreaterThan(total / 2);
    expect(Math.max(...interims)).toBeLessThan(total);
    expect(session.events.find((e) => e.type === FINAL_TRANSCRIPT)?.text).toBe(fixture.transcript);
  });

  it('sends no transcript when the script has none, but still opens and closes the speech turn', async () => {
    const { audio } = speechAudio('hello.wav');
    standIn = await startDeepgramStandIn({ profile: profiles.instant });
    const { session } = openSession(standIn.url);
    await pushRealtime(session, audio);
    await waitFor(() => count(session.events, END_OF_SPEECH) === 1, 3000, 'END_OF_SPEECH');
    session.stream.endInput();
    await session.done;

    expect(session.events.map((e) => e.type)).toEqual([START_OF_SPEECH, END_OF_SPEECH]);
    expect(standIn.requests[0]!.sent.filter((m) => m.type === 'Results')).toEqual([
      expect.objectContaining({ isFinal: true, transcript: '' }),
    ]);
  });

  it('finalizes at once when the plugin flushes mid-speech (Finalize)', async () => {
    const { fixture, audio } = speechAudio('name-alice.wav', 0);
    standIn = await startDeepgramStandIn({ profile: profileWith(5000), transcripts: [fixture.transcript] });
    const { session } = openSession(standIn.url);
    // Cut before the recording's end: speech is still under way when the flush arrives.
    await pushRealtime(session, audio.slice(0, Math.floor((fixture.speechEndMs - 300) / FRAME_MS)));
    session.stream.flush();
    await waitFor(() => count(session.events, FINAL_TRANSCRIPT) === 1, 2000, 'FINAL_TRANSCRIPT');
    session.stream.endInput();
    await session.done;

    expect(session.events.find((e) => e.type === FINAL_TRANSCRIPT)?.text).toBe(fixture.transcript);
    const u = standIn.utterances[0]!;
    expect(u).toMatchObject({ endedBy: 'finalize', fromFinalize: true });
    const finalize = standIn.requests[0]!.control.find((c) => c.type === 'Finalize')!;
    // Well inside the 5 s endpointing delay: the flush, not the timer, sent it.
    expect(u.finalSentAt! - finalize.at).toBeLessThan(500);
  });

  it('continues the script across connections', async () => {
    standIn = await startDeepgramStandIn({ profile: profiles.instant });
    standIn.setTranscripts(['first', 'second']);
    for (const expected of ['first', 'second']) {
      const { audio } = speechAudio('hello.wav', 500);
      const { session } = openSession(standIn.url);
      await pushRealtime(session, audio);
      await waitFor(() => count(session.events, END_OF_SPEECH) === 1, 3000, 'END_OF_SPEECH');
      session.stream.endInput();
      await session.done;
      expect(session.events.find((e) => e.type === FINAL_TRANSCRIPT)?.text).toBe(expected);
    }
    expect(standIn.utterances.map((u) => [u.connection, u.transcript])).toEqual([
      [0, 'first'],
      [1, 'second'],
    ]);
  });

  it("starts the script again on each connection, and over past its end, under scriptScope 'connection'", async () => {
    standIn = await startDeepgramStandIn({ profile: profiles.instant, scriptScope: 'connection' });
    standIn.setTranscripts(['first', 'second']);
    const heard: string[][] = [];
    for (let call = 0; call < 2; call++) {
      const hello = speechAudio('hello.wav', 500);
      const { session } = openSession(standIn.url);
      // Three utterances in one stream: the script has two, so the third starts it over.
      for (let n = 1; n <= 3; n++) {
        await pushRealtime(session, hello.audio);
        await waitFor(() => count(session.events, END_OF_SPEECH) === n, 3000, `END_OF_SPEECH #${n}`);
      }
      session.stream.endInput();
      await session.done;
      heard.push(session.events.filter((e) => e.type === FINAL_TRANSCRIPT).map((e) => e.text ?? ''));
    }
    // The second call is not left with empty finals: it hears the script from the start.
    expect(heard).toEqual([
      ['first', 'second', 'first'],
      ['first', 'second', 'first'],
    ]);
    expect(standIn.utterances.map((u) => u.connection)).toEqual([0, 0, 0, 1, 1, 1]);
  });

  it('refuses a wrong API key with 401, which the plugin surfaces as a non-recoverable error', async () => {
    standIn = await startDeepgramStandIn({ profile: profiles.instant, apiKey: 'right-key' });
    const { sttInstance, session } = openSession(standIn.url, 'wrong-key');
    const errors: { error: unknown; recoverable: boolean }[] = [];
    sttInstance.on('error', (e) => errors.push(e));
    session.stream.pushFrame(speechAudio('hello.wav').audio[0]!);
    await session.done;

    expect(errors).toHaveLength(1);
    expect(errors[0]!.recoverable).toBe(false);
    expect(errors[0]!.error).toMatchObject({ statusCode: 401 });
    expect(session.events).toEqual([]);
    expect(standIn.requests.map((r) => r.status)).toEqual([401]);
  });
});

describe('Deepgram stand-in wire protocol (bare WebSocket)', () => {
  function connect(url: string, headers: Record<string, string> = {}): Promise<WebSocket | number> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      ws.once('open', () => resolve(ws));
      ws.once('unexpected-response', (_req, res) => {
        res.resume();
        resolve(res.statusCode ?? -1);
      });
      ws.once('error', reject);
    });
  }

  it('rejects requests Deepgram would reject', async () => {
    standIn = await startDeepgramStandIn({ apiKey: 'k' });
    const base = `${standIn.url}/v1/listen`;
    const auth = { Authorization: 'Token k' };
    expect(await connect(`${base}?model=nova-3&encoding=linear16&sample_rate=16000`)).toBe(401);
    expect(await connect(`${base}?model=nova-3&sample_rate=16000`, auth)).toBe(400);
    expect(await connect(`${base}?model=nova-3&encoding=opus&sample_rate=16000`, auth)).toBe(400);
    expect(await connect(`${base}?model=nova-3&encoding=linear16`, auth)).toBe(400);
    expect(await connect(`${base}?model=&encoding=linear16&sample_rate=16000`, auth)).toBe(400);
    expect(await connect(`${standIn.url}/v2/listen?model=nova-3&encoding=linear16&sample_rate=16000`, auth)).toBe(404);
    expect(standIn.requests.map((r) => r.status)).toEqual([401, 400, 400, 400, 400, 404]);
  });

  it('speaks Deepgram message shapes: SpeechStarted, Results, Metadata, normal close', async () => {
    const fixture = speechFixture('hello.wav');
    standIn = await startDeepgramStandIn({ profile: profiles.instant, transcripts: [fixture.transcript] });
    // 24 kHz audio time: the stand-in must read the rate from the query, not assume 16 kHz.
    const { samples } = readWav(fixture.path);
    const upsampled = new Int16Array(Math.floor((samples.length * 3) / 2));
    for (let i = 0; i < upsampled.length; i++) upsampled[i] = samples[Math.floor((i * 2) / 3)]!;
    const pcm = Buffer.from(concatSamples(upsampled, silence(600, 24000)).buffer);

    const ws = await connect(
      `${standIn.url}/v1/listen?model=nova-3&encoding=linear16&sample_rate=24000&channels=1&vad_events=true&interim_results=false&punctuate=true&endpointing=25`,
    );
    if (typeof ws === 'number') throw new Error(`upgrade refused: ${ws}`);
    const messages: Record<string, unknown>[] = [];
    ws.on('message', (m) => messages.push(JSON.parse(String(m)) as Record<string, unknown>));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    // Faster than real time: the stand-in works in audio time.
    for (let off = 0; off < pcm.length; off += 4800) ws.send(pcm.subarray(off, off + 4800));
    await waitFor(() => messages.some((m) => m['is_final'] === true), 2000, 'a final Results');
    ws.send(JSON.stringify({ type: 'KeepAlive' }));
    ws.send(JSON.stringify({ type: 'CloseStream' }));
    expect(await closed).toBe(1000);

    expect(messages.map((m) => m['type'])).toEqual(['SpeechStarted', 'Results', 'Metadata']);
    const [started, final, metadata] = messages as [
      Record<string, unknown>,
      Record<string, unknown>,
      Record<string, unknown>,
    ];
    expect(started).toEqual({ type: 'SpeechStarted', channel: [0, 1], timestamp: expect.any(Number) });
    expect(Math.abs((started['timestamp'] as number) * 1000 - fixture.speechStartMs)).toBeLessThanOrEqual(
      BOUND_TOLERANCE_MS,
    );
    expect(final).toMatchObject({
      type: 'Results',
      channel_index: [0, 1],
      start: 0,
      is_final: true,
      speech_final: true,
      from_finalize: false,
      channel: { alternatives: [{ transcript: fixture.transcript, confidence: expect.any(Number) }] },
      metadata: {
        request_id: standIn.requests[0]!.requestId,
        model_info: { name: expect.any(String), version: expect.any(String), arch: 'nova-3' },
        model_uuid: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      },
    });
    const words = (final['channel'] as { alternatives: { words: Record<string, unknown>[] }[] }).alternatives[0]!.words;
    expect(words[0]).toEqual({
      word: 'hello',
      punctuated_word: 'Hello,',
      start: expect.any(Number),
      end: expect.any(Number),
      confidence: expect.any(Number),
    });
    expect(words.at(-1)!['end'] as number).toBeLessThanOrEqual((fixture.speechEndMs + BOUND_TOLERANCE_MS) / 1000);
    expect(metadata).toMatchObject({
      type: 'Metadata',
      transaction_key: 'deprecated',
      request_id: standIn.requests[0]!.requestId,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      created: expect.any(String),
      channels: 1,
    });
    expect(metadata['duration']).toBeCloseTo(pcm.length / 2 / 24000, 2);
    expect(standIn.requests[0]!.control.map((c) => c.type)).toEqual(['KeepAlive', 'CloseStream']);
  });
});
