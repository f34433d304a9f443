/**
 * A call whose agent dies: LiveKit's server never dispatches the room again (it drops the dead
 * agent ~15 s later and marks the job failed), so the worker's call rescue does. Killed here: the
 * job process mid-reply (file journal, one worker). Measured: how long until the caller hears an
 * agent again, what its prompt knew, and every turn in Letta exactly once, the one cut off too.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRedis, startRedis } from '../../bench/redis-server.ts';
import { rescueGreeting } from '../../src/voice/voice-agent.ts';
import { occurrences, until, userTexts } from '../memory/helpers.ts';
import { type Stage, lettaAgentOf, recording, startStage } from '../../bench/harness/room-stage.ts';
import { askAndHear, cutMidReply, longReplyTo, promptsAfter, workersServing } from './worker-faults-helpers.ts';

let stage: Stage | undefined;
let redis: LocalRedis | undefined;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});
afterEach(async (ctx) => {
  // What the workers said about memory and the rescue, for a failure to be read from CI's output.
  if (ctx.task.result?.state === 'fail')
    for (const [i, w] of (stage?.workers ?? []).entries())
      for (const l of w.log.filter((x) => /memory|letta|journal|rescue|turn/i.test(x)).slice(-60))
        console.log(`worker ${i}: ${l.slice(0, 400)}`);
  await stage?.close();
  stage = undefined;
});

const rescues = (s: Stage) => s.workers.flatMap((w) => w.log.filter((l) => l.includes('call_rescued')));

describe('a call whose job process is killed mid-reply', () => {
  it('is answered again by a new agent that knows the call so far; every turn in Letta once', async () => {
    stage = await startStage({ respond: longReplyTo('hear me') });
    const s = stage;
    const alice = recording('name-alice.wav');
    const hello = recording('hello.wav');
    const weather = recording('weather-paris.wav');
    const caller = await s.call('killed-job', 'kim');
    await caller.heardSpeech(0, 60_000);
    await askAndHear(s, caller, alice);

    const killedAt = await cutMidReply(s, caller, hello, () => {
      // The worker keeps a warm process beside the call's.
      const pid = s.worker.jobProcessOf('killed-job');
      expect(s.worker.jobProcesses()).toContain(pid);
      process.kill(pid!, 'SIGKILL');
    });
    const back = await caller.speechAfter(killedAt + 1000, 60_000);
    await caller.heardSpeech(caller.heard.indexOf(back), 60_000);
    const answeredAgainMs = back.startedAt - killedAt;
    console.log(`[figure] job process killed: caller hears an agent again after ${answeredAgainMs} ms`);
    await s.worker.waitForLog(/call_rescued/, 5000);
    expect(rescues(s)).toHaveLength(1);

    // The new agent's first words were written with the call so far in its prompt.
    const greeting = promptsAfter(s, killedAt).find((p) => p.instructions.includes(rescueGreeting.slice(0, 30)));
    expect(greeting?.memory).toContain(alice.transcript);
    // The question it was answering when it died opens the new conversation.
    expect(greeting?.users).toEqual([hello.transcript]);

    // And it answers.
    await askAndHear(s, caller, weather);
    await caller.leave();
    const agentId = lettaAgentOf(s, 'kim')!;
    const said = [alice, hello, weather].map((r) => `Caller: ${r.transcript}`);
    await until(() => occurrences(userTexts(s.letta, agentId), said).every((n) => n >= 1), 60_000, 'turns in Letta');
    const counts = occurrences(userTexts(s.letta, agentId), said);
    console.log(`[figure] job process killed: Letta counts before/cut-off/after = ${counts.join('/')}`);
    expect(counts).toEqual([1, 1, 1]);
  });

  it('with the whole worker killed, the other worker answers the caller with the call so far (Redis journal)', async () => {
    stage = await startStage({ respond: longReplyTo('hear me'), workers: 2, journalUrl: redis!.url });
    const s = stage;
    const alice = recording('name-alice.wav');
    const hello = recording('hello.wav');
    const weather = recording('weather-paris.wav');
    const caller = await s.call('killed-worker', 'lena');
    await caller.heardSpeech(0, 60_000);
    await askAndHear(s, caller, alice);
    const serving = workersServing(s, 'killed-worker');
    expect(serving).toHaveLength(1);
    const dead = s.workers[serving[0]!]!;
    const other = s.workers[1 - serving[0]!]!;
    const mark = other.log.length;

    const killedAt = await cutMidReply(s, caller, hello, () => dead.crash());
    const back = await caller.speechAfter(killedAt + 1000, 60_000);
    await caller.heardSpeech(caller.heard.indexOf(back), 60_000);
    console.log(`[figure] worker killed: caller hears an agent again after ${back.startedAt - killedAt} ms`);
    await other.waitForLog(/call_rescued/, 5000, mark);
    expect(rescues(s)).toHaveLength(1);
    const greeting = promptsAfter(s, killedAt).find((p) => p.instructions.includes(rescueGreeting.slice(0, 30)));
    expect(greeting?.memory).toContain(alice.transcript);
    expect(greeting?.users).toEqual([hello.transcript]);

    await askAndHear(s, caller, weather);
    expect(other.log.slice(mark).some((l) => l.includes('killed-worker'))).toBe(true);
    await caller.leave();
    const agentId = lettaAgentOf(s, 'lena')!;
    const said = [alice, hello, weather].map((r) => `Caller: ${r.transcript}`);
    // A turn the dead worker journaled but Letta had not acknowledged is claimed after 30 s idle.
    await until(() => occurrences(userTexts(s.letta, agentId), said).every((n) => n >= 1), 90_000, 'turns in Letta');
    const counts = occurrences(userTexts(s.letta, agentId), said);
    console.log(`[figure] worker killed: Letta counts before/cut-off/after = ${counts.join('/')}`);
    expect(counts).toEqual([1, 1, 1]);
  });

  it('on SIGTERM (a deploy) the call in progress finishes on its worker and a new call goes to the other', async () => {
    stage = await startStage({
      script: 'start',
      workers: 2,
      journalUrl: redis!.url,
      workerEnv: { LIVEKIT_NUM_IDLE_PROCESSES: '1' },
    });
    const s = stage;
    const hello = recording('hello.wav');
    const weather = recording('weather-paris.wav');
    const first = await s.call('deploy-first', 'mia');
    await first.heardSpeech(0, 60_000);
    await askAndHear(s, first, hello);
    const serving = workersServing(s, 'deploy-first');
    expect(serving).toHaveLength(1);
    const draining = s.workers[serving[0]!]!;
    const other = s.workers[1 - serving[0]!]!;

    draining.signalWorker('SIGTERM');
    await draining.waitForLog(/SIGTERM received/, 30_000);
    // A new call while the first worker drains: the other worker takes it.
    const second = await s.call('deploy-second', 'noah');
    await second.heardSpeech(0, 60_000);
    expect(workersServing(s, 'deploy-second')).toEqual([s.workers.indexOf(other)]);
    // The call in progress goes on where it was.
    await askAndHear(s, first, weather);
    expect(workersServing(s, 'deploy-first')).toEqual([serving[0]]);
    await first.leave();
    await second.leave();
    expect(await draining.exited).toEqual({ code: 0, signal: null });
    expect(rescues(s)).toHaveLength(0);
    const agentId = lettaAgentOf(s, 'mia')!;
    const said = [hello, weather].map((r) => `Caller: ${r.transcript}`);
    await until(() => occurrences(userTexts(s.letta, agentId), said).every((n) => n >= 1), 60_000, 'turns in Letta');
    expect(occurrences(userTexts(s.letta, agentId), said)).toEqual([1, 1]);
  });
});
