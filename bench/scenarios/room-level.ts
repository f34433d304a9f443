/**
 * One load level of the room scenario: N rooms at once, one caller each, with the workers' CPU and
 * memory read from /proc by process kind, where each room was placed and which worker served it,
 * and the worker's warnings counted.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type KindUsage, type ProcessUsage, watchProcesses } from '../harness/process-usage.ts';
import type { Stage } from '../harness/room-stage.ts';
import { type SpeechFixture, scriptOf } from '../harness/speech.ts';
import type { Progress } from '../progress.ts';
import { runRoomCall } from '../room-call.ts';
import type { RoomLevelResult, WorkerUsage } from '../room-results.ts';
import { jobStartIn } from '../room-startup.ts';
import { summarize } from '../stats.ts';

/**
 * What a level must meet to hold, how long a caller waits for the agent's greeting, and how long
 * the level waits for its jobs to end once their callers hung up (LiveKit's server closes an empty
 * room, and so the job, 20 s after the last caller left).
 */
export const criteria = { e2eP95MaxMs: 3000, joinTimeoutMs: 60_000, jobEndWaitMs: 30_000 };
export const jobKind = 'job';

/** The workers' processes by kind (every worker together), and the servers'. */
export function classifier(stage: Stage): Parameters<typeof watchProcesses>[0] {
  return ({ pid, pgrp, cmdline }) => {
    if (stage.servers.some((s) => s.pid() === pid)) return 'server';
    if (!stage.workers.some((w) => w.processGroup === pgrp)) return null;
    if (cmdline.includes('job_proc_lazy_main')) return jobKind;
    if (cmdline.includes('inference_proc_lazy_main')) return 'inference';
    return 'main';
  };
}

function workerUsage(u: ProcessUsage, calls: number): WorkerUsage {
  const kinds = Object.entries(u.byKind).filter(([k]) => k !== 'server');
  const cpu = kinds.reduce((sum, [, k]) => sum + k.cpuSeconds, 0);
  const jobs: KindUsage | undefined = u.byKind[jobKind];
  // The busiest `calls` job processes by memory ran the calls; the rest were warm and idle.
  const ran = jobs?.peakRssMb.slice(0, calls) ?? [];
  const ranCpu = (jobs?.cpuSecondsByRss.slice(0, calls) ?? []).reduce((a, b) => a + b, 0);
  const wallS = u.wallMs / 1000;
  return {
    cpuByKindPct: Object.fromEntries(
      Object.entries(u.byKind).map(([kind, k]) => [kind, (100 * k.cpuSeconds) / wallS / calls]),
    ),
    cpuCores: cpu / (u.wallMs / 1000),
    cpuPerJobPct: jobs ? (100 * jobs.cpuSeconds) / (u.wallMs / 1000) / calls : null,
    cpuPerCallPct: jobs ? (100 * ranCpu) / (u.wallMs / 1000) / calls : null,
    rssPerJobMb: summarize(ran)?.median ?? null,
    peakRssMb: kinds.reduce((sum, [, k]) => sum + k.peakTotalRssMb, 0),
    jobProcesses: jobs?.processes ?? 0,
  };
}

