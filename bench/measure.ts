/**
 * Timing a reply as its client sees it: when each piece of text arrived, measured on the same
 * clock the stand-ins use to log what they sent (`nowMs`), so the two records can be compared.
 */
import { nowMs } from '../sim/index.ts';
import type { Arrival } from './stats.ts';

export interface Measured {
  /** Epoch ms just before the request (or llm node call) was made. */
  startedAt: number;
  /** First non-empty text; null if none came. */
  ttftMs: number | null;
  /** Until the stream ended (or failed). */
  totalMs: number | null;
  arrivals: Arrival[];
  text: string;
  error?: string;
}

/**
 * Reads `pieces` to the end, timing every non-empty piece. `pieces` must not start its request
 * before iteration begins: the clock starts here, just before the first `next()`.
 */
export async function measureText(pieces: () => AsyncIterable<string>): Promise<Measured> {
  const startedAt = nowMs();
  const arrivals: Arrival[] = [];
  let text = '';
  try {
    for await (const piece of pieces()) {
      if (piece.length === 0) continue;
      arrivals.push({ atMs: nowMs() - startedAt, chars: piece.length });
      text += piece;
    }
  } catch (err) {
    return {
      startedAt,
      ttftMs: arrivals[0]?.atMs ?? null,
      totalMs: nowMs() - startedAt,
      arrivals,
      text,
      error: errorText(err),
    };
  }
  return { startedAt, ttftMs: arrivals[0]?.atMs ?? null, totalMs: nowMs() - startedAt, arrivals, text };
}

/** One line, no stack, no request body: errors end up in a results file. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.constructor.name}: ${err.message.split('\n')[0] ?? ''}`.slice(0, 300);
  return String(err).slice(0, 300);
}
