/**
 * The results as tables: one structure per scenario, rendered as aligned text for the terminal
 * and as Markdown for bench/README.md. Everything is computed from a results file, never from a run
 * in progress, so `report` and `readme` show exactly what `run` printed.
 */
import type {
  BenchResults,
  LlmPathResult,
  LoadScenarioResult,
  MemoryScenarioResult,
  VoiceDesignResult,
  VoiceScenarioResult,
} from '../results.ts';
import { roomReadmeTables, roomTables } from './room-tables.ts';
import { type Table, duration, max, med, ms, num, p95, p99, pick, renderText } from './format.ts';

export function machineLine(r: BenchResults): string {
  const m = r.machine;
  return `${m.cpuModel}, ${m.cores} cores, ${(m.memoryMb / 1024).toFixed(1)} GB RAM, ${m.platform} ${m.arch}; node ${r.versions.node ?? '?'}`;
}

/** The report's first lines: what ran against what, and on which machine. */
export function headline(r: BenchResults): string[] {
  const mode =
    r.mode === 'sim'
      ? `Mode: built-in stand-ins (sim/, no keys), latency profile "${r.profile.name}", seed ${r.seed}: ${r.profile.description}`
      : `Mode: live services from the configuration: ${r.profile.description}`;
  return [
    mode,
    ...r.headline,
    `Machine: ${machineLine(r)}. Date ${r.date}. Wall time ${duration(r.wallTimeMs)}.`,
    ...r.skipped.map((s) => `Skipped ${s.scenario}: ${s.reason}`),
  ];
}

function llmTable(paths: LlmPathResult[], overhead: BenchResults['scenarios']['llm']): Table {
  const rows = paths.map((p) => [
    p.path,
    String(p.turns.length),
    med(p.ttft),
    p95(p.ttft),
    p99(p.ttft),
    max(p.ttft),
    med(p.total),
    p95(p.total),
    p99(p.total),
    max(p.total),
    num(p.ttftOverTotal?.median, 2),
    num(p.chunks?.median),
    med(p.spread),
    p.errors > 0
      ? `${p.verdict.kind} (${p.errors} errors)`
      : p.verdict.kind === 'buffered'
        ? 'BUFFERED'
        : p.verdict.kind,
  ]);
  const notes: string[] = [];
  const o = overhead?.hybridOverhead;
  if (o) {
    notes.push(
      `hybrid overhead over openai-direct (same latency draw per turn, ${o.pairs} pairs): ${ms(o.medianMs, true)} ms median, ${ms(o.p95Ms, true)} ms p95; TTFT ratio ×${num(o.ratio, 2)}`,
    );
  }
  for (const p of paths) notes.push(`${p.path}: ${p.verdict.text}`);
  const checked = paths.filter((p) => p.vsStandIn);
  if (checked.length > 0) {
    notes.push(
      `measurement check, bench TTFT minus the stand-in's own record (request received → first text sent), median/max: ${checked
        .map((p) => `${p.path} ${ms(p.vsStandIn?.median, true)}/${ms(p.vsStandIn?.max, true)} ms`)
        .join(', ')}`,
    );
  }
  notes.push(...(overhead?.notes ?? []));
  return {
    title: 'LLM: time to first token and total per path (ms)',
    columns: [
      'path',
      'turns',
      'TTFT med',
      'p95',
      'p99',
      'max',
      'total med',
      'p95',
      'p99',
      'max',
      'TTFT/total',
      'chunks',
      'spread',
      'verdict',
    ],
    align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    rows,
    notes,
  };
}

/** A design's row label: the Letta baseline, or the hybrid design under one speech setting. */
export function designLabel(d: VoiceDesignResult): string {
  return d.design === 'letta' ? 'Letta in the path' : `hybrid · ${d.setting}`;
}

function cutoffCell(d: VoiceDesignResult): string {
  const c = d.cutoffs;
  if (!c) return '–';
  return `${c.cutOff}/${c.utterances} (${c.answeredEarly} early, ${c.split} split)`;
}

