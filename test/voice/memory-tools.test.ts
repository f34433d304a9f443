/**
 * The voice agent's memory tools in the full speech pipeline (real VAD and plugins, stand-ins for
 * the services): recall speaks a filler at once and answers within its budget even with Letta
 * slower than that; a delegated task is acknowledged in an ordinary reply, its answer is spoken
 * later without talking over the caller, and the turns in between keep Letta out of their window.
 */
import { type VAD, initializeLogger } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';
import { beforeAll, describe, expect, it } from 'vitest';
import { startRoomlessCall } from '../../bench/harness/roomless-call.ts';
import { readWav, speechFixture } from '../../bench/harness/speech.ts';
import { type LettaStandIn, startLettaStandIn, startOpenAIStandIn } from '../../sim/index.ts';
import { recallFiller } from '../../src/memory/memory-tools.ts';
import { lastMessage, messageText, scriptedAnswers, toolScript } from '../helpers/scripted-model.ts';
import { tempDir, until } from '../memory/helpers.ts';
import { startMemoryCall } from '../helpers/memory-call.ts';
import { type SpeechStandIns, startSpeechStandIns } from '../helpers/stand-ins.ts';

let vad: VAD;
beforeAll(async () => {
  initializeLogger({ pretty: false, level: 'silent' });
  vad = await silero.VAD.load();
});

const RECALL_BUDGET_MS = 1200;

/**
 * Runs a spoken call, then ends it and closes the memory service, which waits up to `flushMs` for
 * writes still pending (the worker's job shutdown does the same with its own bound).
 */
async function withCall(
  speech: SpeechStandIns,
  letta: LettaStandIn,
  dir: string,
  run: (h: {
    call: Awaited<ReturnType<typeof startRoomlessCall>>;
    say: (file: string) => Promise<{ speechEnd: number }>;
  }) => Promise<void>,
  flushMs = 10_000,
): Promise<void> {
  const { call, memory, end } = await startMemoryCall({
    speech,
    letta,
    journalDir: dir,
    vad,
    sessionId: 'call-tools',
    tools: true,
    memory: { recall: { budgetMs: RECALL_BUDGET_MS } },
  });
  try {
    await run({
      call,
      say: async (file) => {
        const u = speechFixture(file);
        const spoken = await call.mic.say(readWav(u.path).samples);
        return { speechEnd: spoken.startedAt + u.speechEndMs };
      },
    });
  } finally {
    await end();
    await memory.close(flushMs);
  }
}

