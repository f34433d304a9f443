/**
 * Scenario `memory`: what memory costs and what happens to it when Letta misbehaves.
 *
 * 1. Healthy: text turns through the hybrid llm node, each finished turn written to Letta in the
 *    background by the product's memory service. Memory lag = turn finished → Letta acknowledged.
 * 2. Faults (stand-ins only): Letta is slowed (and refuses one batch for good, a 422), then taken
 *    down mid-run while turns keep coming, then brought back; the dead letter is replayed as
 *    `npm run memory -- replay-dead-letters` does. Every turn must land exactly once (lost 0,
 *    duplicates 0, counted in what the Letta stand-in stored), and the hybrid's time to first
 *    token must not notice. The product's /metrics is read all along.
 *
 * It runs on the file journal, or on a Redis journal (a redis-server of its own on 127.0.0.1).
 *
 * With `server` (`--letta server`) the same phases run against Letta's own server instead of the
 * stand-in: slowed = every model call of Letta's agent steps waits `slowByMs` for its first token;
 * down = the server (and its database) stopped, then started again with its data. No batch is
 * refused for good there (the stand-in's 422 has no counterpart). Lost and duplicates are counted
 * in the server's own store: its agent's user messages (and passages), read over its REST API.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { llm } from '@livekit/agents';
import { messageText } from '../../src/memory/letta-writes.ts';
import type { AckEvent } from '../../src/memory/writer/writer-events.ts';
import type { Logger } from '../../src/telemetry/logger.ts';
import { defaultInstructions } from '../../src/voice/prompt.ts';
import type { Backend } from '../backend.ts';
import { type Hybrid, hybridTextTurn, openHybrid, openMemoryHost } from '../hybrid.ts';
import type { Progress } from '../progress.ts';
import { promptAt } from '../prompts.ts';
import { type JournalConfig, openJournal } from '../../src/memory/journal/open-journal.ts';
import { watchMetrics } from '../metrics-watch.ts';
import { startRedis } from '../redis-server.ts';
import { type ServerLetta, lettaServerVersion, readServerStore } from '../letta-server-backend.ts';
import type { JournalKind, LettaKind, MemoryPhase, MemoryScenarioResult } from '../results.ts';
import { type LettaStandIn, nowMs } from '../../sim/index.ts';
import { pairedDifferences, summarize } from '../stats.ts';

function newContext(): llm.ChatContext {
  const ctx = llm.ChatContext.empty();
  ctx.addMessage({ role: 'system', content: defaultInstructions });
  return ctx;
}

export interface MemoryScenarioOptions {
  healthyTurns: number;
  slowedTurns: number;
  downTurns: number;
  /** Extra latency on every Letta request while slowed. */
  slowByMs: number;
  /** Letta stays down at least this long. */
  minDownMs: number;
  /** Pause between turns, as a caller takes before speaking again. */
  pauseMs: number;
  /** Longest wait for the writer to drain. */
  drainTimeoutMs: number;
  journal: JournalKind;
  /** Letta's own server instead of the backend's Letta (the stand-in); it stays running afterwards. */
  server?: ServerLetta;
  logger: Logger;
}

export const defaultMemoryScenarioOptions = {
  healthyTurns: 8,
  slowedTurns: 4,
  downTurns: 4,
  slowByMs: 3000,
  minDownMs: 4000,
  pauseMs: 500,
  drainTimeoutMs: 90_000,
  journal: 'file',
} as const;

/** Tags a turn so that it can be found (and counted) in what Letta stored. */
const tagged = (i: number) => `${promptAt(i)} [#${i}]`;

/** What the stand-in stored for the agent from the writer: user messages and passages. */
function standInStoredTexts(standIn: LettaStandIn, agentId: string): string[] {
  return [
    ...standIn.store
      .messages(agentId)
      .filter((m) => m.message_type === 'user_message')
      .map((m) => messageText('content' in m ? m.content : '')),
    ...standIn.store.passages(agentId).map((p) => p.text),
  ];
}