function voiceTable(v: VoiceScenarioResult): Table {
  const rows = v.designs.map((d) => [
    designLabel(d),
    String(d.turns.length - d.errors) + (d.errors ? `/${d.turns.length}` : ''),
    med(d.e2e),
    p95(d.e2e),
    num(d.stageRatio?.median, 2),
    num(d.stageRatio?.p95, 2),
    med(d.transcriptionDelay),
    med(d.endOfTurnDelay),
    med(d.llmTtft),
    p95(d.llmTtft),
    med(d.ttsWait),
    med(d.ttsTtfb),
    med(d.frameworkE2e),
    cutoffCell(d),
  ]);
  const letta = v.designs.find((d) => d.design === 'letta');
  const hybrids = v.designs.filter((d) => d.design === 'hybrid');
  const hybrid = hybrids.find((d) => d.setting === 'default') ?? hybrids.at(-1);
  const notes: string[] = [];
  if (letta?.e2e && hybrid?.e2e) {
    notes.push(
      `the hybrid design (${hybrid.setting}) answers ${ms(letta.e2e.median - hybrid.e2e.median)} ms sooner (median e2e ${ms(hybrid.e2e.median)} vs ${ms(letta.e2e.median)} ms, ×${num(letta.e2e.median / hybrid.e2e.median, 1)})`,
    );
  }
  if (hybrid?.e2e) {
    notes.push(
      `design target: the reply starts within ${v.targetMs} ms; the hybrid (${hybrid.setting}) median ${hybrid.e2e.median <= v.targetMs ? 'meets' : 'misses'} it; e2e ÷ stage sum ${num(hybrid.stageRatio?.median, 2)} median, ${num(hybrid.stageRatio?.p95, 2)} p95 (goal ≤ 1.05 and ≤ 1.15)`,
    );
  }
  const cut = hybrids.filter((d) => d.cutoffs);
  notes.push(
    'ratio = per turn e2e ÷ (transcript + llm TTFT + TTS TTFB); TTS wait = llm first token → first text sent to TTS' +
      (cut.length > 0
        ? "; cut-offs on the pause recordings (one pause of 400-900 ms inside each sentence): early = the agent began answering before the caller's last word, split = the utterance became two turns; goal ≤ 1 in 20"
        : ''),
    ...v.notes,
  );
  return {
    title: 'Voice: caller stopped speaking → first agent audio played (ms)',
    columns: [
      'design · setting',
      'turns',
      'e2e med',
      'e2e p95',
      'ratio med',
      'ratio p95',
      'transcript med',
      'end of turn med',
      'llm TTFT med',
      'llm TTFT p95',
      'TTS wait med',
      'TTS TTFB med',
      'framework e2e med',
      'cut-offs',
    ],
    align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    rows,
    notes,
  };
}

/** The Letta column's cell: the stand-in (sim/) or Letta's own server (`--letta server`). */
export function lettaLabel(m: MemoryScenarioResult): string {
  return m.letta === 'server' ? 'server' : 'stand-in';
}

function memoryTable(runs: MemoryScenarioResult[]): Table {
  const withServer = runs.some((m) => m.letta === 'server');
  const rows: string[][] = [];
  const notes: string[] = withServer ? serverComparison(runs) : [];
  for (const m of runs) {
    const t = memoryRun(m);
    rows.push(...t.rows.map((r) => (withServer ? [lettaLabel(m), ...r] : r)));
    const label = withServer
      ? `${m.journal} journal, ${m.letta === 'server' ? "Letta's own server" : 'stand-in'}`
      : `${m.journal} journal`;
    notes.push(...t.notes.map((n) => (runs.length > 1 ? `${label}: ${n}` : n)));
  }
  const columns = [
    'journal',
    'phase',
    'turns',
    'TTFT med',
    'TTFT p95',
    'lag med',
    'lag p95',
    'drain',
    'retries',
    'lost',
    'dups',
  ];
  const align: Table['align'] = ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'];
  return {
    title: 'Memory: background writes to Letta (ms)',
    columns: withServer ? ['Letta', ...columns] : columns,
    align: withServer ? ['l', ...align] : align,
    rows,
    notes: [...new Set(notes)],
  };
}

