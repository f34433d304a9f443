/**
 * Scenario `llm`: the same prompts through each path, timing every piece of reply text.
 *
 * - letta-step / letta-tokens: a Letta agent per lane; lanes run side by side (one request per
 *   agent at a time, as Letta requires), each lane on its own stand-ins in sim mode so that no
 *   two lanes share a latency draw. Lane k of both paths gets the same draws.
 * - openai-direct / hybrid: one conversation each, alternating turn by turn so the two never run
 *   at the same moment; both have their own OpenAI stand-in with the same seed, so turn i of one
 *   gets exactly the latency draw of turn i of the other and their difference is the hybrid's
 *   overhead. The hybrid's memory (its own Letta stand-in) writes in the background.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Letta from '@letta-ai/letta-client';
import { llm } from '@livekit/agents';
import OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { callerAgentTemplate } from '../../src/memory/agent-template.ts';
import { createLettaClient } from '../../src/memory/letta-client.ts';
import type { Logger } from '../../src/telemetry/logger.ts';
import { defaultInstructions } from '../../src/voice/prompt.ts';
import type { Backend, LettaEndpoint, OpenAIEndpoint } from '../backend.ts';
import { type LettaRequestLogEntry, type OpenAIRequestLogEntry } from '../../sim/index.ts';
import { type Hybrid, hybridTextTurn, openHybrid, openMemoryHost } from '../hybrid.ts';
import { type Measured, errorText, measureText } from '../measure.ts';
import { lettaReply, openaiDirectReply } from '../paths.ts';
import type { Progress } from '../progress.ts';
import { promptAt } from '../prompts.ts';
import type { LlmPathName, LlmPathResult, LlmScenarioResult, LlmTurnRecord, Overhead } from '../results.ts';
import {
  type BufferingRule,
  defaultBufferingRule,
  pairedDifferences,
  ratio,
  spreadMs,
  summarize,
  verdictOf,
  wordCount,
} from '../stats.ts';

export interface LlmScenarioOptions {
  turns: number;
  /** Letta agents (conversations) per letta path, run side by side. */
  lettaLanes: number;
  paths: readonly LlmPathName[];
  rule?: BufferingRule;
  logger: Logger;
}

export const llmPathNames: readonly LlmPathName[] = ['letta-step', 'letta-tokens', 'hybrid', 'openai-direct'];

const how: Record<LlmPathName, string> = {
  'letta-step':
    'Letta agent, messages.create with streaming: true (step streaming, Letta default); TTFT = first assistant_message event',
  'letta-tokens':
    'Letta agent, messages.create with streaming: true, stream_tokens: true; TTFT = first assistant_message event',
  hybrid:
    'the product llm node (createAgent → llmNode) with memory from Letta in the prompt, background writes on; TTFT = first text chunk out of the node',
  'openai-direct': 'bare openai SDK chat.completions stream; TTFT = first content delta',
};

function record(m: Measured, lane: number, index: number, prompt: string): LlmTurnRecord {
  return {
    lane,
    index,
    prompt,
    startedAt: m.startedAt,
    ttftMs: m.ttftMs,
    totalMs: m.error ? null : m.totalMs,
    arrivals: m.arrivals,
    replyChars: m.text.length,
    replyWords: wordCount(m.text),
    ...(m.error ? { error: m.error } : {}),
  };
}

function failed(lane: number, index: number, prompt: string, err: unknown): LlmTurnRecord {
  return {
    lane,
    index,
    prompt,
    startedAt: Date.now(),
    ttftMs: null,
    totalMs: null,
    arrivals: [],
    replyChars: 0,
    replyWords: 0,
    error: errorText(err),
  };
}

export function summarizePath(
  path: LlmPathName,
  lanes: number,
  turns: LlmTurnRecord[],
  rule: BufferingRule = defaultBufferingRule,
): LlmPathResult {
  const sorted = [...turns].sort((a, b) => a.index - b.index);
  const ok = sorted.filter((t) => !t.error);
  return {
    path,
    how: how[path],
    lanes,
    turns: sorted,
    ttft: summarize(ok.map((t) => t.ttftMs)),
    total: summarize(ok.map((t) => t.totalMs)),
    ttftOverTotal: summarize(ok.map((t) => ratio(t.ttftMs, t.totalMs))),
    chunks: summarize(ok.map((t) => t.arrivals.length)),
    spread: summarize(ok.map((t) => spreadMs(t.arrivals))),
    verdict: verdictOf(
      ok.map((t) => ({ arrivals: t.arrivals, words: t.replyWords })),
      rule,
    ),
    vsStandIn: summarize(
      ok.map((t) =>
        t.server?.firstSentAt == null || t.ttftMs === null
          ? null
          : t.ttftMs - (t.server.firstSentAt - t.server.receivedAt),
      ),
    ),
    errors: turns.length - ok.length,
  };
}

