/**
 * Which Letta agent holds a caller's memory. One shared agent when LETTA_AGENT_ID is set;
 * otherwise one agent per caller, found by a tag derived from the participant identity and
 * created from the template on the first call. The mapping is cached in memory and on disk, so a
 * returning caller costs no lookup. A lookup says as soon as it knows the caller is new, before their
 * agent is created: a new caller's memory is the template's, with nothing to wait for.
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

/** One caller's agent being resolved. */
export interface AgentLookup {
  /** The caller's agent id, once it exists (created on a first visit). */
  agentId: Promise<string>;
  /**
   * Settles as soon as it is known whether Letta holds an agent for the caller: true when it does not
   * (it is being created), false when it does. Rejects when the lookup failed before knowing.
   */
  firstVisit: Promise<boolean>;
}

export class AgentDirectory {
  readonly #o: AgentDirectoryOptions;
  readonly #pending = new Map<string, AgentLookup>();

  constructor(opts: AgentDirectoryOptions) {
    this.#o = opts;
  }

  /** The agent id for a caller, creating the agent on a first visit. */
  resolve(identity: string): Promise<string> {
    return this.lookup(identity).agentId;
  }

  /** The caller's agent id if it is known without asking Letta (shared, or cached). */
  known(identity: string): string | undefined {
    return this.#o.sharedAgentId ?? this.#readCache()[identity];
  }

  /** Resolves a caller's agent, telling early whether it is their first visit (see `AgentLookup`). */
  lookup(identity: string): AgentLookup {
    const known = this.known(identity);
    if (known !== undefined) return { agentId: Promise.resolve(known), firstVisit: Promise.resolve(false) };
    // Two sessions of one new caller in this process must not create two agents.
    let lookup = this.#pending.get(identity);
    if (!lookup) {
      lookup = this.#lookupOrCreate(identity);
      void lookup.agentId.finally(() => this.#pending.delete(identity)).catch(() => undefined);
      this.#pending.set(identity, lookup);
    }
    return lookup;
  }

  /** Drops a cached mapping whose agent no longer exists. */
  forget(identity: string): void {
    const cache = this.#readCache();
    if (!(identity in cache)) return;
    delete cache[identity];
    this.#writeCache(cache);
  }

  #lookupOrCreate(identity: string): AgentLookup {
    let found!: (isNew: boolean) => void;
    let failed!: (err: unknown) => void;
    const firstVisit = new Promise<boolean>((resolve, reject) => {
      found = resolve;
      failed = reject;
    });
    // Nobody may be listening for it (the writer only needs the id).
    firstVisit.catch(() => undefined);
    const agentId = (async () => {
      let id = await this.#find(identity);
      found(id === undefined);
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
    })();
    // Settled already when the lookup got as far as knowing; a rejection then changes nothing.
    agentId.catch(failed);
    return { agentId, firstVisit };
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
