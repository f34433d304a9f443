/** Shared pieces of the memory tests: temp dirs, a log recorder, turns, and a writer on a stand-in. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { LettaStandIn } from '../../sim/index.ts';
import { LettaWrites, type WriteMode } from '../../src/memory/letta-writes.ts';
import { createLettaClient } from '../../src/memory/letta-client.ts';
import { FileJournal } from '../../src/memory/journal/file-journal.ts';
import { TurnWriter, type TurnWriterOptions } from '../../src/memory/writer/turn-writer.ts';
import type { Turn } from '../../src/memory/turn.ts';
import type { Logger } from '../../src/telemetry/logger.ts';

export interface LogLine {
  level: number;
  msg?: string;
  event?: string;
  [k: string]: unknown;
}

export const WARN = 40;
export const ERROR = 50;

/** A pino logger (debug and up) whose lines are kept for assertions. */
export function recordingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { logger, lines };
}

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'memory-test-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

let seq = 0;

export function makeTurn(agentId: string, n: number, extra: Partial<Turn> = {}): Turn {
  const at = Date.now();
  seq += 1;
  return {
    id: `turn-${process.pid}-${seq}`,
    agentId,
    callerIdentity: 'caller-42',
    sessionId: 'session-1',
    user: `caller says [${n}]`,
    assistant: `assistant answers [${n}]`,
    interrupted: false,
    userAt: at - 1000,
    finishedAt: at,
    ...extra,
  };
}

/**
 * Fast retries so that failure paths finish in well under a second. The stand-in admits a request
 * within milliseconds (no latency fault armed), so a short settle after a send is enough.
 */
export const fastRetries = { backoffBaseMs: 20, backoffCapMs: 200, sendSettleMs: 100 } as const;

export function startWriter(
  standIn: LettaStandIn,
  dir: string,
  mode: WriteMode,
  logger: Logger,
  extra: Partial<TurnWriterOptions> = {},
): TurnWriter {
  const writes = new LettaWrites({ client: createLettaClient({ baseURL: standIn.url }, 30_000), mode, logger });
  const journal = extra.journal ?? new FileJournal(dir, { logger });
  return new TurnWriter({ writes, logger, ...fastRetries, ...extra, journal });
}

/** The text of every user message the stand-in holds for an agent, oldest first. */
export function userTexts(standIn: LettaStandIn, agentId: string): string[] {
  return standIn.store.messages(agentId).flatMap((m) => {
    if (m.message_type !== 'user_message') return [];
    return [typeof m.content === 'string' ? m.content : m.content.map((p) => ('text' in p ? p.text : '')).join('')];
  });
}

/** How often each needle occurs across the haystacks, in needle order. */
export function occurrences(haystacks: string[], needles: string[]): number[] {
  const all = haystacks.join('\n');
  return needles.map((n) => all.split(n).length - 1);
}

/** Positions of the needles in the joined haystacks (to check order). */
export function positions(haystacks: string[], needles: string[]): number[] {
  const all = haystacks.join('\n');
  return needles.map((n) => all.indexOf(n));
}

export function isSorted(xs: number[]): boolean {
  return xs.every((x, i) => i === 0 || (xs[i - 1] ?? -1) < x);
}

export async function until(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
