/** The room scenario's tables: the transport's share side by side, then calls per worker by load level. */
import type { RoomNetworkResult, RoomScenarioResult } from '../room-results.ts';
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
    if (l.holds || l.workerWarnings.length === 0) continue;
    const said = l.workerWarnings.map((w) => `${w.level} "${w.msg.slice(0, 120)}" ×${w.count}`).join('; ');
    notes.push(`the worker at ${l.calls} rooms: ${said}`);
  }
  return {
    title: 'Room load: N rooms at once, one caller each, one worker (ms, cores, MB)',
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

function afterBlackout(n: RoomNetworkResult): string {
  const a = n.afterBlackout;
  if (n.blackoutMs === 0) return '';
  if (!a) return 'not measured';
  const resumed =
    a.resumedAfterMs === null ? 'nothing more of the reply' : `resumed +${Math.round(a.resumedAfterMs)} ms`;
  return `${Math.round(a.heardBeforeMs)} ms heard before; ${resumed}, ${Math.round(a.heardAfterMs)} ms heard after`;
}

function networkTable(rows: RoomNetworkResult[]): Table {
  return {
    title: 'Room on a bad network: one call per row, the caller’s UDP dropped at random or blacked out (ms)',
    columns: [
      'network',
      'turns answered',
      'e2e med',
      'e2e p95',
      'caller packets dropped',
      'utterances detected',
      'caller transcripts right',
      'after the blackout',
      'Letta: each turn once',
    ],
    align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'l'],
    rows: rows.map((n) => [
      n.blackoutMs > 0 ? `${n.blackoutMs / 1000} s blackout` : `${n.lossPct} % loss`,
      `${n.answered}/${n.turns}`,
      med(n.e2e),
      p95(n.e2e),
      n.blackoutMs > 0
        ? `${n.faults.blackoutDrops} (blackout)`
        : `${n.faults.lossDrops} of ${n.faults.packets} (${num(n.measuredLossPct, 1)} %)`,
      `${n.detected}/${n.spoken}`,
      `${n.transcribed}/${n.spoken}`,
      afterBlackout(n),
      n.lettaCopies.length === n.turns && n.lettaCopies.every((c) => c === 1)
        ? `yes${n.interruptedInLetta ? `, ${n.interruptedInLetta} marked interrupted` : ''}`
        : `NO: copies ${n.lettaCopies.join(',')}`,
    ]),
    notes: [
      'loss: nftables `numgen random` drops that share of the caller’s UDP packets each way (media to and from the server), for the whole call; blackout: every packet of the caller, UDP and its TCP to the server, dropped for that long, 1.5 s into the first reply',
      'utterances detected = what the Deepgram stand-in’s energy detector found in the audio the worker decoded (after packet-loss concealment), against utterances spoken; caller transcripts right = final transcripts back on lk.transcription that match the words said, in order',
      'after the blackout: sound the caller heard of that reply before it, how soon sound came back after it, and how much of the reply was heard after it; Letta: every spoken turn’s caller line in the caller’s Letta agent exactly once',
      ...rows.filter((n) => n.error).map((n) => `${n.blackoutMs ? 'blackout' : `${n.lossPct} %`}: ${n.error}`),
    ],
  };
}

export function roomTables(r: RoomScenarioResult): Table[] {
  return [sideBySideTable(r), loadTable(r), ...(r.network?.length ? [networkTable(r.network)] : [])];
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
    ...(r.network?.length ? [networkTable(r.network)] : []),
  ];
}