describe('memory tools in a spoken call', () => {
  it('recall: a filler at once, then an answer within the budget though Letta is slower than that', async () => {
    const speech = await startSpeechStandIns({
      transcripts: ['Can you remind me what we talked about?'],
      respond: toolScript('remind me', 'recall_memory', { query: 'what we talked about' }),
    });
    const letta = await startLettaStandIn();
    const { dir, cleanup } = await tempDir();
    try {
      // Every search takes 3 s, far past the 1.2 s budget.
      await letta.faults.set({ kind: 'latency', ms: 3000, match: { method: 'GET', path: /search$/ } });
      await letta.faults.set({ kind: 'latency', ms: 3000, match: { method: 'POST', path: /\/search$/ } });
      await withCall(speech, letta, dir, async ({ call, say }) => {
        await say('remind-me.wav');
        await until(
          () => speech.openai.requests.some((r) => messageText(lastMessage(r.body)).includes('memory_search')),
          15_000,
          'the tool result',
        );
        const reqs = speech.openai.requests;
        const toolCallReq = reqs.find((r) => messageText(lastMessage(r.body)).includes('remind me'));
        const resultReq = reqs.find((r) => messageText(lastMessage(r.body)).includes('memory_search'));
        // No stall: the model had the (partial) results within the budget of the tool call's end.
        expect(resultReq!.at - toolCallReq!.finishedAt!).toBeLessThan(RECALL_BUDGET_MS + 1000);
        expect(messageText(lastMessage(resultReq!.body))).toContain('ran out of time');
        // No silence: the filler was spoken while the search ran.
        const filler = speech.elevenlabs.contexts.find((c) => c.text.includes(recallFiller));
        expect(filler?.firstTextAt).toBeLessThan(resultReq!.at);
        await call.nextTurn(1, 15_000);
      });
    } finally {
      await letta.close();
      await speech.close();
      await cleanup();
    }
  }, 120_000);

  it('delegation: acknowledged at once, answered later when the caller is quiet, Letta kept out of the turns between', async () => {
    const lettaModel = await startOpenAIStandIn({ respond: () => ({ content: scriptedAnswers.letta }) });
    const speech = await startSpeechStandIns({
      transcripts: ['Tell me a short story about a dragon.', 'What is the weather like in Paris today?'],
      respond: toolScript('dragon', 'delegate_task', { task: 'Plan my exercise for next week' }),
    });
    const letta = await startLettaStandIn({ modelBaseUrl: lettaModel.url });
    const { dir, cleanup } = await tempDir();
    try {
      // The task runs on Letta until the test lets it finish.
      await letta.faults.set({ kind: 'hold', count: 1, match: { method: 'POST', path: /\/messages$/ } });
      await withCall(speech, letta, dir, async ({ call, say }) => {
        const first = await say('dragon-story.wav');
        const ack = await call.nextTurn(0, 20_000);
        expect(ack.assistantText).toContain(scriptedAnswers.started);
        await until(() => letta.faults.held() === 1, 10_000, 'the task on Letta');
        const taskReq = letta.requests.find((r) => r.method === 'POST' && r.path.endsWith('/messages'));
        expect(JSON.stringify(taskReq?.body)).toContain('Plan my exercise for next week');

        // The caller goes on while the task runs: an ordinary turn, with no Letta request inside it.
        const second = await say('weather-paris.wav');
        const reply = await call.nextTurn(1, 20_000);
        expect(reply.assistantText.trim()).toBe('Okay.');
        // The acknowledgement (a tool step, then the reply) came about as fast as an ordinary reply.
        expect(ack.e2eMs!).toBeLessThan(reply.e2eMs! + 1500);
        const firstTokens = speech.openai.requests.filter((r) => r.firstDeltaAt !== null).map((r) => r.firstDeltaAt!);
        const windows = [first, second].map((s) => ({
          from: s.speechEnd,
          to: Math.min(...firstTokens.filter((t) => t > s.speechEnd)),
        }));
        expect(letta.requests.filter((r) => windows.some((w) => r.at >= w.from && r.at <= w.to))).toEqual([]);

        letta.faults.release();
        const answer = await call.nextTurn(2, 30_000);
        expect(answer.assistantText).toContain(scriptedAnswers.taskDone);
        // Never over the caller: the answer started after the caller's last word.
        const spoken = speech.elevenlabs.contexts.find((c) => c.text.includes(scriptedAnswers.taskDone));
        expect(spoken?.firstTextAt).toBeGreaterThan(second.speechEnd);
        // The deferred reply carried Letta's answer, framed as data.
        const deferred = speech.openai.requests.find((r) => messageText(lastMessage(r.body)).includes('task_result'));
        expect(messageText(lastMessage(deferred?.body))).toContain(scriptedAnswers.letta);
      });
    } finally {
      await letta.close();
      await lettaModel.close();
      await speech.close();
      await cleanup();
    }
  }, 120_000);

  it('a hang-up while a delegated task runs ends the call at once; the task stays with Letta', async () => {
    const lettaModel = await startOpenAIStandIn({ respond: () => ({ content: 'Done: three ideas.' }) });
    const speech = await startSpeechStandIns({
      transcripts: ['Tell me a short story about a dragon.'],
      respond: toolScript('dragon', 'delegate_task', { task: 'Find three gift ideas' }),
    });
    const letta = await startLettaStandIn({ modelBaseUrl: lettaModel.url });
    const { dir, cleanup } = await tempDir();
    try {
      await letta.faults.set({ kind: 'hold', count: 1, match: { method: 'POST', path: /\/messages$/ } });
      let hungUpAt = 0;
      // The call's turn is queued behind the task on the agent, so closing waits out the whole flush
      // bound (a short one here); what is not written stays journaled for the next start.
      const flushMs = 1000;
      await withCall(
        speech,
        letta,
        dir,
        async ({ call, say }) => {
          await say('dragon-story.wav');
          await call.nextTurn(0, 20_000);
          await until(() => letta.faults.held() === 1, 10_000, 'the task on Letta');
          hungUpAt = Date.now();
        },
        flushMs,
      );
      // withCall closed the session and the memory service: neither waited for the task.
      expect(Date.now() - hungUpAt).toBeLessThan(flushMs + 5000);
      letta.faults.release();
      const agentId = letta.store.agents()[0]!.id;
      await until(
        () => letta.store.messages(agentId).some((m) => JSON.stringify(m).includes('Find three gift ideas')),
        10_000,
        'the task in Letta',
      );
    } finally {
      await letta.close();
      await lettaModel.close();
      await speech.close();
      await cleanup();
    }
  }, 120_000);
});
