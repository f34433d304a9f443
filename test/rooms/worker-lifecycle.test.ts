/**
 * The worker process over its life, with real rooms: SIGTERM in the middle of a call under
 * `npm start` lets that call finish (drain) and then exits 0 with no turn lost; a restart of the
 * LiveKit server between two calls is survived without help.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pendingTurnsIn } from '../../src/memory/journal/process-file.ts';
import { occurrences, until, userTexts } from '../memory/helpers.ts';
import { type Stage, lettaAgentOf, recording, startStage } from '../../bench/harness/room-stage.ts';

let stage: Stage | undefined;
afterEach(async () => {
  await stage?.close();
  stage = undefined;
});

describe('the worker process', () => {
  it('on SIGTERM mid-call under npm start: the call goes on to its end, then exit 0, no turn lost', async () => {
    stage = await startStage({ script: 'start' });
    const s = stage;
    const hello = recording('hello.wav');
    const weather = recording('weather-paris.wav');
    const caller = await s.call('drain', 'frank');
    await caller.heardSpeech(0, 60_000);
    s.deepgram.setTranscripts([hello.transcript]);
    const first = await caller.say(hello.samples);
    await caller.speechAfter(first.endedAt);

    // As a process manager stops it: SIGTERM to the worker's main process.
    s.worker.signalWorker('SIGTERM');
    await s.worker.waitForLog(/SIGTERM received/, 30_000);
    // The call is still served: a second question gets an answer.
    s.deepgram.setTranscripts([weather.transcript]);
    const second = await caller.say(weather.samples);
    await caller.speechAfter(second.endedAt);
    await caller.until(
      () =>
        caller.finalTranscripts('agent').some((t) => t.includes('You said: What is the weather')) ? true : undefined,
      30_000,
      'the answer to the second question',
    );
    let exitedEarly = false;
    void s.worker.exited.then(() => (exitedEarly = true));
    await new Promise((r) => setTimeout(r, 1000));
    expect(exitedEarly).toBe(false);

    await caller.leave();
    const exit = await s.worker.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    const agentId = lettaAgentOf(s, 'frank');
    expect(agentId).toBeDefined();
    const texts = userTexts(s.letta, agentId!);
    expect(occurrences(texts, [`Caller: ${hello.transcript}`, `Caller: ${weather.transcript}`])).toEqual([1, 1]);
    expect(pendingTurnsIn(s.journalDir, agentId!)).toEqual([]);
  });

  it('registers again by itself after the LiveKit server restarts, and the next call works', async () => {
    stage = await startStage();
    const s = stage;
    const hello = recording('hello.wav');
    const before = await s.call('before-restart', 'grace');
    await before.heardSpeech(0, 60_000);
    s.deepgram.setTranscripts([hello.transcript]);
    const asked = await before.say(hello.samples);
    await before.speechAfter(asked.endedAt);
    const mark = s.worker.log.length;
    await before.leave();
    await s.worker.waitForLog(/Job process shutdown/, 90_000, mark);

    await s.server.restart();
    await s.worker.registered(2, 90_000);

    const after = await s.call('after-restart', 'grace');
    await after.heardSpeech(0, 60_000);
    s.deepgram.setTranscripts([hello.transcript]);
    const again = await after.say(hello.samples);
    await after.speechAfter(again.endedAt);
    await after.leave();
    await until(
      () => occurrences(userTexts(s.letta, lettaAgentOf(s, 'grace') ?? ''), [`Caller: ${hello.transcript}`])[0] === 2,
      60_000,
      'both calls’ turns in Letta',
    );
  });
});
