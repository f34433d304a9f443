/**
 * The memory tools through a real room, the worker as a user runs it: a delegated task is
 * acknowledged at once and its answer is spoken later, after the caller's next turn and never over
 * it; a recall with Letta slower than its budget fills the wait with speech and does not stall.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { lastMessage, messageText, scriptedAnswers, toolScript } from '../helpers/scripted-model.ts';
import { until } from '../memory/helpers.ts';
import { type Stage, recording, startStage } from '../../bench/harness/room-stage.ts';

let stage: Stage | undefined;
afterEach(async () => {
  await stage?.close();
  stage = undefined;
});

describe('memory tools in a real room', () => {
  it('a delegated task: acknowledged at once, its answer spoken after the caller’s next turn', async () => {
    stage = await startStage({ respond: toolScript('dragon', 'delegate_task', { task: 'Plan my exercise' }) });
    const s = stage;
    const dragon = recording('dragon-story.wav');
    const weather = recording('weather-paris.wav');
    s.deepgram.setTranscripts([dragon.transcript, weather.transcript]);
    // The task runs on Letta until the caller has had another turn.
    await s.letta.faults.set({ kind: 'hold', count: 1, match: { method: 'POST', path: /\/messages$/ } });
    const caller = await s.call('delegation', 'dora');
    await caller.heardSpeech(0, 60_000);
    const asked = await caller.say(dragon.samples);
    const ack = await caller.speechAfter(asked.endedAt);
    await caller.until(
      () => (caller.finalTranscripts('agent').some((t) => t.includes(scriptedAnswers.started)) ? true : undefined),
      30_000,
      'the acknowledgement',
    );
    // An ordinary reply's time: the acknowledgement came within a few seconds of the question.
    expect(ack.startedAt - asked.endedAt).toBeLessThan(5000);
    await until(() => s.letta.faults.held() === 1, 30_000, 'the task on Letta');

    const next = await caller.say(weather.samples);
    await caller.speechAfter(next.endedAt);
    s.letta.faults.release();
    await caller.until(
      () => (caller.finalTranscripts('agent').some((t) => t.includes(scriptedAnswers.taskDone)) ? true : undefined),
      60_000,
      'the answer',
    );
    // Never over the caller: no agent speech while the caller said the second utterance.
    expect(caller.heard.filter((h) => h.endedAt > next.startedAt && h.startedAt < next.endedAt)).toEqual([]);
  });

  it('a recall with Letta slower than its budget: a filler at once, then the answer, no stall', async () => {
    stage = await startStage({ respond: toolScript('remind me', 'recall_memory', { query: 'what we talked about' }) });
    const s = stage;
    const remind = recording('remind-me.wav');
    s.deepgram.setTranscripts([remind.transcript]);
    await s.letta.faults.set({ kind: 'latency', ms: 5000, match: { path: /search$/ } });
    const caller = await s.call('recall', 'erin');
    await caller.heardSpeech(0, 60_000);
    const asked = await caller.say(remind.samples);
    // No silence: the agent speaks (the filler) soon after the question, while Letta is still searching.
    const speech = await caller.speechAfter(asked.endedAt);
    expect(speech.startedAt - asked.endedAt).toBeLessThan(4000);
    await caller.until(
      () => (caller.finalTranscripts('agent').some((t) => t.includes(scriptedAnswers.recalled)) ? true : undefined),
      30_000,
      'the answer',
    );
    expect(caller.finalTranscripts('agent').some((t) => t.includes('Let me check my notes'))).toBe(true);
    // No stall: the model had the search's (partial) results within the 1.2 s budget of asking for them.
    const reqs = s.openai.requests.filter((r) => r.path.endsWith('/chat/completions'));
    const toolCall = reqs.find((r) => messageText(lastMessage(r.body)).includes('remind me'));
    const results = reqs.find((r) => messageText(lastMessage(r.body)).includes('memory_search'));
    expect(results!.at - toolCall!.finishedAt!).toBeLessThan(1200 + 1500);
  });
});
