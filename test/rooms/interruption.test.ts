/**
 * The caller speaks over a long reply in a real room: the agent stops, and the turn written to
 * Letta holds only what the caller heard. The ElevenLabs stand-in times its alignment from each
 * audio chunk, as the service does; without the project's patch of the plugin (src/patches/) the
 * word times restart at every chunk and the whole synthesized reply counts as heard.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { speechMs } from '../../sim/index.ts';
import { until, userTexts } from '../memory/helpers.ts';
import { type Stage, recording, startStage } from '../../bench/harness/room-stage.ts';

/**
 * Long one-syllable words: the stand-in takes about twice as long to say them as the framework's
 * syllable-rate estimate assumes, so a heard-text that fell back to that estimate (what the
 * synchronizer does when the word times restart at each chunk) is seconds off what was heard.
 */
const longReply = 'Strengths stretched straight through scratched thoughts, '.repeat(8).trim();

let stage: Stage | undefined;
afterEach(async () => {
  await stage?.close();
  stage = undefined;
});

describe('interruption in a real room', () => {
  it('keeps only what the caller heard of the interrupted reply, in Letta', async () => {
    stage = await startStage({
      // The first reply after the caller's question is the long one; the greeting and the rest are short.
      respond: (req) => {
        const users = req.messages.filter((m) => m.role === 'user').length;
        return { content: users === 1 ? longReply : 'Sure.' };
      },
    });
    const s = stage;
    const hello = recording('hello.wav');
    const roman = recording('roman-empire.wav');
    const caller = await s.call('interruption', 'bob');
    await caller.heardSpeech(0, 60_000);
    s.deepgram.setTranscripts([hello.transcript]);
    const asked = await caller.say(hello.samples);
    const reply = await caller.speechAfter(asked.endedAt);
    // Past the framework's 3 s echo-cancellation warm-up (no barge-in before it), and far past the
    // first audio chunk (about 200 ms), so the cut depends on the word times of later chunks.
    await new Promise((r) => setTimeout(r, 4000 - (Date.now() - reply.startedAt)));
    s.deepgram.setTranscripts([roman.transcript]);
    await caller.say(roman.samples);
    await caller.until(
      () => (caller.heard.at(-1) !== reply ? true : undefined),
      30_000,
      'the answer to the interruption',
    );
    const heardMs = reply.endedAt - reply.startedAt;
    expect(heardMs).toBeGreaterThan(3500);
    expect(heardMs).toBeLessThan(speechMs(longReply) - 3000);

    await caller.leave();
    const agentId = await (async () => {
      await until(() => s.letta.store.agents().length > 0, 30_000, 'the caller’s Letta agent');
      return s.letta.store.agents()[0]!.id;
    })();
    const interrupted = /Assistant: (.*) \(interrupted; the caller heard only this\)/;
    await until(() => userTexts(s.letta, agentId).some((t) => interrupted.test(t)), 60_000, 'the interrupted turn');
    const heardText = userTexts(s.letta, agentId)
      .map((t) => interrupted.exec(t)?.[1])
      .find((t) => t !== undefined)!;
    expect(longReply.startsWith(heardText.trim())).toBe(true);
    // What Letta got takes as long to say as the caller actually listened (generous: the agent
    // stops a VAD decision after the caller starts, and playout has its own buffering).
    expect(Math.abs(speechMs(heardText.trim()) - heardMs)).toBeLessThan(1500);
  });
});
