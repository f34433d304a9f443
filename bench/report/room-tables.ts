/** The room scenario's tables: the transport's share side by side, then calls per worker by load level. */
import type { RoomScenarioResult } from '../room-results.ts';
import { type Table, med, ms, num, p95, pick } from './format.ts';

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
    'e2e = where the recording says the caller stopped speaking → the first audible frame of the reply at the caller; framework e2e = the worker’s own figure (end of speech by VAD → playback start)',
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

function loadTable(r: RoomScenarioResult): Table {
  const rows = r.levels.map((l) => [
    String(l.calls),
    `${l.jobsStarted}/${l.calls}`,
    `${l.turns - l.failedTurns}/${l.turns}`,
    med(l.e2e),
    p95(l.e2e),
    p95(l.greeting),
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
    `holds = every job starts (greeting heard within ${r.criteria.joinTimeoutMs / 1000} s), no failed turn, e2e p95 ≤ ${r.criteria.e2eP95MaxMs} ms; greeting = joining the room → the greeting heard`,
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
      'rooms',
      'jobs started',
      'turns ok',
      'e2e med',
      'e2e p95',
      'greeting p95',
      'worker CPU',
      'CPU/job %',
      'RSS/job',
      'worker RSS',
      'server CPU',
      'callers CPU',
      'holds',
    ],
    align: ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    rows,
    notes,
  };
}

export function roomTables(r: RoomScenarioResult): Table[] {
  return [sideBySideTable(r), loadTable(r)];
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
        ['rooms', 'jobs started', 'e2e p95', 'greeting p95', 'worker CPU', 'CPU/job %', 'RSS/job', 'holds'],
        [0, 1, 4, 5, 6, 7, 8, 12],
      ),
      notes: load.notes.slice(0, 2),
    },
  ];
}
