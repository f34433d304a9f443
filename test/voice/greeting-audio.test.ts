/**
 * The fixed greeting for new callers: synthesized once through the real ElevenLabs plugin (its REST
 * endpoint on the stand-in), cached on disk, read back by the next process without a request, and
 * played by the voice session without a model reply.
 */
import { type VAD, initializeLogger } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import { writeFile } from 'node:fs/promises';
import type { ReadableStream } from 'node:stream/web';
import { beforeAll, describe, expect, it } from 'vitest';
import { startRoomlessCall } from '../../bench/harness/roomless-call.ts';
import { elevenLabsSynthesis, GreetingAudio, greetingFile } from '../../src/voice/greeting-audio.ts';
import { noMemory } from '../../src/voice/memory-context.ts';
import { createReplyLLM, ttsEncoding, ttsModel } from '../../src/voice/services.ts';
import { createVoiceSession, loadVad } from '../../src/voice/session-factory.ts';
import { defaultSpeechSettings as speech } from '../../src/voice/speech-settings.ts';
import { recordingLogger, tempDir, until, WARN } from '../memory/helpers.ts';
import { startSpeechStandIns } from '../helpers/stand-ins.ts';

let vad: VAD;
beforeAll(async () => {
  initializeLogger({ pretty: false, level: 'silent' });
  vad = await loadVad(speech);
});

const text = 'Hello, thanks for calling. How can I help you today?';
const voiceOf = (t: string) => ({ text: t, voiceId: 'sim-voice', model: ttsModel, encoding: ttsEncoding });
const ttsAt = (baseURL: string, t = text) =>
  elevenLabsSynthesis({ apiKey: 'sim', baseURL, voiceId: 'sim-voice' }, voiceOf(t));
/** Nothing listens there: a request would fail. */
const closedPort = 'http://127.0.0.1:9/v1';

async function samples(stream: ReadableStream<AudioFrame> | null): Promise<{ rate: number; data: number[] }> {
  expect(stream).not.toBeNull();
  const data: number[] = [];
  let rate = 0;
  for await (const f of stream!) {
    rate = f.sampleRate;
    data.push(...f.data);
  }
  return { rate, data };
}

const posts = (s: { requests: { method: string }[] }) => s.requests.filter((r) => r.method === 'POST').length;

describe('the fixed greeting for new callers', () => {
  it('is synthesized once, cached, and read back by the next process without a request', async () => {
    const stand = await startSpeechStandIns();
    const { dir, cleanup } = await tempDir();
    try {
      const first = new GreetingAudio({
        voice: voiceOf(text),
        synthesize: ttsAt(stand.elevenlabs.url),
        cacheDir: dir,
        logger: recordingLogger().logger,
      });
      expect(first.stream()).toBeNull();
      await first.load();
      expect(posts(stand.elevenlabs)).toBe(1);
      const heard = await samples(first.stream());
      expect(heard.rate).toBe(22050);
      // The stand-in speaks about 60 ms per character: seconds of audio, not silence.
      expect(heard.data.length).toBeGreaterThan(heard.rate);
      expect(heard.data.some((v) => v !== 0)).toBe(true);

      const next = new GreetingAudio({
        voice: voiceOf(text),
        synthesize: ttsAt(closedPort),
        cacheDir: dir,
        logger: recordingLogger().logger,
      });
      await next.load();
      expect(await samples(next.stream())).toEqual(heard);
      expect(posts(stand.elevenlabs)).toBe(1);
      // Other words are another file.
      expect(greetingFile(dir, voiceOf('Hi.'))).not.toBe(greetingFile(dir, voiceOf(text)));
    } finally {
      await cleanup();
      await stand.close();
    }
  });

  it('synthesizes again over a damaged cache file, and without a TTS leaves the words to the session', async () => {
    const stand = await startSpeechStandIns();
    const { dir, cleanup } = await tempDir();
    try {
      await writeFile(greetingFile(dir, voiceOf(text)), Buffer.from([1, 2, 3]));
      const repaired = new GreetingAudio({
        voice: voiceOf(text),
        synthesize: ttsAt(stand.elevenlabs.url),
        cacheDir: dir,
        logger: recordingLogger().logger,
      });
      await repaired.load();
      expect(posts(stand.elevenlabs)).toBe(1);
      expect((await samples(repaired.stream())).data.length).toBeGreaterThan(22050);

      const { logger, lines } = recordingLogger();
      const unreachable = new GreetingAudio({
        voice: voiceOf('Another greeting.'),
        synthesize: ttsAt(closedPort, 'Another greeting.'),
        cacheDir: dir,
        logger,
      });
      await unreachable.load();
      expect(unreachable.stream()).toBeNull();
      expect(lines.some((l) => l.level === WARN && l.event === 'greeting_audio_unavailable')).toBe(true);
    } finally {
      await cleanup();
      await stand.close();
    }
  }, 30_000);

  it('greets with the cached audio and the words in the conversation, without asking the model', async () => {
    const stand = await startSpeechStandIns();
    const { dir, cleanup } = await tempDir();
    const greeting = new GreetingAudio({
      voice: voiceOf(text),
      synthesize: ttsAt(stand.elevenlabs.url),
      cacheDir: dir,
      logger: recordingLogger().logger,
    });
    await greeting.load();
    const requestsBefore = stand.elevenlabs.requests.length;
    const { session, agent } = createVoiceSession({
      llm: createReplyLLM({ apiKey: 'sim', baseURL: stand.openai.url, model: 'gpt-4.1-mini' }),
      vad,
      speech,
      memory: noMemory,
      logger: recordingLogger().logger,
      memoryMaxChars: 4000,
      greeting: 'Greet the caller.',
      fixedGreeting: () => ({ text: greeting.text, audio: greeting.stream() }),
      deepgram: { apiKey: 'sim', baseURL: stand.deepgram.url },
      elevenlabs: { apiKey: 'sim', baseURL: stand.elevenlabs.url, voiceId: 'sim-voice' },
    });
    const call = await startRoomlessCall({ session, agent });
    try {
      await until(() => call.speaker.segments.length > 0, 10_000, 'the greeting played');
      const said = () =>
        session.history.items.flatMap((i) => (i.type === 'message' && i.role === 'assistant' ? [i.textContent] : []));
      await until(() => said().length > 0, 10_000, 'the greeting in the conversation');
      expect(said()).toEqual([text]);
      expect(stand.openai.requests.filter((r) => r.path === '/v1/chat/completions')).toEqual([]);
      // No TTS request for it either: only the session's own socket, opened ahead of its first reply.
      expect(stand.elevenlabs.contexts.filter((c) => c.text.trim() !== '')).toEqual([]);
      expect(stand.elevenlabs.requests.slice(requestsBefore).filter((r) => r.method === 'POST')).toEqual([]);
    } finally {
      await call.close();
      await cleanup();
      await stand.close();
    }
  });
});