/**
 * How many times each tagged caller line was stored for the agent. Only what the writer sent is
 * counted (user messages, passages): the memory agent's own replies quote it back.
 */
export function countStoredTurns(standIn: LettaStandIn, agentId: string, turns: number): number[] {
  return countTaggedTurns(standInStoredTexts(standIn, agentId), turns);
}

/** How many times each tagged caller line (`Caller: … [#i]`) occurs in the texts Letta stored. */
export function countTaggedTurns(texts: readonly string[], turns: number): number[] {
  const counts = Array.from({ length: turns }, () => 0);
  for (const text of texts) {
    for (const m of text.matchAll(/Caller: [^\n]*?\[#(\d+)\]/g)) {
      const i = Number(m[1]);
      if (i < turns) counts[i] = (counts[i] ?? 0) + 1;
    }
  }
  return counts;
}

/** What the fault phase does to Letta, and where it reads what Letta stored. */
interface FaultTarget {
  /** The phase's label in progress lines. */
  slowedLabel: string;
  slow(ms: number): Promise<void>;
  /** Refuses the next write for good (a 422), or null when this Letta cannot be made to. */
  refuseOnce: (() => Promise<void>) | null;
  down(): Promise<void>;
  up(): Promise<void>;
  /** What Letta stored for the agent from the writer, and a line on what it holds (or null). */
  stored(agentId: string): Promise<{ texts: string[]; summary: string | null }>;
  /** How lost and duplicates were counted. */
  countedIn: string;
}

function standInTarget(standIn: LettaStandIn): FaultTarget {
  return {
    slowedLabel: 'Letta slowed',
    slow: (ms) => standIn.faults.set({ kind: 'latency', ms }),
    refuseOnce: () =>
      standIn.faults.set({ kind: 'status', status: 422, count: 1, match: { method: 'POST', path: /\/messages$/ } }),
    down: () => standIn.faults.set({ kind: 'down' }),
    up: () => standIn.faults.clear(),
    stored: async (agentId) => ({ texts: standInStoredTexts(standIn, agentId), summary: null }),
    countedIn: 'what the Letta stand-in stored',
  };
}

function serverTarget(s: ServerLetta): FaultTarget {
  return {
    slowedLabel: "Letta's model steps slowed",
    slow: async (ms) => s.slowSteps(ms),
    refuseOnce: null,
    down: () => s.server.stop(),
    up: async () => {
      s.slowSteps(0);
      await s.server.start();
    },
    stored: async (agentId) => {
      const store = await readServerStore(s.client, agentId);
      return {
        texts: store.texts,
        summary: `the server's store holds ${store.userMessages} user messages (${store.otids} distinct otids) and ${store.passages} passages for the caller's agent`,
      };
    },
    countedIn: `Letta's own server's store (${lettaServerVersion}: its agent's user messages and passages, read back over its REST API)`,
  };
}

interface Collected {
  lags: Map<number, number>;
  retries: number;
  /** Turns dead-lettered. */
  dead: number;
}

/** Short, so that a Redis journal's replayed dead letter is taken up within the run. */
const CLAIM_IDLE_MS = 2000;

/** What `npm run memory -- replay-dead-letters` does: a journal of its own puts them back. */
async function replayDeadLetters(c: JournalConfig, logger: Logger): Promise<void> {
  const journal = openJournal(c, logger);
  try {
    await journal.requeueDeadLetters();
  } finally {
    await journal.close();
  }
}

async function runTurns(
  h: Hybrid,
  ctx: llm.ChatContext,
  from: number,
  count: number,
  pauseMs: number,
  progress: Progress,
): Promise<(number | null)[]> {
  const ttfts: (number | null)[] = [];
  for (let i = from; i < from + count; i++) {
    const m = await hybridTextTurn(h, ctx, tagged(i));
    ttfts.push(m.error ? null : m.ttftMs);
    progress.tick();
    await sleep(pauseMs);
  }
  return ttfts;
}

export async function runMemoryScenario(
  backend: Backend,
  o: MemoryScenarioOptions,
  progress: Progress,
): Promise<MemoryScenarioResult> {
  const notes: string[] = [];
  const canFault = backend.mode === 'sim' || o.server !== undefined;
  const lettaKind: LettaKind = o.server ? 'server' : 'sim';
  const on = o.server ? ", Letta's own server" : '';
  const faultTurns = canFault ? o.slowedTurns + o.downTurns : 0;
  progress.plan(o.healthyTurns + faultTurns + (canFault ? 2 : 1));
  progress.phase(`memory (${o.journal} journal${on}): healthy Letta`);
  const journalDir = mkdtempSync(join(tmpdir(), 'bench-memory-'));
  const redis = o.journal === 'redis' ? await startRedis() : undefined;
  const openai = await backend.openai(backend.seed);
  const letta = o.server?.endpoint ?? (await backend.letta(backend.seed + 11));
  const config = { ...backend.config, letta: { ...backend.config.letta, claimIdleMs: CLAIM_IDLE_MS } };
  const host = openMemoryHost({
    config,
    letta,
    journalDir,
    ...(redis ? { journalUrl: redis.url } : {}),
    logger: o.logger,
  });
  const writer = host.service?.writer;
  if (!writer) throw new Error('the memory scenario needs Letta');
  const watch = await watchMetrics(writer, o.logger);
  const collected: Collected = { lags: new Map(), retries: 0, dead: 0 };
  /** Turn ids in submission order, to map acks back to turn numbers. */
  const turnIds: string[] = [];
  writer.on('queued', (e) => turnIds.push(e.turnId));
  writer.on('ack', (e: AckEvent) => {
    e.turnIds.forEach((id, k) => {
      const n = turnIds.indexOf(id);
      const lag = e.lagMs[k];
      if (n >= 0 && lag !== undefined) collected.lags.set(n, lag);
    });
  });
  writer.on('retry', () => collected.retries++);
  writer.on('dead', (e) => (collected.dead += e.turnIds.length));
  const identity = `bench-memory-${Date.now()}`;
  const h = await openHybrid({ openai, host, identity, logger: o.logger, config: backend.config });
  const closers: (() => Promise<void>)[] = [() => h.close()];
  const ctx = newContext();
  const lagsOf = (from: number, to: number) =>
    [...collected.lags]
      .filter(([n]) => n >= from && n < to)
      .sort(([a], [b]) => a - b)
      .map(([, lag]) => lag);
  const drain = async (since: number): Promise<number | null> => {
    const r = await writer.flush(o.drainTimeoutMs);
    progress.tick();
    return r.drained ? nowMs() - since : null;
  };
  try {
    const healthyTtft = await runTurns(h, ctx, 0, o.healthyTurns, o.pauseMs, progress);
    const retriesBefore = collected.retries;
    const healthyDrain = await drain(nowMs());
    const healthy: MemoryPhase = {
      turns: o.healthyTurns,
      ttft: summarize(healthyTtft),
      lag: summarize(lagsOf(0, o.healthyTurns)),
      lagSamplesMs: lagsOf(0, o.healthyTurns),
      drainMs: healthyDrain,
      retries: retriesBefore,
    };
    const target = o.server ? serverTarget(o.server) : letta.standIn ? standInTarget(letta.standIn) : null;
    if (!canFault || !target) {
      return {
        journal: o.journal,
        ...(o.server ? { letta: lettaKind } : {}),
        writeMode: backend.config.letta.writeMode,
        healthy,
        faults: {
          ran: false,
          reason: 'faults are injected into the Letta stand-in only; live Letta is never taken down',
        },
        notes,
      };
    }
    // A second call by the same caller, on a fresh OpenAI stand-in with the same seed: its turn j
    // gets the latency draw of healthy turn j, so the two TTFTs compare turn by turn.
    const openai2 = await backend.openai(backend.seed);
    closers.push(() => openai2.close());
    const h2 = await openHybrid({ openai: openai2, host, identity, logger: o.logger, config: backend.config });
    closers.unshift(() => h2.close());
    const ctx2 = newContext();
    const retriesAtFaults = collected.retries;
    progress.phase(`memory${on}: ${target.slowedLabel} by ${o.slowByMs} ms`);
    watch.resetPeak();
    await target.slow(o.slowByMs);
    // The first write of the phase is refused for good: a dead letter, replayed after the drain.
    await target.refuseOnce?.();
    const deadAt = collected.dead;
    const slowedTtft = await runTurns(h2, ctx2, o.healthyTurns, o.slowedTurns, o.pauseMs, progress);
    progress.phase(`memory${on}: Letta down`);
    await target.down();
    const downAt = nowMs();
    const downTtft = await runTurns(h2, ctx2, o.healthyTurns + o.slowedTurns, o.downTurns, o.pauseMs, progress);
    const stillDown = o.minDownMs - (nowMs() - downAt);
    if (stillDown > 0) await sleep(stillDown);
    progress.phase(`memory${on}: Letta back, draining`);
    await target.up();
    const upAt = nowMs();
    const downForMs = upAt - downAt;
    const faultDrain = await drain(upAt);
    const peak = watch.peak();
    const afterDrain = await watch.read();
    progress.phase(`memory${on}: replaying the dead letter${target.refuseOnce ? '' : 's (none expected)'}`);
    const deadLettered = collected.dead - deadAt;
    await replayDeadLetters({ ...config.letta, journalDir, ...(redis ? { journalUrl: redis.url } : {}) }, o.logger);
    // A Redis journal's replayed turns belong to the replaying writer until they have sat idle.
    if (redis) await sleep(CLAIM_IDLE_MS + 200);
    await writer.replay();
    await writer.flush(o.drainTimeoutMs);
    const afterReplay = await watch.read();
    const total = o.healthyTurns + o.slowedTurns + o.downTurns;
    const agentId = await h2.caller?.agentId;
    const stored = agentId === undefined ? null : await target.stored(agentId);
    const counts = stored === null ? [] : countTaggedTurns(stored.texts, total);
    const faultTtft = [...slowedTtft, ...downTtft];
    const phase: MemoryPhase = {
      turns: o.slowedTurns + o.downTurns,
      ttft: summarize(faultTtft),
      lag: summarize(lagsOf(o.healthyTurns, total)),
      lagSamplesMs: lagsOf(o.healthyTurns, total),
      drainMs: faultDrain,
      retries: collected.retries - retriesAtFaults,
    };
    notes.push(
      `lost and duplicates are counted in ${target.countedIn}, by a tag on each caller line (${backend.config.letta.writeMode} mode)`,
      ...(stored?.summary ? [stored.summary] : []),
    );
    if (o.server)
      notes.push(
        "the server's agent steps call an OpenAI stand-in with the profile's OpenAI latency, so its lag is Letta's own work plus that model time; the stand-in's Letta answers with the profile's Letta latency",
      );
    return {
      journal: o.journal,
      ...(o.server ? { letta: lettaKind } : {}),
      writeMode: backend.config.letta.writeMode,
      healthy,
      faults: {
        ran: true,
        slowedByMs: o.slowByMs,
        turnsSlowed: o.slowedTurns,
        turnsDown: o.downTurns,
        downForMs,
        phase,
        turnsSubmitted: total,
        deadLettered,
        lost: counts.length === 0 ? total : counts.filter((c) => c === 0).length,
        duplicates: counts.reduce((n, c) => n + Math.max(0, c - 1), 0),
        ttftChange: summarize(pairedDifferences(healthyTtft, faultTtft)),
        metrics: { peak, afterDrain, afterReplay },
      },
      notes,
    };
  } finally {
    await watch.stop();
    for (const c of closers) await c().catch(() => undefined);
    await host.close(0);
    await letta.close();
    await openai.close();
    await redis?.stop();
    rmSync(journalDir, { recursive: true, force: true });
  }
}
