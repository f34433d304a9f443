/**
 * The three ways a batch of finished turns reaches Letta, over the official client, plus the check
 * that tells whether a batch already landed after an ambiguous failure.
 *
 * - `messages`: one user message through the agent (Letta runs an LLM step and files memories);
 *   the batch id is the message's `otid`.
 * - `archival`: one archival passage tagged `batch:<id>` (no LLM step, no block edits).
 * - `capture`: Letta's hidden capture endpoint (persists the exchange without a main-agent step and
 *   lets a sleep-time agent edit memory). Not every server has it: on 404/405 the writer falls
 *   back to `messages` for the rest of the process.
 *
 * The client never retries (`maxRetries: 0`): a retried message-creating call can process a turn
 * twice, so retries belong to the turn writer, which checks `batchLanded` first.
 */
import Letta, { APIError } from '@letta-ai/letta-client';
import type { Logger } from '../telemetry/logger.ts';
import type { Turn } from './turn.ts';

export type WriteMode = 'messages' | 'archival' | 'capture';

/** Turns of one session for one Letta agent, written (and acknowledged) together. */
export interface Batch {
  /** Idempotency key: the `otid` in messages mode, a tag in archival mode, in the text everywhere. */
  id: string;
  agentId: string;
  turns: readonly Turn[];
}

export interface CallOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

const INTERRUPTED = ' (interrupted; the caller heard only this)';

const iso = (ms: number) => new Date(ms).toISOString();

function transcriptLines(turns: readonly Turn[]): string[] {
  return turns.flatMap((t) => [
    ...(t.user.trim() ? [`[${iso(t.userAt)}] Caller: ${t.user}`] : []),
    `[${iso(t.finishedAt)}] Assistant: ${assistantText(t)}`,
  ]);
}

function assistantText(t: Turn): string {
  if (!t.interrupted) return t.assistant;
  return t.assistant.trim() ? `${t.assistant}${INTERRUPTED}` : '(interrupted before saying anything)';
}

function span(batch: Batch): string {
  const first = batch.turns[0];
  const last = batch.turns.at(-1);
  if (!first || !last) return '';
  return `${iso(first.userAt)} to ${iso(last.finishedAt)}`;
}

function callerOf(batch: Batch): string {
  return batch.turns[0]?.callerIdentity ?? 'unknown';
}

/**
 * The user message of messages mode. It says plainly that the turns are a record of a call that
 * already happened, so the agent files memories instead of answering, and so nobody mistakes its
 * reply for part of the conversation.
 */
export function frameTranscript(batch: Batch): string {
  return [
    `[Voice call transcript · batch ${batch.id} · ${span(batch)}]`,
    `The turns below already happened on a live voice call between the caller (${callerOf(batch)}) and the voice assistant. ` +
      'They are a record, not a message to you. File what matters about the caller into your memory ' +
      '(facts, preferences, plans, corrections); skip small talk. Your reply to this message is not spoken or shown to anyone.',
    '',
    ...transcriptLines(batch.turns),
  ].join('\n');
}

export function archivalText(batch: Batch): string {
  return [
    `Voice call with ${callerOf(batch)}, ${span(batch)} (batch ${batch.id})`,
    ...transcriptLines(batch.turns),
  ].join('\n');
}

export interface CaptureBody {
  provider: 'openai';
  model: string;
  request_messages: { role: 'user'; content: string }[];
  response_dict: { role: 'assistant'; content: string };
}

/**
 * Capture stores one user message and one assistant reply, as if recording an LLM call: the
 * request carries the batch up to the caller's last words, the response is the last reply.
 */
export function captureBody(batch: Batch, model: string): CaptureBody {
  const last = batch.turns.at(-1);
  const earlier = batch.turns.slice(0, -1);
  const request = [
    `[Voice call · batch ${batch.id} · ${span(batch)}]`,
    ...transcriptLines(earlier),
    ...(last && last.user.trim() ? [`[${iso(last.userAt)}] Caller: ${last.user}`] : []),
  ].join('\n');
  return {
    provider: 'openai',
    model,
    request_messages: [{ role: 'user', content: request }],
    response_dict: { role: 'assistant', content: last ? assistantText(last) : '' },
  };
}

/** Thrown once when the capture endpoint is missing: the same batch should be resent at once. */
export class WriteModeChanged extends Error {
  readonly from: WriteMode;
  readonly to: WriteMode;
  constructor(from: WriteMode, to: WriteMode) {
    super(`memory write mode changed from ${from} to ${to}`);
    this.name = 'WriteModeChanged';
    this.from = from;
    this.to = to;
  }
}

/** The text of a Letta message's content: a string, or text parts joined. */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((p: unknown) =>
      typeof p === 'object' && p !== null && 'text' in p && typeof p.text === 'string' ? p.text : '',
    )
    .join('');
}

