/** The room scenario's tables: the transport's share side by side, then calls per worker by load level. */
import type { RoomLevelResult, RoomScenarioResult } from '../room-results.ts';
import type { JobStartBreakdown } from '../room-startup.ts';
import { type Table, med, ms, num, p95, pick } from './format.ts';
import { networkTable } from './room-network-table.ts';
import { roomShareTable } from './room-share-table.ts';

function sideBySideTable(r: RoomScenarioResult): Table {
  const rows = r.sideBySide.map((p) => [
    p.path,
    String(p.turns - p.errors) + (p.errors ? `/${p.turns}` : ''),
    med(p.e2e),
    p95(p.e2e),
    med(p.frameworkE2e),
    p95(p.frameworkE2e),
  ]);
  const notes = [
    `the room's share (room − room-less): ${ms(r.transport.medianMs, true)} ms at the median, ${ms(r.transport.p95Ms, true)} ms at p95`,
    'e2e = where the recording says the caller stopped speaking → the first audible sample of the reply at the caller; framework e2e = the worker’s own figure (end of speech by VAD → playback start)',
    ...r.sideBySide.map((p) => `${p.path}: ${p.how}`),
    ...r.notes,
  ];
  return {
    title: 'Room: the same recordings with and without a real room (ms)',
    columns: ['path', 'turns', 'e2e med', 'e2e p95', 'framework e2e med', 'framework e2e p95'],
    align: ['l', 'r', 'r', 'r', 'r', 'r'],
    rows,
    notes,
  };
}

const settingOf = (l: RoomLevelResult) => l.variant ?? 'default';

