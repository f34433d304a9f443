/**
 * One turn through a Letta stand-in agent: the run that holds the agent while it works, the model
 * steps with their memory tools, the messages each step produces, and the turn's delivery as one
 * JSON reply or as a step- or token-streamed SSE stream with the server's keepalive pings.
 */
import type {
  AssistantMessage,
  LettaResponse,
  LettaStreamingResponse,
  MessageType,
  SystemMessage,
  ToolCallDelta,
  ToolCallMessage,
  UserMessage,
} from '@letta-ai/letta-client/resources/agents/messages';
import type { ToolReturnMessage } from '@letta-ai/letta-client/resources/tools';
import { nowMs, sleep } from '../server.ts';
import { BUSY_DETAIL, HttpError } from './http.ts';
import type { Usage } from './llm.ts';
import { LlmError, buildPrompt, callModel, humanNote, textOf } from './llm.ts';
import type { Ctx, Deps } from './routes.ts';
import { REPLIED } from './routes.ts';
import type { AgentRecord, LettaMessage, MessageCreate, Run } from './store.ts';
import { isoNow, newId, otidFor } from './store.ts';
import { MEMORY_TOOLS, runTool, storedArguments } from './tools.ts';
import type { Turn } from './message-request.ts';

/** The server's keepalive: a ping after this long without any event. */
const KEEPALIVE_MS = 20_000;

export function inputMessage(m: MessageCreate, runId: string | null, stepId: string | null): LettaMessage {
  const head = { id: newId('message'), date: isoNow(), name: m.name ?? null };
  const tail = {
    otid: m.otid ?? null,
    sender_id: m.sender_id ?? null,
    step_id: stepId,
    is_err: null,
    seq_id: null,
    run_id: runId,
  };
  if (m.role === 'system')
    return { ...head, message_type: 'system_message', ...tail, content: textOf(m.content) } satisfies SystemMessage;
  if (m.role === 'assistant')
    return {
      ...head,
      message_type: 'assistant_message',
      ...tail,
      content: textOf(m.content),
    } satisfies AssistantMessage;
  const content =
    typeof m.content === 'string'
      ? m.content
      : (m.content.filter((p) => p.type === 'text' || p.type === 'image') as UserMessage['content']);
  return { ...head, message_type: 'user_message', ...tail, content } satisfies UserMessage;
}

/** The head of a message the agent itself produces: its `otid` derives from its id. */
function produced(id: string, date: string, stepId: string | null, runId: string | null) {
  return {
    id,
    date,
    name: null,
    otid: otidFor(id),
    sender_id: null,
    step_id: stepId,
    is_err: null,
    seq_id: null,
    run_id: runId,
  };
}

export function usageStatistics(u: Usage, steps: number): LettaResponse.Usage {
  return {
    message_type: 'usage_statistics',
    completion_tokens: u.completion_tokens,
    prompt_tokens: u.prompt_tokens,
    total_tokens: u.total_tokens,
    step_count: steps,
    run_ids: null,
    cached_input_tokens: 0,
    cache_write_tokens: 0,
    reasoning_tokens: 0,
    context_tokens: u.prompt_tokens,
  };
}

/** The 'notes' mode's edit to the `human` block after a turn (see `humanNote`). */
export function noteTurn(deps: Deps, rec: AgentRecord, userTexts: string[]): void {
  const human = deps.store.blockByLabel(rec, 'human');
  const value = human && humanNote(human, userTexts);
  if (value !== undefined) deps.store.upsertBlock(rec, 'human', { value });
}

/**
 * A Run for a message-creating request. On Letta Cloud (`server: 'cloud'`) one request per agent
 * runs at a time and a second one gets 409 (ConversationBusyError); Letta's own server takes no
 * lock on this endpoint and runs both.
 */
export function acquire(deps: Deps, rec: AgentRecord, background: boolean, runType: string, turn: Turn): Run {
  const locks = deps.server === 'cloud';
  if (locks && deps.busy.has(rec.base.id)) throw new HttpError(409, { detail: BUSY_DETAIL });
  const run = deps.store.createRun(rec.base.id, background, runType, turn.includeTypes);
  if (locks) deps.busy.set(rec.base.id, run.id);
  return run;
}

