import { describe, expect, it } from 'vitest';
import {
  type Arrival,
  defaultBufferingRule,
  pairedDifferences,
  percentile,
  ratio,
  spreadMs,
  stageRatio,
  summarize,
  turnShape,
  verdictOf,
  wordCount,
} from '../../bench/stats.ts';

const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);

describe('percentiles and summaries', () => {
  it('interpolates between ranks (R type 7, NumPy default)', () => {
    expect(percentile(oneToHundred, 50)).toBeCloseTo(50.5, 10);
    expect(percentile(oneToHundred, 95)).toBeCloseTo(95.05, 10);
    expect(percentile(oneToHundred, 99)).toBeCloseTo(99.01, 10);
    expect(percentile(oneToHundred, 0)).toBe(1);
    expect(percentile(oneToHundred, 100)).toBe(100);
    expect(percentile([10, 20, 30, 40], 50)).toBe(25);
    expect(percentile([7], 95)).toBe(7);
  });

  it('rejects what has no percentile', () => {
    expect(() => percentile([], 50)).toThrow(/no values/);
    expect(() => percentile([1], 101)).toThrow(/outside/);
  });

  it('summarizes unsorted data and skips missing values', () => {
    const shuffled = [...oneToHundred].reverse();
    const s = summarize([null, ...shuffled, undefined, Number.NaN]);
    expect(s).toEqual({
      n: 100,
      min: 1,
      median: 50.5,
      p95: expect.closeTo(95.05, 10),
      p99: expect.closeTo(99.01, 10),
      max: 100,
      mean: 50.5,
    });
    expect(summarize([])).toBeNull();
    expect(summarize([null, undefined])).toBeNull();
  });

  it('pairs samples by index', () => {
    expect(pairedDifferences([100, 200, null, 400], [103, 199, 300, 410, 500])).toEqual([3, -1, 10]);
  });

  it('divides only by a positive number', () => {
    expect(ratio(1, 4)).toBe(0.25);
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(null, 4)).toBeNull();
  });
});

/** `n` pieces of text, `gapMs` apart, the first at `firstMs`. */
function arrivals(n: number, firstMs: number, gapMs: number): Arrival[] {
  return Array.from({ length: n }, (_, i) => ({ atMs: firstMs + i * gapMs, chars: 4 }));
}

describe('the buffered-streaming verdict', () => {
  it('measures how long the text took to arrive once it started', () => {
    expect(spreadMs(arrivals(5, 4000, 9))).toBe(36);
    expect(spreadMs([])).toBe(0);
  });

  it('calls a reply buffered when all its text lands within the burst window of the first piece', () => {
    // The field measurement: TTFT ~5 s, every chunk within 38 ms of the first.
    expect(turnShape(arrivals(20, 5000, 2), 18)).toBe('buffered');
    // One assistant_message carrying the whole reply (Letta step streaming).
    expect(turnShape([{ atMs: 4400, chars: 90 }], 18)).toBe('buffered');
    // Tokens every 30 ms.
    expect(turnShape(arrivals(20, 200, 30), 18)).toBe('streamed');
    // Just past the window.
    expect(turnShape(arrivals(2, 200, defaultBufferingRule.burstMs + 1), 18)).toBe('streamed');
  });

  it('does not judge replies too short to show streaming', () => {
    expect(turnShape(arrivals(1, 300, 0), 2)).toBe('too-short');
    expect(turnShape([], 10)).toBe('too-short');
    expect(wordCount('  You said:  hello there. ')).toBe(4);
  });

  it('flags a path as buffered when most of its judged turns are', () => {
    const buffered = { arrivals: arrivals(20, 4500, 1), words: 18 };
    const streamed = { arrivals: arrivals(20, 200, 30), words: 18 };
    const short = { arrivals: arrivals(1, 100, 0), words: 1 };
    const v = verdictOf([buffered, buffered, streamed, short]);
    expect(v).toMatchObject({ kind: 'buffered', bufferedTurns: 2, judgedTurns: 3 });
    expect(v.text).toMatch(/^BUFFERED: all chunks arrive together/);
    expect(verdictOf([streamed, streamed, buffered])).toMatchObject({
      kind: 'streaming',
      bufferedTurns: 1,
      judgedTurns: 3,
    });
    // A tie is not "most".
    expect(verdictOf([streamed, buffered]).kind).toBe('streaming');
    expect(verdictOf([short]).kind).toBe('undecided');
  });

  it('follows the rule it is given', () => {
    const turn = { arrivals: arrivals(10, 1000, 10), words: 10 };
    expect(verdictOf([turn]).kind).toBe('streaming');
    expect(verdictOf([turn], { burstMs: 100, minWords: 4 }).kind).toBe('buffered');
    expect(verdictOf([turn], { burstMs: 100, minWords: 11 }).kind).toBe('undecided');
  });
});

describe('the stage ratio', () => {
  it('is e2e over transcript + llm TTFT + TTS TTFB, and null when a figure is missing', () => {
    expect(stageRatio(1100, [300, 200, 500])).toBeCloseTo(1.1, 10);
    expect(stageRatio(1000, [300, null, 500])).toBeNull();
    expect(stageRatio(null, [300, 200, 500])).toBeNull();
    expect(stageRatio(1000, [0, 0, 0])).toBeNull();
  });
});
