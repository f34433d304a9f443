/**
 * Memory in the full speech pipeline: the Letta stand-in's request log shows that no request
 * reaches Letta between the caller's last word and the reply's first token, and that Letta being
 * slow or down leaves the reply's timing unchanged and loses no turn.
 */
import { type VAD, initializeLogger, type ipc } from '@livekit/agents';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Fault, type LettaStandIn, startLettaStandIn } from '../../sim/index.ts';
import { MemoryService } from '../../src/memory/memory-service.ts';
import { inProcessEotExecutor } from '../../src/voice/end-of-turn.ts';
import { loadVad } from '../../src/voice/session-factory.ts';
import { defaultSpeechSettings } from '../../src/voice/speech-settings.ts';
import { occurrences, tempDir, userTexts } from '../memory/helpers.ts';
import { type SpeechStandIns, startSpeechStandIns } from '../helpers/stand-ins.ts';
import { startMemoryCall } from '../helpers/memory-call.ts';
import { readWav, speechFixture } from '../../bench/harness/speech.ts';

// The worker's speech settings; the end-of-turn model runs in this process (no job here).
let vad: VAD;
let eotExecutor: ipc.InferenceExecutor;
beforeAll(async () => {
  initializeLogger({ pretty: false, level: 'silent' });
  vad = await loadVad(defaultSpeechSettings);
  eotExecutor = inProcessEotExecutor();
});

const utterances = ['hello.wav', 'name-alice.wav'].map(speechFixture);

interface CallResult {
  /** Per turn: caller's last word → first token sent by the OpenAI stand-in (epoch ms). */
  windows: { speechEnd: number; firstToken: number }[];
  ttftFromSpeechEnd: number[];
  agentId: string;
}

async function callWithMemory(
  speech: SpeechStandIns,
  letta: LettaStandIn,
  journalDir: string,
  memoryOut: MemoryService[],
) {
  speech.deepgram.setTranscripts(utterances.map((u) => u.transcript));
  const {
    call,
    caller,
    memory,
    end: endCall,
  } = await startMemoryCall({
    speech,
    letta,
    journalDir,
    vad,
    eotExecutor,
    sessionId: `call-${memoryOut.length + 1}`,
  });
  memoryOut.push(memory);
  const result: CallResult = { windows: [], ttftFromSpeechEnd: [], agentId: '' };
  try {
    for (const [i, u] of utterances.entries()) {
      const before = speech.openai.requests.length;
      const spoken = await call.mic.say(readWav(u.path).samples);
      await call.nextTurn(i);
      const req = speech.openai.requests.slice(before).find((r) => r.firstDeltaAt !== null);
      const speechEnd = spoken.startedAt + u.speechEndMs;
      result.windows.push({ speechEnd, firstToken: req!.firstDeltaAt! });
      result.ttftFromSpeechEnd.push(req!.firstDeltaAt! - speechEnd);
    }
  } finally {
    await endCall();
  }
  result.agentId = await caller.agentId;
  return result;
}

function lettaRequestsInside(letta: LettaStandIn, windows: CallResult['windows']) {
  return letta.requests.filter((r) => windows.some((w) => r.at >= w.speechEnd && r.at <= w.firstToken));
}

describe('memory off the speech path', () => {
  it('makes no Letta request inside a turn, and Letta slow or down changes neither timing nor turns', async () => {
    const speech = await startSpeechStandIns({ respond: () => ({ content: 'Okay, noted.' }) });
    const letta = await startLettaStandIn({ modelBaseUrl: speech.openai.url });
    const { dir, cleanup } = await tempDir();
    const services: MemoryService[] = [];
    try {
      // Writes take about as long as the next utterance, so acknowledgements and the refreshes they
      // trigger fall due around the end of the next turn: exactly when they must wait.
      const slowish: Fault = { kind: 'latency', ms: 2650, match: { method: 'POST', path: /\/messages$/ } };
      await letta.faults.set(slowish);
      const healthy = await callWithMemory(speech, letta, dir, services);
      expect(lettaRequestsInside(letta, healthy.windows)).toEqual([]);
      expect(letta.requests.some((r) => r.method === 'GET' && /core-memory\/blocks/.test(r.path))).toBe(true);

      await letta.faults.clear();
      await letta.faults.set({ kind: 'latency', ms: 10_000, match: { method: 'POST', path: /\/messages$/ } });
      const slow = await callWithMemory(speech, letta, dir, services);
      expect(lettaRequestsInside(letta, slow.windows)).toEqual([]);

      await letta.faults.clear();
      await letta.faults.set({ kind: 'down' });
      const down = await callWithMemory(speech, letta, dir, services);

      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      expect(median(slow.ttftFromSpeechEnd)).toBeLessThan(median(healthy.ttftFromSpeechEnd) + 400);
      expect(median(down.ttftFromSpeechEnd)).toBeLessThan(median(healthy.ttftFromSpeechEnd) + 400);

      await letta.faults.clear();
      for (const s of services) expect((await s.close(30_000)).drained).toBe(true);
      const texts = userTexts(letta, healthy.agentId);
      // Three calls of two turns each: every turn once.
      expect(
        occurrences(
          texts,
          utterances.map((u) => `Caller: ${u.transcript}`),
        ),
      ).toEqual([3, 3]);
      expect(texts.join('\n').split('Caller: ').length - 1).toBe(6);
    } finally {
      await letta.close();
      await speech.close();
      await cleanup();
    }
  }, 180_000);
});