/** Hybrid minus openai-direct, turn by turn: both sides had the same latency draw. */
export function overheadOf(hybrid: LlmPathResult, direct: LlmPathResult): Overhead | null {
  const byIndex = (p: LlmPathResult) => {
    const out: (number | null)[] = [];
    for (const t of p.turns) out[t.index] = t.error ? null : t.ttftMs;
    return Array.from(out, (v) => v ?? null);
  };
  const diffs = summarize(pairedDifferences(byIndex(direct), byIndex(hybrid)));
  if (!diffs) return null;
  return {
    pairs: diffs.n,
    medianMs: diffs.median,
    p95Ms: diffs.p95,
    ratio: ratio(hybrid.ttft?.median, direct.ttft?.median),
  };
}

type ServerRecord = NonNullable<LlmTurnRecord['server']>;

/** The OpenAI stand-in's chat completions, in arrival order: when each arrived and sent its first text. */
function openaiRecords(requests: OpenAIRequestLogEntry[]): ServerRecord[] {
  return requests
    .filter((r) => r.path === '/v1/chat/completions')
    .map((r) => ({ receivedAt: r.at, firstSentAt: r.firstDeltaAt }));
}

/** The Letta stand-in's message requests, in arrival order, with the send time of the first assistant_message event. */
function lettaRecords(requests: LettaRequestLogEntry[]): ServerRecord[] {
  return requests
    .filter((r) => r.method === 'POST' && /^\/v1\/agents\/[^/]+\/messages$/.test(r.path))
    .map((r) => ({ receivedAt: r.at, firstSentAt: r.events?.find((e) => e.type === 'assistant_message')?.at ?? null }));
}

/**
 * Pairs turns with the stand-in's records, in order: each turn made exactly one request (the
 * clients do not retry), so the n-th request is the n-th turn. Turns that failed get none.
 */
function attachServer(turns: LlmTurnRecord[], records: ServerRecord[]): void {
  if (records.length !== turns.length) return;
  turns.forEach((t, i) => {
    const r = records[i];
    if (r && !t.error) t.server = r;
  });
}

/** Turn indices of a lane: lane k takes prompts k, k + lanes, k + 2·lanes, … */
function laneTurns(turns: number, lanes: number, lane: number): number[] {
  const out: number[] = [];
  for (let i = lane; i < turns; i += lanes) out.push(i);
  return out;
}

async function runLettaLane(
  backend: Backend,
  path: 'letta-step' | 'letta-tokens',
  lane: number,
  indices: number[],
  progress: Progress,
): Promise<LlmTurnRecord[]> {
  const out: LlmTurnRecord[] = [];
  let endpoint: LettaEndpoint | undefined;
  let letta: Letta | undefined;
  let agentId: string | undefined;
  try {
    endpoint = await backend.letta(backend.seed + 1000 * (lane + 1));
    letta = createLettaClient(
      { baseURL: endpoint.baseURL, ...(endpoint.apiKey !== undefined ? { apiKey: endpoint.apiKey } : {}) },
      120_000,
    );
    const client = letta;
    const agent = await client.agents.create(
      callerAgentTemplate(`bench-${path}-${lane}-${Date.now()}`, endpoint.agentModel),
    );
    agentId = agent.id;
    for (const i of indices) {
      const prompt = promptAt(i);
      const m = await measureText(() =>
        lettaReply(client, agent.id, prompt, { streamTokens: path === 'letta-tokens' }),
      );
      out.push(record(m, lane, i, prompt));
      progress.tick();
    }
    if (endpoint.standIn) attachServer(out, lettaRecords(endpoint.standIn.requests));
  } catch (err) {
    for (const i of indices.slice(out.length)) {
      out.push(failed(lane, i, promptAt(i), err));
      progress.tick();
    }
  } finally {
    // A live server keeps what the bench created unless it is removed.
    if (backend.mode === 'live' && letta && agentId !== undefined)
      await letta.agents.delete(agentId).catch(() => undefined);
    await endpoint?.close();
  }
  return out;
}