export function release(deps: Deps, rec: AgentRecord, run: Run): void {
  if (deps.busy.get(rec.base.id) === run.id) deps.busy.delete(rec.base.id);
}

/** Where a turn's messages go as they are made, for the two kinds of streaming. */
interface TurnSink {
  /** Token streaming: assistant text and tool-call pieces as the model produces them. */
  piece?: (m: AssistantMessage | ToolCallMessage) => void;
  /** Each message the step produced once it is done (step streaming), or only tool returns (token streaming). */
  message: (m: LettaMessage) => void;
}

interface TurnResult {
  /** What the agent produced (tool calls, tool returns, replies), oldest first; not the inputs. */
  messages: LettaMessage[];
  usage: Usage;
  steps: number;
  stopReason: 'end_turn' | 'max_steps';
}

function addUsage(a: Usage, b: Usage): Usage {
  return {
    prompt_tokens: a.prompt_tokens + b.prompt_tokens,
    completion_tokens: a.completion_tokens + b.completion_tokens,
    total_tokens: a.total_tokens + b.total_tokens,
  };
}

/**
 * An agent turn: the agent loop's overhead (profile `letta.agentLoop`), then steps. Each step calls
 * the model and is persisted when it ends (its inputs with it), as Letta checkpoints at step end.
 * In 'tools' mode the model is offered Letta's memory tools; a step whose model calls tools runs
 * them (a tool-call and a tool-return message) and the loop goes on, until a step answers in plain
 * text or `maxSteps` is reached. In 'notes' mode there is one step, then the deterministic note.
 */
export async function runTurn(
  deps: Deps,
  rec: AgentRecord,
  inputs: MessageCreate[],
  run: Run,
  maxSteps: number,
  sink?: TurnSink,
): Promise<TurnResult> {
  const t0 = nowMs();
  const tools = deps.memoryEdits === 'tools' ? MEMORY_TOOLS : undefined;
  try {
    await sleep(deps.sample(deps.profile.letta.agentLoop), deps.signal);
    const out: LettaMessage[] = [];
    let usage: Usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
    let firstAt: number | undefined;
    let steps = 0;
    let stopReason: TurnResult['stopReason'] = 'end_turn';
    for (;;) {
      steps++;
      const stepId = newId('step');
      const pending = steps === 1 ? inputs.map((m) => inputMessage(m, run.id, stepId)) : [];
      // Token pieces and the persisted message share one id (clients join pieces by id).
      const replyHead = produced(newId('message'), isoNow(), stepId, run.id);
      const callHead = produced(newId('message'), isoNow(), stepId, run.id);
      const callIds: string[] = [];
      const answer = await callModel({
        client: deps.llm,
        model: rec.base.llm_config.model,
        messages: buildPrompt(rec, deps.store.blocksOf(rec), pending),
        ...(tools ? { tools } : {}),
        stream: sink?.piece !== undefined,
        signal: deps.signal,
        onDelta: (d) => {
          firstAt ??= nowMs();
          sink?.piece?.({ ...replyHead, message_type: 'assistant_message', content: d });
        },
        onToolCallDelta: (d) => {
          firstAt ??= nowMs();
          if (d.id) callIds[d.index] = d.id;
          const piece: ToolCallDelta = {
            ...(d.name ? { name: d.name } : {}),
            ...(d.arguments ? { arguments: d.arguments } : {}),
            tool_call_id: callIds[d.index] ?? null,
          };
          // The server streams `tool_calls` as the same single piece, not an array.
          sink?.piece?.({ ...callHead, message_type: 'tool_call_message', tool_call: piece, tool_calls: piece });
        },
      });
      usage = addUsage(usage, answer.usage);
      const made: LettaMessage[] = [];
      const calls = tools ? answer.toolCalls : [];
      if (calls.length > 0) {
        const toolCalls = calls.map((c) => ({
          name: c.name,
          arguments: storedArguments(c.arguments),
          tool_call_id: c.id,
        }));
        made.push({
          ...callHead,
          message_type: 'tool_call_message',
          tool_call: toolCalls[0]!,
          tool_calls: toolCalls,
        } satisfies ToolCallMessage);
        for (const c of calls) {
          const result = runTool(deps.store, rec, c.name, c.arguments);
          const ret = {
            tool_return: result.text,
            status: result.status,
            tool_call_id: c.id,
            stdout: null,
            stderr: null,
          };
          made.push({
            ...produced(newId('message'), isoNow(), stepId, run.id),
            name: c.name,
            message_type: 'tool_return_message',
            ...ret,
            tool_returns: [{ type: 'tool', ...ret }],
          } satisfies ToolReturnMessage);
        }
      } else {
        made.push({ ...replyHead, message_type: 'assistant_message', content: answer.text } satisfies AssistantMessage);
      }
      deps.store.persist(rec, [...pending, ...made], true);
      out.push(...made);
      for (const m of made) if (!sink?.piece || m.message_type === 'tool_return_message') sink?.message(m);
      if (calls.length === 0) break;
      if (steps >= maxSteps) {
        stopReason = 'max_steps';
        break;
      }
    }
    if (!tools)
      noteTurn(
        deps,
        rec,
        inputs.filter((m) => m.role === 'user').map((m) => textOf(m.content)),
      );
    const end = nowMs();
    Object.assign(run, {
      status: 'completed',
      stop_reason: stopReason,
      completed_at: isoNow(),
      ttft_ns: Math.round(((firstAt ?? end) - t0) * 1e6),
      total_duration_ns: Math.round((end - t0) * 1e6),
    } satisfies Partial<Run>);
    Object.assign(rec.base, {
      last_run_completion: run.completed_at,
      last_run_duration_ms: Math.round(end - t0),
      last_stop_reason: stopReason,
    });
    return { messages: out, usage, steps, stopReason };
  } catch (e) {
    Object.assign(run, {
      status: 'failed',
      stop_reason: e instanceof LlmError ? 'llm_api_error' : 'error',
      completed_at: isoNow(),
      metadata: { ...run.metadata, error: e instanceof Error ? e.message : String(e) },
    } satisfies Partial<Run>);
    throw e;
  }
}

