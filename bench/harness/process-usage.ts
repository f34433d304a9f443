/**
 * CPU time and resident memory of other processes while something runs: a worker's whole process
 * group (its main process, job processes and inference process) and the LiveKit server. Read from
 * Linux's /proc every half second. Written here rather than taken from a library because what is
 * needed is one read of every process of a group with its kind, including processes born and
 * gone while the level runs, and /proc gives exactly that with no native code.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** What a process is, from its command line; null leaves it out. */
export type Classify = (p: { pid: number; pgrp: number; cmdline: string }) => string | null;

export interface KindUsage {
  /** Processes of this kind seen while watching. */
  processes: number;
  /** CPU time they used while watching, in seconds. */
  cpuSeconds: number;
  /** Each process's highest resident memory, in MB, highest first. */
  peakRssMb: number[];
  /** Each process's CPU seconds while watching, in the order of peakRssMb. */
  cpuSecondsByRss: number[];
  /** The highest sum of their resident memory at one sample, in MB. */
  peakTotalRssMb: number;
}

export interface ProcessUsage {
  wallMs: number;
  byKind: Record<string, KindUsage>;
}

interface Seen {
  kind: string;
  /** CPU ticks when first seen; 0 for a process born while watching. */
  firstTicks: number;
  lastTicks: number;
  peakRss: number;
}

const getconf = (name: string, fallback: number): number => {
  try {
    return Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim()) || fallback;
  } catch {
    return fallback;
  }
};

let units: { tick: number; page: number } | null = null;
function systemUnits(): { tick: number; page: number } {
  units ??= { tick: getconf('CLK_TCK', 100), page: getconf('PAGESIZE', 4096) };
  return units;
}

/** pgrp, utime + stime (ticks) and rss (pages) of one process, or null if it is gone. */
function readStat(pid: number): { pgrp: number; ticks: number; rssPages: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name is in parentheses and may hold spaces: fields are counted after its end.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const field = (n: number) => Number(rest[n - 3]);
  return { pgrp: field(5), ticks: field(14) + field(15), rssPages: field(24) };
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
}

/** What a classifier sees; the command line is read only if asked for. */
function described(pid: number, pgrp: number): Parameters<Classify>[0] {
  return {
    pid,
    pgrp,
    get cmdline() {
      return cmdlineOf(pid);
    },
  };
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

/** Starts watching the processes `classify` names; `stop()` ends it and reports per kind. */
export function watchProcesses(classify: Classify, everyMs = 500): { stop(): ProcessUsage } {
  const { tick, page } = systemUnits();
  const seen = new Map<number, Seen>();
  const kinds = new Map<number, string>();
  const peakTotals = new Map<string, number>();
  const startedAt = performance.now();
  let first = true;

  const sample = () => {
    const totals = new Map<string, number>();
    for (const pid of pids()) {
      const stat = readStat(pid);
      if (!stat) continue;
      // Only a kind once found is kept: a process just forked still shows its parent's command line.
      const kind = kinds.get(pid) ?? classify(described(pid, stat.pgrp));
      if (kind === null) continue;
      kinds.set(pid, kind);
      const rss = stat.rssPages * page;
      const s = seen.get(pid);
      if (s) {
        s.lastTicks = stat.ticks;
        s.peakRss = Math.max(s.peakRss, rss);
      } else {
        seen.set(pid, { kind, firstTicks: first ? stat.ticks : 0, lastTicks: stat.ticks, peakRss: rss });
      }
      totals.set(kind, (totals.get(kind) ?? 0) + rss);
    }
    for (const [kind, total] of totals) peakTotals.set(kind, Math.max(peakTotals.get(kind) ?? 0, total));
    first = false;
  };
  sample();
  const timer = setInterval(sample, everyMs);

  return {
    stop() {
      clearInterval(timer);
      sample();
      const byKind: Record<string, KindUsage> = {};
      const each = new Map<string, { rss: number; cpu: number }[]>();
      for (const s of seen.values()) {
        const k = (byKind[s.kind] ??= {
          processes: 0,
          cpuSeconds: 0,
          peakRssMb: [],
          cpuSecondsByRss: [],
          peakTotalRssMb: 0,
        });
        const cpu = (s.lastTicks - s.firstTicks) / tick;
        k.processes++;
        k.cpuSeconds += cpu;
        each.set(s.kind, [...(each.get(s.kind) ?? []), { rss: s.peakRss / 2 ** 20, cpu }]);
      }
      for (const [kind, k] of Object.entries(byKind)) {
        const sorted = (each.get(kind) ?? []).sort((a, b) => b.rss - a.rss);
        k.peakRssMb = sorted.map((p) => p.rss);
        k.cpuSecondsByRss = sorted.map((p) => p.cpu);
        k.peakTotalRssMb = (peakTotals.get(kind) ?? 0) / 2 ** 20;
      }
      return { wallMs: performance.now() - startedAt, byKind };
    },
  };
}

/** How many processes of each kind exist now. */
export function countProcesses(classify: Classify): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const pid of pids()) {
    const stat = readStat(pid);
    const kind = stat && classify(described(pid, stat.pgrp));
    if (kind) counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}
