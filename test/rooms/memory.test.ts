/**
 * Memory through real rooms: a caller who hangs up mid-reply still has the turn written (the job
 * ends, its flush runs, nothing stays in the journal), and the same identity calling straight
 * back is remembered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pendingTurnsIn } from '../../src/memory/journal/process-file.ts';
import { memorySections } from '../helpers/prompts.ts';
import { occurrences, until, userTexts } from '../memory/helpers.ts';
import { type Stage, lettaAgentOf, recording, startStage } from '../../bench/harness/room-stage.ts';

let stage: Stage | undefined;
afterEach(async () => {
  await stage?.close();
  stage = undefined;
});

const longReply =
  'This answer goes on for a long while, sentence after sentence, so the caller can hang up in the middle of it. '.repeat(
    4,
  );

describe('memory through real rooms', () => {
  it('a caller who leaves mid-reply: the job ends, the flush writes the turn once, nothing stays pending', async () => {
    stage = await startStage({
      respond: (req) => ({ content: req.messages.some((m) => m.role === 'user') ? longReply : 'Hello!' }),
    });
    const s = stage;
    const hello = recording('hello.wav');
    s.deepgram.setTranscripts([hello.transcript]);
    const caller = await s.call('leaves-mid-reply', 'dave');
    await caller.heardSpeech(0, 60_000);
    const asked = await caller.say(hello.samples);
    const reply = await caller.speechAfter(asked.endedAt);
    await new Promise((r) => setTimeout(r, 1500 - (Date.now() - reply.startedAt)));
    const mark = s.worker.log.length;
    await caller.leave();

    // dev mode keeps no idle processes: the job's process ends once the job (and its flush) is done.
    await s.worker.waitForLog(/Job process shutdown/, 90_000, mark);
    const agentId = lettaAgentOf(s, 'dave');
    expect(agentId).toBeDefined();
    expect(occurrences(userTexts(s.letta, agentId!), [`Caller: ${hello.transcript}`])).toEqual([1]);
    expect(pendingTurnsIn(s.journalDir, agentId!)).toEqual([]);
  });

  it('the same identity calling straight back is remembered', async () => {
    stage = await startStage();
    const s = stage;
    const alice = recording('name-alice.wav');
    s.deepgram.setTranscripts([alice.transcript]);
    const first = await s.call('first-call', 'erin');
    await first.heardSpeech(0, 60_000);
    const said = await first.say(alice.samples);
    await first.speechAfter(said.endedAt);
    await first.heardSpeech(1);
    await first.leave();

    // At once: whether or not Letta has acknowledged the turn yet, the next call must know it.
    const hello = recording('hello.wav');
    s.deepgram.setTranscripts([hello.transcript]);
    const second = await s.call('second-call', 'erin');
    await second.heardSpeech(0, 60_000);
    const asked = await second.say(hello.samples);
    await second.speechAfter(asked.endedAt);
    // The reply's prompt carried the first call in its memory section.
    expect(memorySections(s.openai).at(-1)).toContain('My name is Alice and I love hiking');
    // Written to Letta once, however the second call came to know it.
    await until(() => lettaAgentOf(s, 'erin') !== undefined, 30_000, 'erin’s Letta agent');
    await until(
      () => userTexts(s.letta, lettaAgentOf(s, 'erin')!).join('\n').includes(alice.transcript),
      60_000,
      'the first call’s turn in Letta',
    );
    expect(occurrences(userTexts(s.letta, lettaAgentOf(s, 'erin')!), [`Caller: ${alice.transcript}`])).toEqual([1]);
  });
});
