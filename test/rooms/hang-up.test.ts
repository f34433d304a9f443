/**
 * A hang-up frees the job at once. Under LiveKit's default departure timeout (20 s) the job used to
 * stay in the empty room until the server closed it, holding its place under WORKER_MAX_CALLS, so
 * a worker at its limit turned the next caller away meanwhile.
 */
import { afterEach, expect, it } from 'vitest';
import { occurrences, userTexts } from '../memory/helpers.ts';
import { type Stage, lettaAgentOf, recording, startStage } from '../../bench/harness/room-stage.ts';

let stage: Stage | undefined;
afterEach(async () => {
  await stage?.close();
  stage = undefined;
});

// Under npm run dev as well: the framework's dev mode, left to itself, never forgot a finished call.
it.each(['start', 'dev'] as const)(
  'npm %s: a caller hangs up, the job ends within seconds with the turn in Letta, and the next caller takes its place',
  async (script) => {
    stage = await startStage({ script, logLevel: 'info', workerEnv: { WORKER_MAX_CALLS: '1' } });
    const s = stage;
    const hello = recording('hello.wav');
    s.deepgram.setTranscripts([hello.transcript]);
    const first = await s.call(`hang-up-${script}-1`, `kate-${script}`);
    await first.heardSpeech(0, 60_000);
    const asked = await first.say(hello.samples);
    await first.speechAfter(asked.endedAt);
    await first.heardSpeech(1);
    const mark = s.worker.log.length;
    await first.leave();

    const ended = JSON.parse(await s.worker.waitForLog(/"msg":"job ended"/, 60_000, mark)) as {
      afterCallerLeftMs: number | null;
    };
    expect(ended.afterCallerLeftMs).not.toBeNull();
    // Generous against a busy machine, and well short of the 20 s after which LiveKit's server
    // closes the empty room (and so the job) itself.
    expect(ended.afterCallerLeftMs).toBeLessThan(10_000);
    const agentId = lettaAgentOf(s, `kate-${script}`);
    expect(agentId).toBeDefined();
    expect(occurrences(userTexts(s.letta, agentId!), [`Caller: ${hello.transcript}`])).toEqual([1]);

    await s.worker.waitForLog(/taking calls again/, 15_000, mark);
    const second = await s.call(`hang-up-${script}-2`, `liam-${script}`);
    await second.heardSpeech(0, 60_000);
  },
);