export function wanted(turn: Turn, m: { message_type?: string | null }): boolean {
  return !turn.includeTypes || turn.includeTypes.includes(m.message_type as MessageType);
}

export async function streamTurn(
  ctx: Ctx,
  rec: AgentRecord,
  turn: Turn,
  run: Run,
  opts: { streamTokens: boolean; includePings: boolean; maxSteps: number },
): Promise<typeof REPLIED> {
  // The server marks a streamed run running as the stream starts; a JSON or async one stays 'created' until done.
  run.status = 'running';
  const sse = ctx.reply.sse();
  let lastSent = nowMs();
  const send = (e: LettaStreamingResponse): void => {
    sse.send(e);
    lastSent = nowMs();
  };
  const ping = (): void =>
    send({
      id: newId('ping'),
      date: isoNow(),
      name: null,
      message_type: 'ping',
      otid: null,
      sender_id: null,
      step_id: null,
      is_err: null,
      seq_id: null,
      run_id: run.id,
    });
  // Since 2026-03 the server sends one ping immediately, so clients learn the run id early.
  if (opts.includePings) ping();
  const keepalive = opts.includePings
    ? setInterval(() => nowMs() - lastSent >= KEEPALIVE_MS && ping(), 1000)
    : undefined;
  const forward = (m: LettaMessage): void => void (wanted(turn, m) && send(m as LettaStreamingResponse));
  try {
    const r = await runTurn(ctx.deps, rec, turn.inputs, run, opts.maxSteps, {
      ...(opts.streamTokens ? { piece: forward } : {}),
      message: forward,
    });
    send({ message_type: 'stop_reason', stop_reason: r.stopReason });
    send(usageStatistics(r.usage, r.steps));
    sse.done();
  } catch (e) {
    // Before the first event the server can still answer with an HTTP error status.
    if (!sse.started) throw e;
    send({ message_type: 'stop_reason', stop_reason: e instanceof LlmError ? 'llm_api_error' : 'error' });
    sse.error({
      message_type: 'error_message',
      run_id: run.id,
      error_type: 'internal_error',
      message: 'An error occurred during agent execution.',
      detail: e instanceof Error ? e.message : String(e),
    });
    sse.done();
  } finally {
    clearInterval(keepalive);
  }
  return REPLIED;
}
