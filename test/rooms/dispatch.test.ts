/**
 * A caller in a real room with the worker as a user runs it: the agent is dispatched (explicitly
 * by name, or automatically), greets, hears one question and answers it, both sides are
 * transcribed on `lk.transcription`, Letta receives the turn exactly once, and a typed message
 * on `lk.chat` is answered by the caller's own Letta agent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { occurrences, until, userTexts } from '../memory/helpers.ts';
import { type Stage, lettaAgentOf, recording, startStage } from '../../bench/harness/room-stage.ts';

let stage: Stage | undefined;
afterEach(async () => {
  await stage?.close();
  stage = undefined;
});

async function oneTurn(s: Stage, room: string, identity: string) {
  const hello = recording('hello.wav');
  s.deepgram.setTranscripts([hello.transcript]);
  const caller = await s.call(room, identity);
  const greeting = await caller.heardSpeech(0, 60_000);
  const spoken = await caller.say(hello.samples);
  const reply = await caller.speechAfter(spoken.endedAt);
  expect(reply.startedAt).toBeGreaterThan(greeting.endedAt);
  const replyText = `You said: ${hello.transcript.replace(/[.!?]+$/, '')}`;
  await caller.until(
    () => (caller.finalTranscripts('agent').some((t) => t.includes(replyText)) ? true : undefined),
    30_000,
    'the reply transcribed',
  );
  return { caller, hello, replyText };
}

describe.each([
  { dispatch: 'explicit', agentName: 'room-test-agent' },
  { dispatch: 'automatic', agentName: undefined },
])('$dispatch dispatch', ({ agentName }) => {
  it('the agent joins, greets, answers one question, and Letta gets that turn once', async () => {
    stage = await startStage(agentName ? { agentName } : {});
    const s = stage;
    const { caller, hello, replyText } = await oneTurn(s, `dispatch-${agentName ?? 'auto'}`, 'alice');

    // Both sides on lk.transcription: the caller's words (final) and the agent's greeting and reply.
    expect(caller.finalTranscripts('caller')).toContain(hello.transcript);
    expect(caller.finalTranscripts('agent').length).toBeGreaterThanOrEqual(2);

    await caller.leave();
    // The job ends with the caller gone; its flush sends the turn to Letta.
    await until(() => lettaAgentOf(s, 'alice') !== undefined, 30_000, 'the caller’s Letta agent');
    const agentId = lettaAgentOf(s, 'alice')!;
    await until(() => userTexts(s.letta, agentId).join('\n').includes(hello.transcript), 60_000, 'the turn in Letta');
    expect(
      occurrences(userTexts(s.letta, agentId), [`Caller: ${hello.transcript}`, `Assistant: ${replyText}`]),
    ).toEqual([1, 1]);
  });
});

describe('text input', () => {
  it('answers a message typed on lk.chat through the caller’s Letta agent, and a spoken turn after it knows it', async () => {
    stage = await startStage();
    const s = stage;
    const hello = recording('hello.wav');
    s.deepgram.setTranscripts([hello.transcript]);
    const caller = await s.call('chat', 'carol');
    await caller.heardSpeech(0, 60_000);
    await caller.chat('My dog is called Biscuit.');
    // Letta's agent answers (its model: the OpenAI stand-in), streamed back as the agent's words.
    const answer = await caller.until(
      () => caller.finalTranscripts('agent').find((t) => t.includes('You said: My dog is called Biscuit')),
      60_000,
      'the answer to the typed message',
    );
    expect(answer).toBeDefined();
    const agentId = lettaAgentOf(s, 'carol')!;
    const typed = s.letta.requests.filter(
      (r) =>
        r.method === 'POST' &&
        r.path === `/v1/agents/${agentId}/messages` &&
        JSON.stringify(r.body).includes('Biscuit'),
    );
    expect(typed.map((r) => (r.body as { stream_tokens?: boolean }).stream_tokens)).toEqual([true]);

    // The next spoken turn has the typed exchange in its context.
    const spoken = await caller.say(hello.samples);
    await caller.speechAfter(spoken.endedAt);
    const voiceTurn = s.openai.requests.findLast((r) => JSON.stringify(r.body ?? '').includes(hello.transcript));
    expect(JSON.stringify(voiceTurn?.body)).toContain('My dog is called Biscuit.');
    // The spoken turn reaches Letta; the typed message is there once (the writer never sent it again).
    await until(
      () => userTexts(s.letta, agentId).join('\n').includes(hello.transcript),
      60_000,
      'the spoken turn in Letta',
    );
    expect(occurrences(userTexts(s.letta, agentId), ['My dog is called Biscuit.'])).toEqual([1]);
  });
});