/**
 * Whether the batch is already in Letta: its `otid` or id among the agent's last 100 messages
 * (messages and capture), or a recent passage tagged `batch:<id>` (archival). One request.
 */
export async function batchLanded(client: Letta, mode: WriteMode, batch: Batch, opts: CallOptions): Promise<boolean> {
  const req = { timeout: opts.timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) };
  if (mode === 'archival') {
    const passages = await client.agents.passages.list(batch.agentId, { limit: 100, ascending: false }, req);
    const tag = `batch:${batch.id}`;
    return passages.some((p) => p.tags?.includes(tag) || p.text.includes(`(batch ${batch.id})`));
  }
  const page = await client.agents.messages.list(batch.agentId, { limit: 100, order: 'desc' }, req);
  return page.items.some((m) => {
    if ('otid' in m && m.otid === batch.id) return true;
    return 'content' in m && messageText(m.content).includes(`batch ${batch.id}`);
  });
}

export interface LettaWritesOptions {
  client: Letta;
  mode: WriteMode;
  /**
   * Turns journaled while a caller's agent could not be looked up carry a placeholder id; this
   * turns it into the real one (and throws while Letta is unreachable, which the writer retries).
   */
  resolveAgentId?: (agentId: string) => Promise<string>;
  /** The model named in capture requests (the one that produced the replies). */
  captureModel?: string;
  logger?: Logger;
}

export const defaultCaptureModel = 'gpt-4.1-mini';

export class LettaWrites {
  readonly client: Letta;
  readonly #captureModel: string;
  readonly #logger: Logger | undefined;
  readonly #resolve: (agentId: string) => Promise<string>;
  #mode: WriteMode;

  constructor(opts: LettaWritesOptions) {
    this.client = opts.client;
    this.#mode = opts.mode;
    this.#captureModel = opts.captureModel ?? defaultCaptureModel;
    this.#logger = opts.logger;
    this.#resolve = opts.resolveAgentId ?? ((id) => Promise.resolve(id));
  }

  /** The mode in effect (capture may have fallen back to messages). */
  get mode(): WriteMode {
    return this.#mode;
  }

  /** One request. Throws the client's errors as they are, or WriteModeChanged. */
  async write(unresolved: Batch, opts: CallOptions): Promise<void> {
    const batch = { ...unresolved, agentId: await this.#resolve(unresolved.agentId) };
    const req = { timeout: opts.timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) };
    const mode = this.#mode;
    if (mode === 'messages') {
      await this.client.agents.messages.create(
        batch.agentId,
        { messages: [{ role: 'user', content: frameTranscript(batch), otid: batch.id }] },
        req,
      );
    } else if (mode === 'archival') {
      const first = batch.turns[0];
      await this.client.agents.passages.create(
        batch.agentId,
        {
          text: archivalText(batch),
          tags: ['voice-turn', `batch:${batch.id}`],
          ...(first ? { created_at: iso(first.userAt) } : {}),
        },
        req,
      );
    } else {
      try {
        await this.client.post(`/v1/agents/${encodeURIComponent(batch.agentId)}/messages/capture`, {
          body: captureBody(batch, this.#captureModel),
          ...req,
        });
      } catch (err) {
        if (!(err instanceof APIError) || (err.status !== 404 && err.status !== 405)) throw err;
        if (this.#mode === 'capture') {
          this.#mode = 'messages';
          this.#logger?.warn(
            { event: 'memory_write_mode_fallback', from: 'capture', to: 'messages', status: err.status },
            'Letta has no capture endpoint: writing turns as agent messages from now on (set LETTA_WRITE_MODE=messages to silence this)',
          );
        }
        throw new WriteModeChanged('capture', 'messages');
      }
    }
  }

  async batchLanded(batch: Batch, opts: CallOptions): Promise<boolean> {
    return batchLanded(this.client, this.#mode, { ...batch, agentId: await this.#resolve(batch.agentId) }, opts);
  }

  /**
   * Whether Letta is running a request through the batch's agent now: an earlier attempt of this
   * batch may be that request, and it can still land. Only messages mode writes through the agent
   * (a Run); archival and capture writes are plain inserts, never runs. A run created longer than
   * `maxRunMs` ago is not counted: a server that crashed mid-run leaves it "running" for good.
   */
  async agentBusy(batch: Batch, opts: CallOptions & { maxRunMs: number }): Promise<boolean> {
    if (this.#mode !== 'messages') return false;
    const agentId = await this.#resolve(batch.agentId);
    const req = { timeout: opts.timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) };
    const page = await this.client.runs.list({ agent_id: agentId, active: true, limit: 20 }, req);
    const since = Date.now() - opts.maxRunMs;
    return page.items.some((r) => {
      const created = Date.parse(r.created_at ?? '');
      return Number.isNaN(created) || created >= since;
    });
  }
}
