/**
 * The Letta stand-in's state: agents, their core-memory blocks, persisted messages, archival
 * passages and runs, all shaped as the official client's types (which mirror the server's schema).
 */
import { randomUUID } from 'node:crypto';
import type { AgentCreateParams, AgentState, MessageCreate } from '@letta-ai/letta-client/resources/agents/agents';
import type { Block } from '@letta-ai/letta-client/resources/agents/blocks';
import type { BlockResponse, CreateBlock } from '@letta-ai/letta-client/resources/blocks/blocks';
import type { Passage } from '@letta-ai/letta-client/resources/passages';
import type { Message as LettaMessage, Run, SystemMessage } from '@letta-ai/letta-client/resources/agents/messages';
import type { EmbeddingConfig, LlmConfig } from '@letta-ai/letta-client/resources/models/models';
import { compileSystem } from './system-prompt.ts';

export type { AgentCreateParams, AgentState, BlockResponse, LettaMessage, MessageCreate, Passage, Run };

export function newId(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

export function isoNow(): string {
  return new Date().toISOString();
}

/**
 * The `otid` the server gives a message it creates itself (a reply, a tool call, a captured turn):
 * the message id's UUID with its low seven bits set to the message's index in its step (0 here),
 * as `Message.generate_otid_from_id`. Messages a client sends keep the client's `otid`.
 */
export function otidFor(messageId: string): string {
  const hex = messageId.replace(/^message-/, '').replaceAll('-', '');
  const last = (Number.parseInt(hex.slice(-2), 16) & 0x80).toString(16).padStart(2, '0');
  const h = hex.slice(0, -2) + last;
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The archived server's default actor and organisation (single-user self-hosted mode). */
export const DEFAULT_USER = 'user-00000000-0000-4000-8000-000000000000';
export const DEFAULT_ORG = 'org-00000000-0000-4000-8000-000000000000';
const DEFAULT_MODEL = 'openai/gpt-4o-mini';
const DEFAULT_SYSTEM =
  'You are a helpful assistant with long-term memory. Your core memory blocks are shown below; they hold what you know about the user and yourself.';

/** Relations the server leaves out of an AgentState unless a 1.x client asks with `include=`. */
export const RELATIONS = [
  'agent.blocks',
  'agent.identities',
  'agent.managed_group',
  'agent.pending_approval',
  'agent.secrets',
  'agent.sources',
  'agent.tags',
  'agent.tools',
] as const;
export type Relation = (typeof RELATIONS)[number];
const ALL_RELATIONS: ReadonlySet<Relation> = new Set(RELATIONS);

export interface AgentRecord {
  /** The agent with every relation empty; `view` fills in what was asked for. */
  base: AgentState;
  createdSeq: number;
  blockIds: string[];
  tags: string[];
  /**
   * Everything persisted for this agent, oldest first (in-context or not). The first is the
   * agent's system message, written at creation and recompiled whenever a block changes.
   */
  messages: LettaMessage[];
  /** Id of the agent's system message (`messages[0]`, `inContext[0]`). */
  systemId: string;
  /** Ids of the messages the agent's own steps see (captured turns are not among them). */
  inContext: string[];
  passages: Passage[];
  captures: unknown[];
  archiveId: string;
}

export function llmConfigFor(handle: string, endpoint: string, contextWindow: number | null | undefined): LlmConfig {
  const model = handle.slice(handle.indexOf('/') + 1);
  const provider = handle.slice(0, handle.indexOf('/'));
  return {
    model,
    display_name: null,
    // The stand-in always reaches its model through an OpenAI-compatible endpoint.
    model_endpoint_type: 'openai',
    model_endpoint: endpoint,
    // `openai-proxy/<model>` is the server's OpenAI provider behind another base URL.
    provider_name: provider === 'openai-proxy' ? 'openai' : provider,
    provider_category: 'base',
    model_wrapper: null,
    context_window: contextWindow ?? 128000,
    put_inner_thoughts_in_kwargs: false,
    handle,
    temperature: 1,
    max_tokens: 16384,
    enable_reasoner: false,
    reasoning_effort: null,
    max_reasoning_tokens: 0,
    frequency_penalty: null,
    compatibility_type: null,
    verbosity: null,
    tier: null,
    parallel_tool_calls: false,
    response_format: null,
    strict: false,
    return_logprobs: false,
    top_logprobs: null,
    return_token_ids: false,
    tool_call_parser: null,
    effort: null,
  };
}

export function embeddingConfigFor(handle: string, endpoint: string): EmbeddingConfig {
  const model = handle.slice(handle.indexOf('/') + 1);
  return {
    embedding_endpoint_type: 'openai',
    embedding_endpoint: endpoint,
    embedding_model: model,
    embedding_dim: model === 'text-embedding-3-large' ? 3072 : 1536,
    embedding_chunk_size: 300,
    handle,
    batch_size: 32,
    azure_endpoint: null,
    azure_version: null,
    azure_deployment: null,
  };
}

function blockFrom(b: CreateBlock): BlockResponse {
  return {
    value: b.value,
    limit: b.limit ?? 100000,
    project_id: b.project_id ?? null,
    template_name: b.template_name ?? null,
    is_template: b.is_template ?? false,
    template_id: b.template_id ?? null,
    base_template_id: b.base_template_id ?? null,
    deployment_id: b.deployment_id ?? null,
    entity_id: b.entity_id ?? null,
    preserve_on_migration: b.preserve_on_migration ?? false,
    label: b.label,
    read_only: b.read_only ?? false,
    description: b.description ?? null,
    metadata: b.metadata ?? {},
    hidden: b.hidden ?? null,
    id: newId('block'),
    // The server leaves these unset on blocks created with an agent, and on label updates.
    created_by_id: null,
    last_updated_by_id: null,
    tags: b.tags ?? [],
  };
}

export class LettaStore {
  private readonly agentsById = new Map<string, AgentRecord>();
  private readonly blocksById = new Map<string, BlockResponse>();
  private readonly runsById = new Map<string, Run>();
  private readonly modelEndpoint: string;
  private agentSeq = 0;

  constructor(modelEndpoint: string) {
    this.modelEndpoint = modelEndpoint;
  }

  createAgent(p: AgentCreateParams): AgentState {
    const now = isoNow();
    const id = newId('agent');
    const model = p.model ?? p.llm_config?.handle ?? DEFAULT_MODEL;
    const embeddingConfig =
      p.embedding_config ?? (p.embedding ? embeddingConfigFor(p.embedding, this.modelEndpoint) : null);
    const blocks = (p.memory_blocks ?? []).map((b) => blockFrom(b));
    for (const b of blocks) this.blocksById.set(b.id, b);
    const attached = (p.block_ids ?? []).filter((bid) => this.blocksById.has(bid));
    const base: AgentState = {
      created_by_id: DEFAULT_USER,
      last_updated_by_id: DEFAULT_USER,
      created_at: now,
      updated_at: now,
      id,
      name: p.name ?? `agent-${id.slice(6, 14)}`,
      tool_rules: [],
      message_ids: [],
      system: p.system ?? DEFAULT_SYSTEM,
      agent_type: p.agent_type ?? 'letta_v1_agent',
      llm_config: p.llm_config ?? llmConfigFor(model, this.modelEndpoint, p.context_window_limit),
      embedding_config: embeddingConfig,
      model,
      embedding: p.embedding ?? embeddingConfig?.handle ?? null,
      model_settings: {
        max_output_tokens: 16384,
        parallel_tool_calls: true,
        provider_type: 'openai',
        temperature: 1,
        reasoning: { reasoning_effort: 'minimal' },
        response_format: null,
        strict: false,
      },
      response_format: null,
      description: p.description ?? null,
      metadata: p.metadata ?? null,
      memory: {
        agent_type: p.agent_type ?? 'letta_v1_agent',
        git_enabled: false,
        blocks: [],
        file_blocks: [],
        prompt_template: '',
      },
      blocks: [],
      // Not listed (the server attaches conversation_search, memory_insert and memory_replace;
      // the stand-in runs the two memory tools when `memoryEdits` is 'tools').
      tools: [],
      sources: [],
      tags: [],
      tool_exec_environment_variables: [],
      secrets: [],
      project_id: null,
      template_id: null,
      base_template_id: null,
      deployment_id: null,
      entity_id: null,
      identity_ids: [],
      identities: [],
      pending_approval: null,
      message_buffer_autoclear: p.message_buffer_autoclear ?? false,
      enable_sleeptime: p.enable_sleeptime ?? null,
      multi_agent_group: null,
      managed_group: null,
      last_run_completion: null,
      last_run_duration_ms: null,
      last_stop_reason: null,
      timezone: p.timezone ?? 'UTC',
      max_files_open: p.max_files_open ?? 10,
      per_file_view_window_char_limit: p.per_file_view_window_char_limit ?? 25000,
      hidden: p.hidden ?? null,
    };
    // The server writes the agent's system message (its compiled system prompt) at creation.
    const system: SystemMessage = {
      id: newId('message'),
      date: now,
      name: null,
      message_type: 'system_message',
      otid: null,
      sender_id: null,
      step_id: null,
      is_err: null,
      seq_id: null,
      run_id: null,
      content: '',
    };
    const rec: AgentRecord = {
      base,
      createdSeq: ++this.agentSeq,
      blockIds: [...blocks.map((b) => b.id), ...attached],
      tags: [...new Set(p.tags ?? [])],
      messages: [system],
      systemId: system.id,
      inContext: [system.id],
      passages: [],
      captures: [],
      archiveId: newId('archive'),
    };
    this.recompileSystem(rec);
    this.agentsById.set(id, rec);
    return this.view(rec, ALL_RELATIONS);
  }

  record(agentId: string): AgentRecord | undefined {
    return this.agentsById.get(agentId);
  }

  /** Newest first, as the server's default `order=desc`. */
  records(): AgentRecord[] {
    return [...this.agentsById.values()].sort((a, b) => b.createdSeq - a.createdSeq);
  }

  view(rec: AgentRecord, include: ReadonlySet<Relation> = ALL_RELATIONS): AgentState {
    const blocks: Block[] = include.has('agent.blocks') ? this.blocksOf(rec).map((b) => ({ ...b })) : [];
    // The server loads tags whenever blocks are requested (git_enabled depends on them).
    const tags = include.has('agent.tags') || include.has('agent.blocks') ? [...rec.tags] : [];
    return {
      ...rec.base,
      message_ids: [...rec.inContext],
      memory: { ...rec.base.memory, blocks, git_enabled: tags.includes('git-memory-enabled') },
      blocks,
      tags,
    };
  }

  blocksOf(rec: AgentRecord): BlockResponse[] {
    return rec.blockIds.flatMap((id) => {
      const b = this.blocksById.get(id);
      return b ? [b] : [];
    });
  }

  blockByLabel(rec: AgentRecord, label: string): BlockResponse | undefined {
    return this.blocksOf(rec).find((b) => b.label === label);
  }

  /**
   * Test hook, PATCH and the agent's memory edits: set a block's fields, creating the block
   * (attached) when the label is new. The system message is recompiled, as the server rebuilds it.
   */
  upsertBlock(rec: AgentRecord, label: string, update: Partial<BlockResponse>): BlockResponse {
    const existing = this.blockByLabel(rec, label);
    let block: BlockResponse;
    if (existing) block = Object.assign(existing, update);
    else {
      block = { ...blockFrom({ label, value: update.value ?? '' }), ...update };
      this.blocksById.set(block.id, block);
      rec.blockIds.push(block.id);
    }
    this.recompileSystem(rec);
    return block;
  }

  /** The system message's content: the agent's system prompt with its memory blocks as they are now. */
  recompileSystem(rec: AgentRecord): void {
    const system = rec.messages.find((m) => m.id === rec.systemId);
    if (system?.message_type === 'system_message') system.content = compileSystem(rec.base.system, this.blocksOf(rec));
  }

  /** Persists messages (oldest first). The server sends `seq_id` null in its responses. */
  persist(rec: AgentRecord, messages: LettaMessage[], inContext: boolean): void {
    for (const m of messages) {
      rec.messages.push(m);
      if (inContext) rec.inContext.push(m.id);
    }
  }

  addPassage(
    rec: AgentRecord,
    text: string,
    tags: string[] | null,
    createdAt: string | null,
    embedding: number[] | null = null,
  ): Passage {
    const now = isoNow();
    const p: Passage & { organization_id: string } = {
      created_by_id: DEFAULT_USER,
      last_updated_by_id: DEFAULT_USER,
      created_at: createdAt ?? now,
      updated_at: now,
      is_deleted: false,
      organization_id: DEFAULT_ORG,
      archive_id: rec.archiveId,
      source_id: null,
      file_id: null,
      file_name: null,
      metadata: {},
      tags,
      id: newId('passage'),
      text,
      // From the model server when there is one (see routes.ts); the schema allows null.
      embedding,
      embedding_config: rec.base.embedding_config ?? null,
    };
    rec.passages.push(p);
    return p;
  }

  createRun(
    agentId: string,
    background: boolean,
    runType: string,
    includeTypes: Run.RequestConfig['include_return_message_types'],
  ): Run {
    const run: Run = {
      id: newId('run'),
      status: 'created',
      created_at: isoNow(),
      completed_at: null,
      agent_id: agentId,
      conversation_id: null,
      base_template_id: null,
      background,
      metadata: { run_type: runType },
      request_config: {
        use_assistant_message: true,
        assistant_message_tool_name: 'send_message',
        assistant_message_tool_kwarg: 'message',
        include_return_message_types: includeTypes ?? null,
      },
      stop_reason: null,
      callback_url: null,
      callback_sent_at: null,
      callback_status_code: null,
      callback_error: null,
      ttft_ns: null,
      total_duration_ns: null,
    };
    this.runsById.set(run.id, run);
    return run;
  }

  run(runId: string): Run | undefined {
    return this.runsById.get(runId);
  }

  /** Every run, oldest first. */
  runs(): Run[] {
    return [...this.runsById.values()];
  }
}
