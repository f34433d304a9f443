/**
 * A caller's memory against Letta's own server, as a user meets it through `npm run chat`: the
 * agent created from the template on the first call and found by its tag on the next, a fact said
 * in one call written into the `human` block by Letta's own agent loop and read back into the
 * prompt of the next, and a model handle the server refuses.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenAIStandIn, startOpenAIStandIn } from '../../sim/index.ts';
import { callerTag } from '../../src/memory/agent-template.ts';
import { memorySections } from '../helpers/prompts.ts';
import { cleanEnv, runNode } from '../helpers/run.ts';
import { agentsTagged, humanBlock, lettaUrl, proxyModel, serverOtids, serverUserTexts } from './helpers.ts';

let openai: OpenAIStandIn;
let dir: string;

beforeAll(async () => {
  openai = await startOpenAIStandIn();
  dir = await mkdtemp(join(tmpdir(), 'letta-tier-'));
});
afterAll(async () => {
  await openai.close();
  await rm(dir, { recursive: true, force: true });
});

/** One call of `npm run chat`: a script of lines, the voice agent's replies from the OpenAI stand-in. */
async function chat(identity: string, lines: string[], env: Record<string, string> = {}) {
  const script = join(dir, `${identity}-${Date.now()}.txt`);
  await writeFile(script, `${lines.join('\n')}\n`);
  return runNode(['src/cli/chat.ts', '--script', script, '--identity', identity], {
    env: cleanEnv({
      OPENAI_API_KEY: 'sim',
      OPENAI_BASE_URL: openai.url,
      LETTA_BASE_URL: lettaUrl,
      LETTA_AGENT_MODEL: proxyModel,
      MEMORY_JOURNAL_DIR: join(dir, `journal-${identity}`),
      ...env,
    }),
    timeoutMs: 90_000,
  });
}

describe('a caller remembered by Letta’s own server', () => {
  it('creates the agent from the template on the first call, finds it by tag on the next, and carries a fact across', async () => {
    const first = await chat('bee-keeper', ['Hello, my name is Alice and I keep bees.', 'Goodbye for now.']);
    expect(first.code, first.stderr).toBe(0);
    const agents = await agentsTagged(callerTag('bee-keeper'));
    expect(agents).toHaveLength(1);
    const agentId = agents[0]!;
    // Letta's own agent loop (model steps from the stand-in) wrote the fact with its memory tool.
    const human = await humanBlock(agentId);
    expect(human).toContain("The caller's name is Alice.");
    expect(human).toContain('The caller keeps bees.');
    // Each turn was written once, with the caller's words in it.
    const texts = await serverUserTexts(agentId);
    expect(texts.filter((t) => t.includes('Caller: Hello, my name is Alice and I keep bees.'))).toHaveLength(1);

    // A new process with an empty directory cache: the agent is found by its tag, not created again.
    const before = memorySections(openai).length;
    const second = await chat('bee-keeper', ['Do you remember me?'], {
      MEMORY_JOURNAL_DIR: join(dir, 'journal-bee-keeper-2'),
    });
    expect(second.code, second.stderr).toBe(0);
    expect(await agentsTagged(callerTag('bee-keeper'))).toEqual([agentId]);
    const prompt = memorySections(openai).slice(before).join('\n');
    expect(prompt).toContain('The caller keeps bees.');
    expect(prompt).toContain("The caller's name is Alice.");
    expect(prompt).toContain('<persona>');
  });

  it('says which setting to change when the server refuses the model handle, answers without memory and loses no turn', async () => {
    const journal = join(dir, 'journal-refused');
    const refused = await chat('wrong-handle', ['My name is Bob.'], {
      LETTA_AGENT_MODEL: 'openai/gpt-4.1-mini',
      MEMORY_JOURNAL_DIR: journal,
      LETTA_SHUTDOWN_FLUSH_MS: '3000',
    });
    expect(refused.code, refused.stderr).toBe(0);
    expect(refused.stdout).toContain('agent> You said: My name is Bob');
    const said = `${refused.stdout}\n${refused.stderr}`;
    expect(said).toContain('LETTA_AGENT_MODEL=openai/gpt-4.1-mini');
    expect(said).toContain(proxyModel);
    expect(said.split('Letta refused LETTA_AGENT_MODEL').length - 1, said).toBe(1);
    expect(said).not.toContain('unsettled top-level await');
    expect(refused.stdout).toContain('1 turn(s) not yet in Letta; journaled');
    expect(await agentsTagged(callerTag('wrong-handle'))).toEqual([]);

    // With the setting fixed, the next start delivers the journaled turn, once.
    const fixed = await chat('wrong-handle', ['Hello again.'], { MEMORY_JOURNAL_DIR: journal });
    expect(fixed.code, fixed.stderr).toBe(0);
    const [agentId] = await agentsTagged(callerTag('wrong-handle'));
    expect(agentId).toBeDefined();
    const texts = await serverUserTexts(agentId!);
    expect(texts.filter((t) => t.includes('Caller: My name is Bob.'))).toHaveLength(1);
    expect(texts.filter((t) => t.includes('Caller: Hello again.'))).toHaveLength(1);
    expect(new Set(await serverOtids(agentId!)).size).toBe((await serverOtids(agentId!)).length);
  });
});
