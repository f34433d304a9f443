/**
 * Which Letta agent holds a caller's memory. One shared agent when LETTA_AGENT_ID is set;
 * otherwise one agent per caller, found by a tag derived from the participant identity and
 * created from the template on the first call. The mapping is cached in memory and on disk, so a
 * returning caller costs no lookup.
 */
import Letta, { APIError } from '@letta-ai/letta-client';
import type { AgentCreateParams } from '@letta-ai/letta-client/resources/agents/agents';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../telemetry/logger.ts';
import { callerTag } from './agent-template.ts';

export interface AgentDirectoryOptions {
  client: Letta;
  logger: Logger;
  /** Set: every caller shares this agent. */
  sharedAgentId?: string;
  template: (identity: string) => AgentCreateParams;
  /** JSON file caching identity → agent id across processes and restarts. */
  cacheFile: string;
}

/**
 * Letta refused to create a caller's agent from the template: a setting is wrong, and no retry
 * will fix it until the setting changes. The message names the setting and what the server offers.
 * Turns stay journaled meanwhile (the writer retries this as it would a refused connection).
 */
export class AgentTemplateRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentTemplateRefused';
  }
}

/** Letta's refusal of an unknown model handle: 404 (self-hosted 0.16) or 400/422 with "handle" in the detail. */
function isHandleRefusal(err: unknown): err is APIError {
  return (
    err instanceof APIError &&
    err.status !== undefined &&
    [400, 404, 422].includes(err.status) &&
    /handle/i.test(JSON.stringify(err.error ?? err.message))
  );
}

async function offeredHandles(client: Letta, kind: 'llm' | 'embedding'): Promise<string[]> {
  try {
    const list = kind === 'llm' ? await client.models.list() : await client.models.embeddings.list();
    return list.flatMap((m) => (m.handle ? [m.handle] : [])).sort();
  } catch {
    return [];
  }
}

export class AgentDirectory {
  readonly #o: AgentDirectoryOptions;
  readonly #pending = new Map<string, Promise<string>>();

  constructor(opts: AgentDirectoryOptions) {
    this.#o = opts;
  }

  /** The agent id for a caller, creating the agent on a first visit. */
  resolve(identity: string): Promise<string> {
    if (this.#o.sharedAgentId !== undefined) return Promise.resolve(this.#o.sharedAgentId);
    const cached = this.#readCache()[identity];
    if (cached !== undefined) return Promise.resolve(cached);
    // Two sessions of one new caller in this process must not create two agents.
    let p = this.#pending.get(identity);
    if (!p) {
      p = this.#lookupOrCreate(identity).finally(() => this.#pending.delete(identity));
      this.#pending.set(identity, p);
    }
    return p;
  }

  /** Drops a cached mapping whose agent no longer exists. */
  forget(identity: string): void {
    const cache = this.#readCache();
    if (!(identity in cache)) return;
    delete cache[identity];
    this.#writeCache(cache);
  }

  async #lookupOrCreate(identity: string): Promise<string> {
    const existing = await this.#find(identity);
    let id = existing;
    if (id === undefined) {
      const created = await this.#create(identity);
      this.#o.logger.info({ agentId: created.id }, 'created a Letta agent for a new caller');
      // Another process may have created one at the same moment: everyone settles on the oldest.
      id = (await this.#find(identity)) ?? created.id;
    }
    const cache = this.#readCache();
    cache[identity] = id;
    this.#writeCache(cache);
    return id;
  }

  async #create(identity: string): Promise<{ id: string }> {
    const template = this.#o.template(identity);
    try {
      return await this.#o.client.agents.create(template);
    } catch (err) {
      if (!isHandleRefusal(err)) throw err;
      const [llms, embeddings] = await Promise.all([
        offeredHandles(this.#o.client, 'llm'),
        offeredHandles(this.#o.client, 'embedding'),
      ]);
      const model = String(template.model);
      const which = llms.length === 0 || llms.includes(model) ? 'embedding' : 'llm';
      const [setting, value, offered] =
        which === 'llm'
          ? ['LETTA_AGENT_MODEL', model, llms]
          : ['LETTA_EMBEDDING_MODEL', String(template.embedding), embeddings];
      throw new AgentTemplateRefused(
        `Letta refused ${setting}=${value} (${err.status}: ${err.message}). ` +
          (offered.length > 0
            ? `This server offers: ${offered.join(', ')}. Set ${setting} to one of them.`
            : `Set ${setting} to a handle this server offers (GET /v1/models/).`) +
          (which === 'llm'
            ? ' A self-hosted server whose OpenAI base URL is not OpenAI’s lists OpenAI models as openai-proxy/<model>.'
            : ''),
      );
    }
  }

  async #find(identity: string): Promise<string | undefined> {
    const page = await this.#o.client.agents.list({ tags: [callerTag(identity)], match_all_tags: true, limit: 10 });
    const agents = [...page.items].sort((a, b) =>
      String(a.created_at ?? a.id).localeCompare(String(b.created_at ?? b.id)),
    );
    return agents[0]?.id;
  }

  #readCache(): Record<string, string> {
    try {
      return JSON.parse(readFileSync(this.#o.cacheFile, 'utf8')) as Record<string, string>;
    } catch {
      return {};
    }
  }

  #writeCache(cache: Record<string, string>): void {
    try {
      mkdirSync(dirname(this.#o.cacheFile), { recursive: true });
      const tmp = `${this.#o.cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(cache, null, 2));
      renameSync(tmp, this.#o.cacheFile);
    } catch (err) {
      // A lost cache only costs a lookup next time.
      this.#o.logger.warn({ err: (err as Error).message }, 'could not save the caller-to-agent cache');
    }
  }
}
