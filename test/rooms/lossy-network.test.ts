/**
 * Calls on a bad network (nftables in the tier's namespace, see bench/harness/network-faults.ts):
 * 0, 2, 5 and 10 % random loss of the caller's UDP both ways, and a 3 s blackout of everything
 * the caller sends and receives in the middle of a reply. Each call must still be answered, the
 * caller's words must still reach the recogniser after concealment, and every finished turn must
 * be in Letta exactly once. The figures are printed; bench/README.md has them from the bench.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkFaults } from '../../bench/harness/network-faults.ts';
import { type Stage, startStage } from '../../bench/harness/room-stage.ts';
import { speechFixture } from '../../bench/harness/speech.ts';
import { type NetworkCallResult, runNetworkCall } from '../../bench/network-call.ts';
import { speechMs } from '../../sim/index.ts';

const longReply =
  'Once upon a time a small dragon lived by the sea, and every evening it counted the ships that sailed past its cave. '.repeat(
    2,
  );
const isStory = (text: string) => /dragon/i.test(text);

let stage: Stage;
let faults: NetworkFaults;
beforeAll(async () => {
  stage = await startStage({
    respond: (req) => {
      const last = [...req.messages].reverse().find((m) => m.role === 'user');
      const text = typeof last?.content === 'string' ? last.content : JSON.stringify(last?.content ?? '');
      return { content: isStory(text) ? longReply : 'Sure, happy to help with that.' };
    },
  });
  faults = NetworkFaults.open();
});
afterAll(async () => {
  faults?.close();
  await stage?.close();
});

const turns = [speechFixture('hello.wav'), speechFixture('weather-paris.wav')];

function report(r: NetworkCallResult): void {
  const { turnRecords, ...figures } = r;
  console.log(`lossy network ${r.lossPct} % / blackout ${r.blackoutMs} ms: ${JSON.stringify(figures)}`);
  void turnRecords;
}

function expectWholeCall(r: NetworkCallResult): void {
  expect(r.error).toBeUndefined();
  expect(r.started).toBe(true);
  expect(r.answered).toBe(r.turns);
  // Each utterance detected once, in order, with the words scripted for it: none lost or split.
  expect(r.detected).toBe(r.spoken);
  expect(r.transcribed).toBe(r.spoken);
  expect(r.lettaCopies).toEqual(r.lettaCopies.map(() => 1));
}

describe('a caller on a lossy network', () => {
  it.each([0, 2, 5, 10])('%i % random UDP loss: answered, heard, remembered once', async (loss) => {
    const r = await runNetworkCall(stage, faults, {
      room: `loss-${loss}`,
      identity: `lossy-${loss}`,
      fixtures: turns,
      lossPct: loss,
    });
    report(r);
    expectWholeCall(r);
    expect(r.faults.packets).toBeGreaterThan(100);
    if (loss === 0) expect(r.faults.lossDrops).toBe(0);
    // The rule really drops about that share: generous, since a call is a few thousand packets.
    else expect(r.measuredLossPct).toBeGreaterThan(loss / 4);
    if (loss > 0) expect(r.measuredLossPct).toBeLessThan(loss * 3);
  });

  it('a 3 s blackout mid-reply: the caller hears the rest, the next turn is answered, memory once', async () => {
    const story = speechFixture('dragon-story.wav');
    const r = await runNetworkCall(stage, faults, {
      room: 'blackout',
      identity: 'blackout',
      fixtures: [story, speechFixture('hello.wav')],
      lossPct: 0,
      blackout: { ms: 3000, turn: 0, afterReplyStartMs: 1500 },
      replyMsOf: (turn) => (turn === 0 ? speechMs(longReply) : null),
    });
    report(r);
    expectWholeCall(r);
    expect(r.faults.blackoutDrops).toBeGreaterThan(50);
    const after = r.afterBlackout;
    expect(after).not.toBeNull();
    expect(after!.heardBeforeMs).toBeGreaterThan(500);
    // The reply goes on in real time meanwhile: what the blackout took is gone, the rest is heard.
    expect(after!.resumedAfterMs).not.toBeNull();
    expect(after!.heardAfterMs).toBeGreaterThan(1000);
    // What the worker cannot know: it played the whole reply, so memory has it as heard in full.
    expect(r.interruptedInLetta).toBe(0);
  });
});
