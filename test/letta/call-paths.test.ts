/**
 * The paths of a call that go through the caller's Letta agent, against Letta's own server:
 * typed text answered by the agent and streamed as it comes, `recall_memory` searching the agent's
 * passages, `delegate_task` answered by the agent, and the server stopped mid-call and started
 * again (replies unchanged, no turn lost).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultResponder, type OpenAIStandIn, type Responder, startOpenAIStandIn } from '../../sim/index.ts';
import { until } from '../memory/helpers.ts';
import { startTextCall, type TextCall } from './call.ts';
import { serverUserTexts, server, startLetta, stopLetta } from './helpers.ts';

let openai: OpenAIStandIn;
let call: TextCall | null = null;
beforeAll(async () => {
  openai = await startOpenAIStandIn();
});
afterEach(async () => {
  openai.setResponder(defaultResponder());
  await call?.end(0);
  call = null;
});
afterAll(() => openai.close());

/** The voice agent's model: a tool call when the caller says the trigger, the default replies otherwise. */
function callsTool(trigger: string, tool: string, args: Record<string, string>): Responder {
  const otherwise = defaultResponder();
  return (req, i) => {
    const last = req.messages.at(-1);
    if (last?.role === 'user' && String(last.content).includes(trigger))
      return { toolCalls: [{ name: tool, arguments: JSON.stringify(args) }] };
    return otherwise(req, i);
  };
}

const echo = (said: string) => `You said: ${said}. That is an interesting point. Tell me more about it.`;

describe('a call through the caller’s Letta agent', () => {
  it('streams the agent’s answer to typed text, and keeps the message once', async () => {
    call = await startTextCall({ openai, identity: 'typist' });
    const deltas: string[] = [];
    const r = await call.caller.text.reply('Hello Letta, can you read me?', (d) => deltas.push(d));
    expect(r.failed).toBeUndefined();
    expect(r.reply).toContain('You said: Hello Letta, can you read me');
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe(r.reply);
    const texts = await serverUserTexts(await call.caller.agentId);
    expect(texts.filter((t) => t.includes('Hello Letta, can you read me?'))).toHaveLength(1);
  });

  it('finds what the agent’s passages hold with recall_memory', async () => {
    call = await startTextCall({ openai, identity: 'dog-owner', tools: true });
    const agentId = await call.caller.agentId;
    await server.agents.passages.create(agentId, { text: 'The caller has a dog called Rex who loves the beach.' });
    openai.setResponder(callsTool('what is my dog called', 'recall_memory', { query: 'dog' }));
    const reply = await call.say('Remind me, what is my dog called?');
    expect(reply).toContain('Rex');
  });

  it('hands a task to the agent with delegate_task and speaks its answer', async () => {
    call = await startTextCall({ openai, identity: 'planner', tools: true });
    openai.setResponder(callsTool('plan my week', 'delegate_task', { task: 'Plan a week of exercise' }));
    await call.say('Could you plan my week?');
    // The answer is given after the caller's next turn, never over it (as in a spoken call).
    await call.say('Thanks, I will wait.');
    // Letta's agent answers the task (its model is the tier's OpenAI stand-in, which echoes it).
    await until(
      () =>
        openai.requests.some(
          (r) =>
            JSON.stringify(r.body ?? '').includes('task_result') &&
            JSON.stringify(r.body).includes('Plan a week of exercise'),
        ),
      60_000,
      'the task result in the voice agent’s prompt',
    );
    // The task went to the agent once (the call's own turns, which quote it, are transcripts).
    const tasks = (await serverUserTexts(await call.caller.agentId)).filter((t) =>
      t.startsWith('[Task from a live voice call'),
    );
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toContain('Plan a week of exercise');
  });

  it('answers the same while the server is down, and every turn reaches it once when it is back', async () => {
    call = await startTextCall({ openai, identity: 'through-outage' });
    const agentId = await call.caller.agentId;
    expect(await call.say('First, before the outage.')).toBe(echo('First, before the outage'));
    await stopLetta();
    try {
      for (const said of ['Second, during the outage', 'Third, still during it']) {
        const started = Date.now();
        expect(await call.say(`${said}.`)).toBe(echo(said));
        // Generous: a reply never waits on Letta (the bench measures the real figure).
        expect(Date.now() - started).toBeLessThan(10_000);
      }
    } finally {
      await startLetta();
    }
    const { pending } = await call.end(60_000);
    call = null;
    expect(pending).toBe(0);
    const texts = await serverUserTexts(agentId);
    for (const said of ['First, before the outage.', 'Second, during the outage.', 'Third, still during it.'])
      expect(
        texts.filter((t) => t.includes(`Caller: ${said}`)),
        said,
      ).toHaveLength(1);
  });
});
