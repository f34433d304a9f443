/**
 * The whole session without a room: real speech → Silero VAD → the real Deepgram plugin →
 * Deepgram stand-in → llm node → OpenAI stand-in → the real ElevenLabs plugin → ElevenLabs
 * stand-in → captured audio.
 */
import { type VAD, initializeLogger, type ipc, voice } from '@livekit/agents';
import { beforeAll, describe, expect, it } from 'vitest';
import { startRoomlessCall } from '../../bench/harness/roomless-call.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { noMemory } from '../../src/voice/memory-context.ts';
import { createReplyLLM } from '../../src/voice/services.ts';
import { inProcessEotExecutor } from '../../src/voice/end-of-turn.ts';
import { createVoiceSession, loadVad } from '../../src/voice/session-factory.ts';
import { defaultSpeechSettings as speech } from '../../src/voice/speech-settings.ts';
import { messageText } from '../helpers/scripted-model.ts';
import { type SpeechStandIns, startSpeechStandIns } from '../helpers/stand-ins.ts';
import { readWav, speechFixture } from '../../bench/harness/speech.ts';

// The worker's speech settings; the end-of-turn model runs in this process (no job here).
let vad: VAD;
let eotExecutor: ipc.InferenceExecutor;
beforeAll(async () => {
  initializeLogger({ pretty: false, level: 'silent' });
  vad = await loadVad(speech);
  eotExecutor = inProcessEotExecutor();
});

function agentSpeaking(session: voice.AgentSession): Promise<number> {
  return new Promise((resolve) => {
    const on = (ev: voice.AgentStateChangedEvent) => {
      if (ev.newState === 'speaking') {
        session.off(voice.AgentSessionEventTypes.AgentStateChanged, on);
        resolve(Date.now());
      }
    };
    session.on(voice.AgentSessionEventTypes.AgentStateChanged, on);
  });
}

function sessionFor(s: SpeechStandIns, greeting: string | null = null) {
  return createVoiceSession({
    llm: createReplyLLM({ apiKey: 'sim', baseURL: s.openai.url, model: 'gpt-4.1-mini' }),
    vad,
    speech,
    eotExecutor,
    memory: noMemory,
    logger: createLogger({ level: 'silent' }),
    memoryMaxChars: 4000,
    greeting,
    deepgram: { apiKey: 'sim', baseURL: s.deepgram.url },
    elevenlabs: { apiKey: 'sim', baseURL: s.elevenlabs.url, voiceId: 'sim-voice' },
  });
}

function messages(session: voice.AgentSession) {
  return session.history.items.flatMap((i) =>
    i.type === 'message' && (i.role === 'user' || i.role === 'assistant')
      ? [{ role: i.role, text: i.textContent ?? '', interrupted: i.interrupted }]
      : [],
  );
}

describe('the voice pipeline without a room', () => {
  it('hears a spoken question, answers it, and measures the turn', async () => {
    const hello = speechFixture('hello.wav');
    // A short echo of what the model was sent: the reply plays out in real time before the turn ends.
    const stand = await startSpeechStandIns({
      transcripts: [hello.transcript],
      respond: (req) => ({ content: `You said: ${messageText(req.messages.findLast((m) => m.role === 'user'))}` }),
    });
    const { session, agent } = sessionFor(stand);
    const call = await startRoomlessCall({ session, agent });
    try {
      const spoken = await call.mic.say(readWav(hello.path).samples);
      const turn = await call.nextTurn(0);
      // Let the reply play out so playback bookkeeping is complete.
      await new Promise((r) => setTimeout(r, 200));

      expect(messages(session).slice(0, 2)).toEqual([
        { role: 'user', text: hello.transcript, interrupted: false },
        { role: 'assistant', text: expect.stringContaining('You said: Hello, can you hear me'), interrupted: false },
      ]);
      expect(call.speaker.segments.length).toBeGreaterThanOrEqual(1);
      const seg = call.speaker.segments[0]!;
      expect(seg.frames).toBeGreaterThan(10);
      expect(seg.durationMs).toBeGreaterThan(1000);
      // The reply started after the caller stopped talking.
      expect(seg.startedAt).toBeGreaterThan(spoken.startedAt + hello.speechEndMs - hello.speechStartMs);

      expect(turn.userText).toBe(hello.transcript);
      for (const k of ['endOfTurnDelayMs', 'llmTtftMs', 'ttsTtfbMs', 'e2eMs'] as const) {
        expect(turn[k], k).toBeTypeOf('number');
        expect(turn[k]!, k).toBeGreaterThanOrEqual(0);
        expect(turn[k]!, k).toBeLessThan(10_000);
      }
      // The stand-ins saw what the plugins really sent.
      expect(stand.deepgram.utterances[0]?.transcript).toBe(hello.transcript);
      expect(stand.openai.requests.some((r) => r.path === '/v1/chat/completions')).toBe(true);
      expect(stand.elevenlabs.contexts.length).toBeGreaterThanOrEqual(1);
    } finally {
      await call.close();
      await stand.close();
    }
  });

  it('stops when the caller speaks over the reply, keeping only what was heard', async () => {
    const hello = speechFixture('hello.wav');
    // The interruption: speech over the reply, a turn of its own (a short one: the rest is waiting).
    const weather = speechFixture('weather-paris.wav');
    const longReply =
      'Once upon a time there was a very long answer that went on and on, covering every detail of the question, ' +
      'then adding more detail about those details, and then a few more thoughts for good measure, so that nobody ' +
      'could possibly listen to all of it without wanting to say something in the middle of it.';
    const stand = await startSpeechStandIns({
      transcripts: [hello.transcript, weather.transcript],
      respond: (req, i) => (i === 0 ? { content: longReply } : { content: `Sure: ${String(req.messages.length)}.` }),
    });
    const { session, agent } = sessionFor(stand);
    const call = await startRoomlessCall({ session, agent });
    try {
      const speaking = agentSpeaking(session);
      await call.mic.say(readWav(hello.path).samples);
      await speaking;
      // Past the framework's 3 s echo-cancellation warm-up, during which it ignores barge-in.
      await new Promise((r) => setTimeout(r, 3500));
      await call.mic.say(readWav(weather.path).samples);
      const first = await call.nextTurn(0);

      expect(first.interrupted).toBe(true);
      expect(first.assistantText.length).toBeGreaterThan(20);
      expect(first.assistantText.length).toBeLessThan(longReply.length - 20);
      expect(longReply.startsWith(first.assistantText.trim())).toBe(true);
      const seg = call.speaker.segments[0]!;
      expect(seg.interrupted).toBe(true);
      expect(seg.playedMs).toBeLessThan(seg.durationMs);

      const history = messages(session);
      const assistant = history.find((m) => m.role === 'assistant');
      expect(assistant).toEqual({ role: 'assistant', text: first.assistantText, interrupted: true });
      // The interruption is a turn of its own and gets its own reply.
      const second = await call.nextTurn(1);
      expect(second.userText).toBe(weather.transcript);
    } finally {
      await call.close();
      await stand.close();
    }
  });
});
