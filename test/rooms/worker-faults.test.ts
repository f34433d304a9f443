/**
 * A call whose agent dies: LiveKit's server never dispatches the room again (it drops the dead
 * agent ~15 s later and marks the job failed), so the worker's call rescue does. Killed here: the
 * job process mid-reply (file journal, one worker). Measured: how long until the caller hears an
 * agent again, what its prompt knew, and every finished turn in Letta exactly once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rescueGreeting } from '../../src/voice/voice-agent.ts';
import { occurrences, until, userTexts } from '../memory/helpers.ts';
import { type Stage, lettaAgentOf, recording, startStage } from '../../bench/harness/room-stage.ts';
import { askAndHear, cutMidReply, longReplyUnless, promptsAfter } from './worker-faults-helpers.ts';

let stage: Stage | undefined;
afterEach(async () => {
  await stage?.close();
  stage = undefined;
});

describe('a call whose job process is killed mid-reply', () => {
  it('is answered again by a new agent that knows the call so far; every finished turn in Letta once', async () => {
    stage = await startStage({ respond: longReplyUnless('Alice') });
    const s = stage;
    const alice = recording('name-alice.wav');
    const hello = recording('hello.wav');
    const weather = recording('weather-paris.wav');
    const caller = await s.call('killed-job', 'kim');
    await caller.heardSpeech(0, 60_000);
    await askAndHear(s, caller, alice);

    const killedAt = await cutMidReply(s, caller, hello, () => {
      const pids = s.worker.jobProcesses();
      expect(pids).toHaveLength(1);
      process.kill(pids[0]!, 'SIGKILL');
    });
    const back = await caller.speechAfter(killedAt + 1000, 60_000);
    const answeredAgainMs = back.startedAt - killedAt;
    console.log(`[figure] job process killed: caller hears an agent again after ${answeredAgainMs} ms`);
    await s.worker.waitForLog(/call_rescued|another agent was dispatched/, 5000);

    // The new agent's first words were written with the call so far in its prompt.
    const greeting = promptsAfter(s, killedAt).find((p) => p.instructions.includes(rescueGreeting.slice(0, 30)));
    expect(greeting?.memory).toContain(alice.transcript);

    // And it answers.
    await askAndHear(s, caller, weather);
    await caller.leave();
    const agentId = lettaAgentOf(s, 'kim')!;
    const finished = [`Caller: ${alice.transcript}`, `Caller: ${weather.transcript}`];
    await until(
      () => occurrences(userTexts(s.letta, agentId), finished).every((n) => n >= 1),
      60_000,
      'turns in Letta',
    );
    const counts = occurrences(userTexts(s.letta, agentId), [...finished, `Caller: ${hello.transcript}`]);
    console.log(`[figure] job process killed: Letta counts alice/weather/cut-off hello = ${counts.join('/')}`);
    expect(counts.slice(0, 2)).toEqual([1, 1]);
  });
});