export async function runLevel(
  stage: Stage,
  variant: string,
  n: number,
  fixtures: SpeechFixture[],
  progress: Progress,
): Promise<RoomLevelResult> {
  // The stand-in hands out transcripts in the order it detects utterances, across every call.
  stage.deepgram.setTranscripts(
    Array.from({ length: n * fixtures.length }, (_, i) => scriptOf(fixtures[i % fixtures.length] as SpeechFixture)),
  );
  const logFrom = stage.worker.log.length;
  const logsFrom = stage.workers.map((w) => w.log.length);
  const rooms = Array.from({ length: n }, (_, i) => `bench-load-${n}-${i}`);
  const usage = watchProcesses(classifier(stage));
  const benchCpu = process.cpuUsage();
  const calls = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      runRoomCall(stage, {
        room: rooms[i]!,
        identity: `bench-load-${n}-${i}`,
        fixtures,
        // Callers do not all start speaking in the same 10 ms frame.
        startDelayMs: 500 + ((i * 137) % 1000),
        joinTimeoutMs: criteria.joinTimeoutMs,
        onTurn: () => progress.tick(),
      }).then((r) => {
        if (!r.started) progress.tick(fixtures.length);
        return r;
      }),
    ),
  );
  const u = usage.stop();
  const cpu = process.cpuUsage(benchCpu);
  const jobEnds = await jobEndsAfterHangUp(
    stage,
    rooms.filter((_, i) => calls[i]!.started),
    logsFrom,
  );
  const wallS = u.wallMs / 1000;
  const turns = calls.flatMap((c) => c.turns);
  const started = calls.filter((c) => c.started).length;
  const failedTurns = turns.filter((t) => t.e2eMs === null).length + (n - started) * fixtures.length;
  const e2e = summarize(turns.map((t) => t.e2eMs));
  const problems: string[] = [];
  if (started < n) problems.push(`${n - started} job${n - started === 1 ? '' : 's'} never started`);
  if (failedTurns > 0) problems.push(`${failedTurns} turns failed`);
  if (jobEnds.notEnded > 0)
    problems.push(
      `${jobEnds.notEnded} jobs still running ${criteria.jobEndWaitMs / 1000} s after their caller hung up`,
    );
  if (e2e && e2e.p95 > criteria.e2eP95MaxMs)
    problems.push(`e2e p95 ${Math.round(e2e.p95)} ms > ${criteria.e2eP95MaxMs} ms`);
  const server = u.byKind.server;
  const levelLog = stage.worker.log.slice(logFrom);
  return {
    variant,
    calls: n,
    jobsStarted: started,
    turns: n * fixtures.length,
    failedTurns,
    e2e,
    greeting: summarize(calls.map((c) => c.greetingMs)),
    worker: workerUsage(u, n),
    serverCpuCores: server ? server.cpuSeconds / wallS : null,
    benchCpuCores: (cpu.user + cpu.system) / 1e6 / wallS,
    wallMs: u.wallMs,
    holds: problems.length === 0,
    problems,
    workerWarnings: warningsIn(levelLog),
    jobStart: jobStartIn(levelLog),
    jobEndAfterHangUp: jobEnds,
    callResults: calls,
    ...(stage.servers.length > 1 ? { spread: spreadOf(stage, rooms) } : {}),
  };
}

/**
 * How long each room's job ran on after its caller hung up, from the job's own `job ended` line
 * (written once its memory is flushed, just before its process exits and frees its place).
 */
async function jobEndsAfterHangUp(
  stage: Stage,
  rooms: string[],
  logsFrom: number[],
): Promise<NonNullable<RoomLevelResult['jobEndAfterHangUp']>> {
  const endOf = (room: string): number | null | undefined => {
    for (const [i, w] of stage.workers.entries()) {
      const line = w.log
        .slice(logsFrom[i] ?? 0)
        .find((l) => l.includes('"msg":"job ended"') && l.includes(`"room":"${room}"`));
      if (line) return (JSON.parse(line) as { afterCallerLeftMs?: number | null }).afterCallerLeftMs ?? null;
    }
    return undefined;
  };
  const deadline = Date.now() + criteria.jobEndWaitMs;
  while (rooms.some((r) => endOf(r) === undefined) && Date.now() < deadline) await sleep(250);
  const ends = rooms.map(endOf);
  return {
    ms: summarize(ends.filter((e): e is number => typeof e === 'number')),
    notEnded: ends.filter((e) => e === undefined).length,
  };
}

/** Where each room was placed and which worker served it (from the servers' and workers' logs). */
function spreadOf(stage: Stage, rooms: string[]): NonNullable<RoomLevelResult['spread']> {
  const nodes = stage.servers.length;
  const roomsPerNode = Array.from({ length: nodes }, () => 0);
  const jobs = stage.workers.map(() => Array.from({ length: nodes }, () => 0));
  let unplaced = 0;
  let unserved = 0;
  for (const room of rooms) {
    const node = stage.nodeOf(room);
    // A worker's job lines carry the room's name; the level's rooms have names of their own.
    const worker = stage.workers.findIndex((w) => w.log.some((l) => l.includes(`"room":"${room}"`)));
    if (node === undefined) unplaced++;
    else roomsPerNode[node]!++;
    if (worker < 0) unserved++;
    else if (node !== undefined) jobs[worker]![node]!++;
  }
  return { roomsPerNode, jobs, unplaced, unserved };
}

/** The worker's JSON log lines at warn (40) and above, counted by message. */
export function warningsIn(lines: readonly string[]): RoomLevelResult['workerWarnings'] {
  const counts = new Map<string, { level: 'warn' | 'error'; msg: string; count: number }>();
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    let entry: { level?: unknown; msg?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if (typeof entry.level !== 'number' || entry.level < 40 || typeof entry.msg !== 'string') continue;
    const level = entry.level >= 50 ? 'error' : 'warn';
    const key = `${level} ${entry.msg}`;
    const seen = counts.get(key) ?? { level, msg: entry.msg, count: 0 };
    seen.count++;
    counts.set(key, seen);
  }
  return [...counts.values()].sort((a, b) => b.count - a.count).slice(0, 5);
}
