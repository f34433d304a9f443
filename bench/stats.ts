/**
 * Every statistic the bench reports, in one place: percentiles, summaries, paired differences and
 * the verdict that tells a streamed reply from a buffered one. Pure functions over numbers, so the
 * report can be recomputed from a stored results file and the rules can be tested on known data.
 */

export interface Summary {
  n: number;
  min: number;
  median: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * The p-th percentile (0-100) of ascending values, interpolating linearly between the two nearest
 * ranks (the "type 7" estimator of R and NumPy's default): with few samples a high percentile
 * lands between the largest values instead of jumping to the maximum.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('percentile of no values');
  if (p < 0 || p > 100) throw new Error(`percentile ${p} is outside 0-100`);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (rank - lo);
}

/** Median, p95, p99, extremes and mean of the finite values; null when there are none. */
export function summarize(values: readonly (number | null | undefined)[]): Summary | null {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  return {
    n: v.length,
    min: v[0] as number,
    median: percentile(v, 50),
    p95: percentile(v, 95),
    p99: percentile(v, 99),
    max: v[v.length - 1] as number,
    mean: v.reduce((s, x) => s + x, 0) / v.length,
  };
}

/** `b[i] - a[i]` for every index where both are numbers (paired samples, e.g. the same latency draw). */
export function pairedDifferences(a: readonly (number | null)[], b: readonly (number | null)[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (typeof x === 'number' && typeof y === 'number') out.push(y - x);
  }
  return out;
}

/** One piece of reply text as the client received it. */
export interface Arrival {
  /** Milliseconds after the request started. */
  atMs: number;
  chars: number;
}

/** Time from the first to the last piece of text: how long the reply took to arrive once it started. */
export function spreadMs(arrivals: readonly Arrival[]): number {
  if (arrivals.length === 0) return 0;
  const times = arrivals.map((a) => a.atMs);
  return Math.max(...times) - Math.min(...times);
}

/**
 * When a reply counts as buffered. An LLM produces a few tokens every ~10-50 ms, so a reply of
 * several words cannot be generated inside `burstMs`: if all of its text arrives within that
 * window of the first piece, it was held back and released at once. The field measurement this
 * project started from saw every chunk within 38 ms of the first.
 */
export interface BufferingRule {
  burstMs: number;
  /** Shorter replies say nothing either way and are not judged. */
  minWords: number;
}

export const defaultBufferingRule: BufferingRule = { burstMs: 50, minWords: 4 };

export function wordCount(text: string): number {
  return text.split(/\s+/).filter((w) => w.length > 0).length;
}

export type TurnShape = 'buffered' | 'streamed' | 'too-short';

export function turnShape(
  arrivals: readonly Arrival[],
  words: number,
  rule: BufferingRule = defaultBufferingRule,
): TurnShape {
  if (words < rule.minWords || arrivals.length === 0) return 'too-short';
  return spreadMs(arrivals) <= rule.burstMs ? 'buffered' : 'streamed';
}

export interface Verdict {
  kind: 'buffered' | 'streaming' | 'undecided';
  /** Turns judged buffered, of the turns long enough to judge. */
  bufferedTurns: number;
  judgedTurns: number;
  rule: BufferingRule;
  /** One line for the report. */
  text: string;
}

/** A path is buffered when most of its judged turns are. */
export function verdictOf(
  turns: readonly { arrivals: readonly Arrival[]; words: number }[],
  rule: BufferingRule = defaultBufferingRule,
): Verdict {
  let buffered = 0;
  let judged = 0;
  for (const t of turns) {
    const shape = turnShape(t.arrivals, t.words, rule);
    if (shape === 'too-short') continue;
    judged++;
    if (shape === 'buffered') buffered++;
  }
  if (judged === 0)
    return { kind: 'undecided', bufferedTurns: 0, judgedTurns: 0, rule, text: 'no reply long enough to judge' };
  const kind = buffered * 2 > judged ? 'buffered' : 'streaming';
  const text =
    kind === 'buffered'
      ? `BUFFERED: all chunks arrive together (within ${rule.burstMs} ms of the first) in ${buffered}/${judged} turns`
      : `streaming: text arrives over time in ${judged - buffered}/${judged} turns`;
  return { kind, bufferedTurns: buffered, judgedTurns: judged, rule, text };
}

/** a / b, or null when b is not a positive number. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (typeof a !== 'number' || typeof b !== 'number' || !(b > 0)) return null;
  return a / b;
}

/**
 * End to end over the sum of the three stages a reply cannot start without (final transcript, llm
 * first token, TTS first audio): 1 when the caller waited for those and nothing else. Null when a
 * figure is missing.
 */
export function stageRatio(
  e2eMs: number | null | undefined,
  stagesMs: readonly (number | null | undefined)[],
): number | null {
  if (!stagesMs.every((v): v is number => typeof v === 'number')) return null;
  return ratio(
    e2eMs,
    stagesMs.reduce((a, b) => a + b, 0),
  );
}
