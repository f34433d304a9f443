/**
 * Where a job's start goes, from the worker's own log lines (src/telemetry/job-start.ts): each job
 * process's load and prewarm (`job process ready`), and each call's steps up to its greeting
 * (`call started`). Medians over the processes and calls of a level.
 */
import { type Summary, summarize } from './stats.ts';

export interface JobStartBreakdown {
  /** Job processes that became ready while the level ran (warm ones started before it are not in it). */
  processes: number;
  /** Process start → the job module's imports loaded (framework and project, not yet evaluated). */
  moduleLoadedMs: Summary | null;
  /** Process start → the job module's imports evaluated. */
  modulesEvaluatedMs: Summary | null;
  /** Prewarm's steps, in order. */
  prewarmMs: Record<string, Summary | null>;
  /** Process start → ready: loaded and prewarmed, the framework's initialize message awaited included. */
  readyMs: Summary | null;
  /** A ready, idle job process's resident memory, MB. */
  readyRssMb: Summary | null;
  calls: number;
  /** A call's steps in the job: room connect, the caller's arrival, session start, greeting's first audio; the memory read beside them. */
  callMs: Record<string, Summary | null>;
}

interface Line {
  msg?: unknown;
  moduleLoadedMs?: unknown;
  modulesEvaluatedMs?: unknown;
  prewarmMs?: unknown;
  readyMs?: unknown;
  startMs?: unknown;
  rssMb?: unknown;
}

const parsed = (lines: readonly string[]): Line[] =>
  lines.flatMap((l) => {
    if (!l.startsWith('{') || !(l.includes('job process ready') || l.includes('call started'))) return [];
    try {
      return [JSON.parse(l) as Line];
    } catch {
      return [];
    }
  });

const numberOr = (v: unknown) => (typeof v === 'number' ? v : null);

/** Per step name, the summary of its values over the records; names in first-seen order. */
function steps(records: unknown[]): Record<string, Summary | null> {
  const values = new Map<string, number[]>();
  for (const r of records) {
    if (typeof r !== 'object' || r === null) continue;
    for (const [k, v] of Object.entries(r)) if (typeof v === 'number') values.set(k, [...(values.get(k) ?? []), v]);
  }
  return Object.fromEntries([...values].map(([k, v]) => [k, summarize(v)]));
}

export function jobStartIn(lines: readonly string[]): JobStartBreakdown {
  const all = parsed(lines);
  const ready = all.filter((l) => l.msg === 'job process ready');
  const calls = all.filter((l) => l.msg === 'call started');
  return {
    processes: ready.length,
    moduleLoadedMs: summarize(ready.map((l) => numberOr(l.moduleLoadedMs))),
    modulesEvaluatedMs: summarize(ready.map((l) => numberOr(l.modulesEvaluatedMs))),
    prewarmMs: steps(ready.map((l) => l.prewarmMs)),
    readyMs: summarize(ready.map((l) => numberOr(l.readyMs))),
    readyRssMb: summarize(ready.map((l) => numberOr(l.rssMb))),
    calls: calls.length,
    callMs: steps(calls.map((l) => l.startMs)),
  };
}