function loadTable(r: RoomScenarioResult): Table {
  const rows = r.levels.map((l) => [
    settingOf(l),
    String(l.calls),
    `${l.jobsStarted}/${l.calls}`,
    `${l.turns - l.failedTurns}/${l.turns}`,
    med(l.e2e),
    p95(l.e2e),
    p95(l.greeting),
    l.jobEndAfterHangUp
      ? p95(l.jobEndAfterHangUp.ms) + (l.jobEndAfterHangUp.notEnded ? ` (${l.jobEndAfterHangUp.notEnded} on)` : '')
      : '',
    num(l.worker.cpuCores, 2),
    num(l.worker.cpuPerJobPct, 0),
    num(l.worker.rssPerJobMb, 0),
    num(l.worker.peakRssMb, 0),
    num(l.serverCpuCores, 2),
    num(l.benchCpuCores, 2),
    l.holds ? 'yes' : `NO: ${l.problems.join('; ')}`,
  ]);
  const notes = [
    r.breaksAt === null
      ? `held at every level run (up to ${r.heldUpTo ?? 0} rooms at once)`
      : r.heldUpTo === null
        ? `no level held; breaks at ${r.breaksAt} rooms at once`
        : `highest level held: ${r.heldUpTo} rooms at once; breaks at ${r.breaksAt}`,
    `holds = every job starts (greeting heard within ${r.criteria.joinTimeoutMs / 1000} s), no failed turn, e2e p95 ≤ ${r.criteria.e2eP95MaxMs} ms${r.criteria.jobEndWaitMs ? `, every job ends within ${r.criteria.jobEndWaitMs / 1000} s of its caller hanging up` : ''}; greeting = joining the room → the greeting heard; job end p95 = the caller hung up → the job ended (memory flushed, its place free), "(n on)" = jobs still running after that wait`,
    'CPU in cores averaged over the level (the machine has the cores in the headline); CPU/job = the job processes’ CPU ÷ calls in % of one core; RSS/job = median peak of the job processes that ran calls; worker RSS = all its processes at their peak; server = livekit-server; callers = this bench process (the rtc-node callers and the stand-ins)',
  ];
  for (const l of r.levels) {
    if (!l.spread) continue;
    const { roomsPerNode, jobs, unplaced, unserved } = l.spread;
    const byWorker = jobs.map(
      (row, w) =>
        `worker ${w}: ${row.reduce((a, b) => a + b, 0)} (${row.map((c, n) => `${c} on node ${n}`).join(', ')})`,
    );
    notes.push(
      `${l.calls} rooms on ${roomsPerNode.length} nodes: rooms per node ${roomsPerNode.join('/')}${unplaced ? ` (${unplaced} not found in the servers' logs)` : ''}; jobs per worker (worker w registered with node w): ${byWorker.join('; ')}${unserved ? `; ${unserved} rooms served by no worker` : ''}`,
    );
  }
  for (const l of r.levels) {
    if (l.holds || l.workerWarnings.length === 0) continue;
    const said = l.workerWarnings.map((w) => `${w.level} "${w.msg.slice(0, 120)}" ×${w.count}`).join('; ');
    notes.push(`the worker at ${l.calls} rooms: ${said}`);
  }
  return {
    title: `Room load: N rooms at once, one caller each, ${r.levels.some((l) => l.spread) ? 'one worker per LiveKit node; worker figures summed' : 'one worker'} (ms, cores, MB)`,
    columns: [
      'setting',
      'rooms',
      'jobs started',
      'turns ok',
      'e2e med',
      'e2e p95',
      'greeting p95',
      'job end p95',
      'worker CPU',
      'CPU/job %',
      'RSS/job',
      'worker RSS',
      'server CPU',
      'callers CPU',
      'holds',
    ],
    align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    rows,
    notes,
  };
}

const stepNames = (starts: (JobStartBreakdown | undefined)[], part: 'prewarmMs' | 'callMs') => [
  ...new Set(starts.flatMap((j) => Object.keys(j?.[part] ?? {}))),
];

/** Where a job's start goes, per setting: the job process's load and prewarm, then a call's steps to its greeting. */
function jobStartTable(r: RoomScenarioResult): Table | null {
  const vs = r.variants ?? [];
  if (vs.length === 0) return null;
  const prewarm = stepNames(
    vs.map((v) => v.jobStart),
    'prewarmMs',
  );
  const call = stepNames(
    vs.map((v) => v.jobStart),
    'callMs',
  );
  const rows = vs.map((v) => {
    const j = v.jobStart;
    return [
      v.name,
      String(j.processes),
      med(j.moduleLoadedMs),
      med(j.modulesEvaluatedMs),
      ...prewarm.map((k) => med(j.prewarmMs[k] ?? null)),
      med(j.readyMs),
      num(j.readyRssMb?.median, 0),
      String(j.calls),
      ...call.map((k) => med(j.callMs[k] ?? null)),
      ...call.map((k) => p95(j.callMs[k] ?? null)),
    ];
  });
  const short = (k: string) => k.replace(/Ms$/, '');
  return {
    title:
      "Job start: where a job process's start and a call's start go (ms, medians over the run's processes and calls)",
    columns: [
      'setting',
      'procs',
      'modules loaded',
      'evaluated',
      ...prewarm.map((k) => `prewarm ${short(k)}`),
      'ready',
      'ready RSS MB',
      'calls',
      ...call.map((k) => `${short(k)} med`),
      ...call.map((k) => `${short(k)} p95`),
    ],
    align: ['l', ...Array<'r'>(3 + prewarm.length + 3 + call.length * 2).fill('r')],
    rows,
    notes: [
      "from the worker's own log lines (src/telemetry/job-start.ts): modules loaded = process start → the job module's imports read and linked (the framework's, the plugins', the project's); evaluated = → its imports evaluated; prewarm steps in order (untilPrewarm = waiting for the framework's initialize message); ready = process start → ready, all of it; ready RSS = an idle ready job process",
      "a call's steps in order from the job's entry: connect = joining the room, participant = the caller found, sessionStart = session.start (RoomIO, the STT/TTS streams set up), greeting = → the agent's first speech (the greeting's reply: LLM and TTS), memoryRead = the caller's memory read beside them (the greeting waits for it)",
      'the greeting a caller hears = dispatch and waiting for a free warm job process + these steps + the transport',
    ],
  };
}

function importsTable(r: RoomScenarioResult): Table | null {
  const i = r.imports;
  if (!i) return null;
  const rows = i.withoutCache.map((c, k) => {
    const cached = i.withCache[k];
    return [c.what, ms(c.importMs), ms(cached?.importMs), num(c.rssMb, 0), num(cached?.rssMb, 0), ms(c.bootMs)];
  });
  return {
    title: "Loading a job's code in a fresh Node process (ms, MB; medians)",
    columns: ['import', 'ms', 'ms, compile cache', 'RSS', 'RSS, compile cache', 'Node start'],
    align: ['l', 'r', 'r', 'r', 'r', 'r'],
    rows,
    notes: [
      `${i.withoutCache[0]?.runs ?? 0} runs without Node's compile cache; with it, ${i.withCache[0]?.runs ?? 0} runs of which the first fills the cache (bench/harness/import-cost.ts)`,
    ],
  };
}

/** CPU a call costs, per process kind, while it talks. */
function cpuTable(r: RoomScenarioResult): Table | null {
  const levels = r.levels.filter((l) => l.worker.cpuByKindPct);
  if (levels.length === 0) return null;
  const kinds = ['job', 'inference', 'main', 'server'];
  return {
    title: 'CPU per call by process while the level runs (% of one core)',
    columns: ['setting', 'rooms', ...kinds, 'worker total', 'call’s own job process'],
    align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows: levels.map((l) => {
      const k = l.worker.cpuByKindPct ?? {};
      const worker = ['job', 'inference', 'main'].reduce((s, name) => s + (k[name] ?? 0), 0);
      return [
        settingOf(l),
        String(l.calls),
        ...kinds.map((name) => num(k[name], 1)),
        num(worker, 1),
        num(l.worker.cpuPerCallPct, 1),
      ];
    }),
    notes: [
      'call’s own job process = the CPU of the job processes that ran the calls (the largest by memory) ÷ calls, without the pool’s refills started meanwhile (a process start costs seconds of CPU)',
      'each kind’s CPU over the level ÷ its calls: job = the job processes (VAD, resampling, Opus through the rtc FFI, the session), inference = the shared end-of-turn model process, main = the worker’s registration and pool, server = livekit-server; the level includes each call’s start (greeting) as well as its two spoken turns',
    ],
  };
}

export function roomTables(r: RoomScenarioResult): Table[] {
  return [
    sideBySideTable(r),
    roomShareTable(r),
    loadTable(r),
    jobStartTable(r),
    cpuTable(r),
    importsTable(r),
    ...(r.network?.length ? [networkTable(r.network)] : []),
  ].filter((t): t is Table => t !== null);
}

/** The room tables of bench/README.md: fewer columns and notes. */
export function roomReadmeTables(r: RoomScenarioResult): Table[] {
  const side = sideBySideTable(r);
  const load = loadTable(r);
  return [
    { ...pick(side, ['path', 'e2e med', 'e2e p95', 'framework e2e med'], [0, 2, 3, 4]), notes: side.notes.slice(0, 2) },
    {
      ...pick(
        load,
        ['setting', 'rooms', 'jobs started', 'e2e p95', 'greeting p95', 'worker CPU', 'CPU/job %', 'RSS/job', 'holds'],
        [0, 1, 2, 5, 6, 7, 8, 9, 13],
      ),
      notes: load.notes.slice(0, 2),
    },
    ...[roomShareTable(r), jobStartTable(r), cpuTable(r), importsTable(r)].filter((t): t is Table => t !== null),
    ...(r.network?.length ? [networkTable(r.network)] : []),
  ];
}