/** Per journal, Letta's own server beside the stand-in: lag, lost and duplicated. */
function serverComparison(runs: MemoryScenarioResult[]): string[] {
  const out: string[] = [];
  for (const server of runs.filter((m) => m.letta === 'server')) {
    const sim = runs.find((m) => m.letta !== 'server' && m.journal === server.journal);
    const pair = (of: (m: MemoryScenarioResult) => string): string => `${of(server)} vs ${sim ? of(sim) : '–'}`;
    const faultLag = (m: MemoryScenarioResult): string => (m.faults.ran ? med(m.faults.phase.lag) : '–');
    const lost = (m: MemoryScenarioResult): string => (m.faults.ran ? String(m.faults.lost) : '–');
    const dups = (m: MemoryScenarioResult): string => (m.faults.ran ? String(m.faults.duplicates) : '–');
    const ok = server.faults.ran && server.faults.lost === 0 && server.faults.duplicates === 0;
    out.push(
      `${server.journal} journal, Letta's own server vs the stand-in: lag med ${pair((m) => med(m.healthy.lag))} ms healthy, ` +
        `${pair(faultLag)} ms under faults; lost ${pair(lost)}, duplicated ${pair(dups)}` +
        (server.faults.ran ? (ok ? ' (as required)' : ' (REQUIRED: 0 and 0 on the server)') : ''),
    );
  }
  return out;
}

/** One journal's rows (healthy, then the fault phase) and notes. */
function memoryRun(m: MemoryScenarioResult): { rows: string[][]; notes: string[] } {
  const server = m.letta === 'server';
  const rows: string[][] = [
    [
      m.journal,
      'healthy',
      String(m.healthy.turns),
      med(m.healthy.ttft),
      p95(m.healthy.ttft),
      med(m.healthy.lag),
      p95(m.healthy.lag),
      ms(m.healthy.drainMs),
      String(m.healthy.retries),
      '–',
      '–',
    ],
  ];
  const notes: string[] = [];
  if (m.faults.ran) {
    const f = m.faults;
    rows.push([
      m.journal,
      server ? `model calls ${f.slowedByMs} ms, then stopped` : `slowed +${f.slowedByMs} ms, then down`,
      String(f.phase.turns),
      med(f.phase.ttft),
      p95(f.phase.ttft),
      med(f.phase.lag),
      p95(f.phase.lag),
      f.phase.drainMs === null ? 'never' : ms(f.phase.drainMs),
      String(f.phase.retries),
      String(f.lost),
      String(f.duplicates),
    ]);
    notes.push(
      server
        ? `each model call of Letta's agent steps took ${f.slowedByMs} ms to its first token for ${f.turnsSlowed} turns, then the server was stopped for ${(f.downForMs / 1000).toFixed(1)} s, its restart included (${f.turnsDown} turns); drain = server back up → every turn acknowledged`
        : `Letta slowed for ${f.turnsSlowed} turns, then down for ${(f.downForMs / 1000).toFixed(1)} s (${f.turnsDown} turns); drain = Letta back up → every turn acknowledged`,
      `${f.turnsSubmitted} turns submitted: ${f.lost} lost, ${f.duplicates} duplicated (${f.lost === 0 && f.duplicates === 0 ? 'as required' : 'REQUIRED: 0 and 0'})`,
      `hybrid TTFT with Letta slowed/down vs healthy, same latency draw per turn: ${ms(f.ttftChange?.median, true)} ms median, ${ms(f.ttftChange?.p95, true)} ms p95`,
    );
    if (f.metrics)
      notes.push(
        `/metrics during the faults: backlog up to ${f.metrics.peak.backlog} turns, oldest pending up to ${f.metrics.peak.oldestPendingS.toFixed(1)} s, ${f.metrics.peak.retries} retries; ` +
          (server
            ? `no batch refused for good (the server gets no 422): dead letters ${f.metrics.afterDrain.deadLetters} after the drain, backlog ${f.metrics.afterReplay.backlog} at the end`
            : `one batch (${f.deadLettered ?? 0} turn(s)) refused for good: dead letters ${f.metrics.afterDrain.deadLetters} after the drain, ${f.metrics.afterReplay.deadLetters} after replay-dead-letters, backlog ${f.metrics.afterReplay.backlog}`),
      );
  } else {
    notes.push(`fault phase not run: ${m.faults.reason}`);
  }
  notes.push(`write mode: ${m.writeMode}; lag = turn finished → Letta acknowledged`, ...m.notes);
  return { rows, notes };
}

