/** Shared pieces of the real-Letta tier: the server's URL and controls, and reading its own store. */
import Letta from '@letta-ai/letta-client';
import { inject } from 'vitest';

export const lettaUrl = inject('lettaUrl');

/** The handle a self-hosted server lists for OpenAI's gpt-4.1-mini behind a non-OpenAI base URL. */
export const proxyModel = 'openai-proxy/gpt-4.1-mini';

/** A client that reads what the server holds (the checks never trust the writer's own log). */
export const server = new Letta({ baseURL: lettaUrl, apiKey: null, maxRetries: 0, timeout: 60_000, logLevel: 'off' });

async function control(path: string): Promise<void> {
  const res = await fetch(`${inject('lettaControlUrl')}${path}`, { method: 'POST' });
  if (!res.ok) throw new Error(`control ${path}: ${res.status} ${await res.text()}`);
}

/** How long each of Letta's model calls takes from now on (0: instant). */
export const setStepDelay = (ms: number): Promise<void> => control(`/step-delay?ms=${ms}`);
export const stopLetta = (): Promise<void> => control('/letta/stop');
export const startLetta = (): Promise<void> => control('/letta/start');

/** Every message the server holds for an agent, oldest first (all pages). */
export async function serverMessages(agentId: string): Promise<Letta.Agents.Messages.Message[]> {
  const out: Letta.Agents.Messages.Message[] = [];
  for await (const m of server.agents.messages.list(agentId, { order: 'asc', limit: 100 })) out.push(m);
  return out;
}

/** The text of every user message the server holds for an agent, oldest first. */
export async function serverUserTexts(agentId: string): Promise<string[]> {
  return (await serverMessages(agentId)).flatMap((m) => {
    if (m.message_type !== 'user_message') return [];
    return [typeof m.content === 'string' ? m.content : m.content.map((p) => ('text' in p ? p.text : '')).join('')];
  });
}

/** The `otid` of every user message the server holds for an agent. */
export async function serverOtids(agentId: string): Promise<string[]> {
  return (await serverMessages(agentId)).flatMap((m) => (m.message_type === 'user_message' && m.otid ? [m.otid] : []));
}

export async function humanBlock(agentId: string): Promise<string> {
  return (await server.agents.blocks.retrieve('human', { agent_id: agentId })).value;
}

/** Runs still active on an agent (a write whose client went away is finished by the server). */
export async function activeRuns(agentId: string): Promise<number> {
  const runs = await server.runs.list({ agent_id: agentId, active: true });
  return [...runs.items].length;
}

export async function agentsTagged(tag: string): Promise<string[]> {
  const page = await server.agents.list({ tags: [tag], match_all_tags: true, limit: 50 });
  return page.items.map((a) => a.id);
}

export async function waitFor(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