async function runDirectAndHybrid(
  backend: Backend,
  o: LlmScenarioOptions,
  progress: Progress,
): Promise<{ direct: LlmTurnRecord[]; hybrid: LlmTurnRecord[]; notes: string[] }> {
  const wantDirect = o.paths.includes('openai-direct');
  const wantHybrid = o.paths.includes('hybrid');
  const notes: string[] = [];
  const direct: LlmTurnRecord[] = [];
  const hybrid: LlmTurnRecord[] = [];
  const journalDir = mkdtempSync(join(tmpdir(), 'bench-llm-'));
  const opened: { close(): Promise<void> }[] = [];
  try {
    let directEndpoint: OpenAIEndpoint | undefined;
    let client: OpenAI | undefined;
    if (wantDirect) {
      directEndpoint = await backend.openai(backend.seed);
      opened.push(directEndpoint);
      client = new OpenAI({ baseURL: directEndpoint.baseURL, apiKey: directEndpoint.apiKey, maxRetries: 0 });
    }
    let h: Hybrid | undefined;
    let hybridEndpoint: OpenAIEndpoint | undefined;
    if (wantHybrid) {
      const openaiEndpoint = await backend.openai(backend.seed);
      hybridEndpoint = openaiEndpoint;
      opened.push(openaiEndpoint);
      const letta = backend.missing.letta === null ? await backend.letta(backend.seed + 7) : null;
      if (letta) opened.push(letta);
      else notes.push(`hybrid ran without memory: ${backend.missing.letta ?? ''}`);
      const host = openMemoryHost({ config: backend.config, letta, journalDir, logger: o.logger });
      opened.unshift({ close: () => host.close(0) });
      h = await openHybrid({
        openai: openaiEndpoint,
        host,
        identity: `bench-llm-${Date.now()}`,
        logger: o.logger,
        config: backend.config,
      });
      opened.unshift(h);
    }
    const history: ChatCompletionMessageParam[] = [{ role: 'system', content: defaultInstructions }];
    const chatCtx = llm.ChatContext.empty();
    chatCtx.addMessage({ role: 'system', content: defaultInstructions });
    for (let i = 0; i < o.turns; i++) {
      const prompt = promptAt(i);
      if (client && directEndpoint) {
        history.push({ role: 'user', content: prompt });
        const c = client;
        const model = directEndpoint.model;
        const m = await measureText(() => openaiDirectReply(c, model, history));
        history.push({ role: 'assistant', content: m.text });
        direct.push(record(m, 0, i, prompt));
        progress.tick();
      }
      if (h) {
        const m = await hybridTextTurn(h, chatCtx, prompt);
        hybrid.push(record(m, 0, i, prompt));
        progress.tick();
      }
    }
    if (directEndpoint?.standIn) attachServer(direct, openaiRecords(directEndpoint.standIn.requests));
    if (hybridEndpoint?.standIn) attachServer(hybrid, openaiRecords(hybridEndpoint.standIn.requests));
  } finally {
    for (const c of opened) await c.close().catch(() => undefined);
    rmSync(journalDir, { recursive: true, force: true });
  }
  return { direct, hybrid, notes };
}

export async function runLlmScenario(
  backend: Backend,
  o: LlmScenarioOptions,
  progress: Progress,
): Promise<LlmScenarioResult> {
  const rule = o.rule ?? defaultBufferingRule;
  const notes: string[] = [];
  const lettaPaths = (['letta-step', 'letta-tokens'] as const).filter((p) => o.paths.includes(p));
  if (lettaPaths.length > 0 && backend.missing.letta !== null) {
    notes.push(`letta paths skipped: ${backend.missing.letta}`);
  }
  const runLetta = backend.missing.letta === null ? lettaPaths : [];
  const lanes = Math.max(1, Math.min(o.lettaLanes, o.turns));
  progress.plan(
    o.turns * (runLetta.length + (o.paths.includes('hybrid') ? 1 : 0) + (o.paths.includes('openai-direct') ? 1 : 0)),
  );
  progress.phase(`llm: ${[...runLetta, ...o.paths.filter((p) => p === 'hybrid' || p === 'openai-direct')].join(', ')}`);

  const letta = runLetta.map(async (path) => {
    const perLane = await Promise.all(
      Array.from({ length: lanes }, (_, lane) =>
        runLettaLane(backend, path, lane, laneTurns(o.turns, lanes, lane), progress),
      ),
    );
    return summarizePath(path, lanes, perLane.flat(), rule);
  });
  const pair = runDirectAndHybrid(backend, o, progress);
  const [lettaResults, { direct, hybrid, notes: pairNotes }] = await Promise.all([Promise.all(letta), pair]);
  notes.push(...pairNotes);

  const paths: LlmPathResult[] = [...lettaResults];
  const hybridResult = o.paths.includes('hybrid') ? summarizePath('hybrid', 1, hybrid, rule) : undefined;
  const directResult = o.paths.includes('openai-direct') ? summarizePath('openai-direct', 1, direct, rule) : undefined;
  if (hybridResult) paths.push(hybridResult);
  if (directResult) paths.push(directResult);
  if (runLetta.length > 0) notes.push(`letta paths: ${lanes} agents side by side, ${o.turns} turns in all per path`);
  return {
    turnsPerPath: o.turns,
    lettaLanes: lanes,
    paths,
    hybridOverhead: hybridResult && directResult ? overheadOf(hybridResult, directResult) : null,
    notes,
  };
}