function loadTable(l: LoadScenarioResult): Table {
  const rows = l.levels.map((v) => [
    String(v.sessions),
    med(v.text.ttft),
    med(v.text.overhead),
    p95(v.text.overhead),
    v.audio.ran ? String(v.audio.turns) : '–',
    v.audio.ran ? med(v.audio.e2e) : 'not run',
    v.audio.ran ? p95(v.audio.e2e) : '–',
    num(v.rssPerSessionMb, 1),
    num(v.heapPerSessionMb, 1),
    v.holds ? 'yes' : `NO: ${v.problems.join('; ')}`,
  ]);
  const last = l.levels.at(-1)?.sessions;
  const notes = [
    l.breaksAt === null
      ? `holds at every level tested (up to ${last ?? 0} calls in one process)`
      : `breaks at ${l.breaksAt} calls in one process`,
    `holds = no failed turn, e2e p95 ≤ ${l.criteria.e2eP95MaxMs} ms, TTFT overhead p95 ≤ ${l.criteria.overheadP95MaxMs} ms; overhead = llm node TTFT − the stand-in's own TTFT for the same request`,
    'memory per call = growth of peak RSS / heap during the level, divided by its calls (low levels include one-time allocations)',
    ...l.notes,
  ];
  for (const v of l.levels)
    if (!v.audio.ran && v.audio.reason) notes.push(`${v.sessions} spoken calls: ${v.audio.reason}`);
  return {
    title: 'Load: concurrent calls in one worker process (ms, MB)',
    columns: [
      'calls',
      'text TTFT med',
      'overhead med',
      'overhead p95',
      'spoken turns',
      'e2e med',
      'e2e p95',
      'RSS/call',
      'heap/call',
      'holds',
    ],
    align: ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    rows,
    notes,
  };
}

export function reportTables(r: BenchResults): Table[] {
  const s = r.scenarios;
  const out: Table[] = [];
  if (s.llm) out.push(llmTable(s.llm.paths, s.llm));
  if (s.voice) out.push(voiceTable(s.voice));
  if (s.memory) out.push(memoryTable(s.memory));
  if (s.load) out.push(loadTable(s.load));
  if (s.room) out.push(...roomTables(s.room));
  return out;
}

/** The compact tables of bench/README.md: the figures that make the case, fewer columns. */
export function readmeTables(r: BenchResults): Table[] {
  const s = r.scenarios;
  const out: Table[] = [];
  if (s.llm) {
    const t = llmTable(s.llm.paths, s.llm);
    const notes = t.notes.filter((n) => n.startsWith('hybrid overhead') || n.startsWith('measurement check'));
    out.push({
      ...pick(t, ['path', 'TTFT med', 'p95', 'total med', 'TTFT/total', 'verdict'], [0, 2, 3, 6, 10, 13]),
      notes,
    });
  }
  if (s.voice)
    out.push(
      pick(
        voiceTable(s.voice),
        [
          'design · setting',
          'e2e med',
          'e2e p95',
          'ratio med',
          'ratio p95',
          'transcript med',
          'end of turn med',
          'llm TTFT med',
          'TTS wait med',
          'TTS TTFB med',
          'cut-offs',
        ],
        [0, 2, 3, 4, 5, 6, 7, 8, 10, 11, 13],
      ),
    );
  if (s.memory) out.push(memoryTable(s.memory));
  if (s.load)
    out.push(pick(loadTable(s.load), ['calls', 'overhead p95', 'e2e p95', 'RSS/call', 'holds'], [0, 3, 6, 7, 9]));
  if (s.room) out.push(...roomReadmeTables(s.room));
  return out.map((t) => ({ ...t, notes: t.notes.slice(0, 3) }));
}

/** The full terminal report. */
export function renderReport(r: BenchResults): string {
  return [headline(r).join('\n'), ...reportTables(r).map(renderText)].join('\n\n');
}
