/**
 * One talking call's job process taken apart, for finding where its CPU and memory go (the room
 * bench gives the totals): the worker as `npm start` runs it with one warm job process, one caller
 * speaking `--turns` recordings, and that job process's CPU by thread (from /proc/<pid>/task: the
 * main thread, V8's helpers, WebRTC's and the rtc FFI's threads) and resident memory by mapping
 * (anonymous, the C heap, each shared library), when ready and in the call.
 * `--cpu-prof DIR` runs the worker with NODE_OPTIONS=--cpu-prof: each of its processes writes a V8
 * profile into DIR when it exits, the job process's named with its pid. `--log FILE` keeps the
 * worker's log. Re-runs itself in a network namespace, as the bench does:
 * `node bench/profile-call.ts [--turns N] [--cpu-prof DIR] [--log FILE] [SETTING=VALUE ...]`.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { profiles } from '../sim/index.ts';
import { prepareRoomNetwork, rerunInNamespace } from './harness/room-network.ts';
import { startStage } from './harness/room-stage.ts';
import { scriptOf, speechManifest } from './harness/speech.ts';
import { projectRoot } from './project-root.ts';
import { runRoomCall } from './room-call.ts';
import { pickFixtures } from './voice-call.ts';

const argv = process.argv.slice(2);

interface ThreadTicks {
  comm: string;
  ticks: number;
}

function threadsOf(pid: number): Map<number, ThreadTicks> {
  const out = new Map<number, ThreadTicks>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
      const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), { comm, ticks: Number(rest[11]) + Number(rest[12]) });
    } catch {
      // the thread ended
    }
  }
  return out;
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Resident memory (MB) by mapping: anonymous, the C heap, each shared library by file name. */
function rssByMapping(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  let name = '';
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const path = head[1] ?? '';
      name = path === '' ? '(anonymous)' : path.startsWith('[') ? path : (path.split('/').pop() ?? path);
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[name] = (out[name] ?? 0) + Number(rss[1]) / 1024;
    // RSS counts pages shared with other processes (the node binary, the native libraries) in full.
    const kind = /^(Private|Shared)_(?:Clean|Dirty):\s+(\d+) kB/.exec(line);
    if (kind) out[`= ${kind[1]!.toLowerCase()}`] = (out[`= ${kind[1]!.toLowerCase()}`] ?? 0) + Number(kind[2]) / 1024;
  }
  return out;
}

const top = (m: Record<string, number>) =>
  Object.fromEntries(
    Object.entries(m)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 10)
      .map(([k, v]) => [k, Math.round(v)]),
  );

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { turns: { type: 'string', default: '3' }, 'cpu-prof': { type: 'string' }, log: { type: 'string' } },
    allowPositionals: true,
  });
  const env: Record<string, string> = { WORKER_MAX_CALLS: '1000', LIVEKIT_NUM_IDLE_PROCESSES: '1' };
  for (const p of positionals) env[p.slice(0, p.indexOf('='))] = p.slice(p.indexOf('=') + 1);
  if (values['cpu-prof']) env.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${values['cpu-prof']}`;
  const fixtures = pickFixtures(speechManifest(), Number(values.turns));
  const stage = await startStage({ script: 'start', profile: profiles.seed, logLevel: 'info', workerEnv: env });
  try {
    await sleep(8000);
    const [pid] = stage.worker.jobProcesses();
    if (pid === undefined) throw new Error('no job process');
    const first = threadsOf(pid);
    const last = new Map(first);
    let peakRss = rssMb(pid);
    const readyRss = peakRss;
    const readyMaps = rssByMapping(pid);
    let peakMaps = readyMaps;
    let ticks = 0;
    const timer = setInterval(() => {
      for (const [tid, t] of threadsOf(pid)) last.set(tid, t);
      const rss = rssMb(pid);
      if (rss > peakRss && ticks++ % 4 === 0) peakMaps = rssByMapping(pid);
      peakRss = Math.max(peakRss, rss);
    }, 250);
    stage.deepgram.setTranscripts(fixtures.map(scriptOf));
    const started = performance.now();
    const call = await runRoomCall(stage, { room: 'profile-call', identity: 'profile-caller', fixtures });
    const wallS = (performance.now() - started) / 1000;
    clearInterval(timer);
    for (const [tid, t] of threadsOf(pid)) last.set(tid, t);
    const byComm = new Map<string, { threads: number; ticks: number }>();
    for (const [tid, t] of last) {
      const d = t.ticks - (first.get(tid)?.ticks ?? 0);
      const c = byComm.get(t.comm) ?? { threads: 0, ticks: 0 };
      c.threads++;
      c.ticks += d;
      byComm.set(t.comm, c);
    }
    const total = [...byComm.values()].reduce((s, c) => s + c.ticks, 0);
    console.log(
      JSON.stringify({
        settings: positionals,
        pid,
        wallS: Math.round(wallS * 10) / 10,
        turns: call.turns.map((t) => t.e2eMs),
        greetingMs: call.greetingMs,
        cpuPctOfCore: Math.round((total / wallS) * 10) / 10,
        readyRssMb: Math.round(readyRss),
        peakRssMb: Math.round(peakRss),
      }),
    );
    console.log('ready RSS by mapping (MB)', JSON.stringify(top(readyMaps)));
    console.log('in the call', JSON.stringify(top(peakMaps)));
    for (const [comm, c] of [...byComm].sort((a, b) => b[1].ticks - a[1].ticks))
      if (c.ticks > 0)
        // /proc counts CPU in ticks of 10 ms (CLK_TCK 100): ticks per second of wall time are % of a core.
        console.log(`${comm.padEnd(18)} x${c.threads}  ${(c.ticks / wallS).toFixed(1)} % of a core`);
    if (values.log) writeFileSync(values.log, stage.worker.log.join('\n'));
  } finally {
    await stage.close();
  }
}

// Last: main() uses the functions and constants above.
if (prepareRoomNetwork() === 'rerun') {
  rerunInNamespace(fileURLToPath(import.meta.url), argv, projectRoot);
} else {
  await main();
  process.exit(0);
}
