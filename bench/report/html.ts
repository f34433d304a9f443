/** The self-contained HTML report: headline, tables and inline SVG charts from one results file. */
import { writeFileSync } from 'node:fs';
import type { BenchResults } from '../results.ts';
import { chunkTimeline, distribution, esc, waterfall } from './charts.ts';
import type { Table } from './format.ts';
import { designLabel, headline, lettaLabel, reportTables } from './tables.ts';

function tableHtml(t: Table): string {
  const head = t.columns.map((c, i) => `<th class="${t.align[i] ?? 'l'}">${esc(c)}</th>`).join('');
  const rows = t.rows
    .map((r) => `<tr>${r.map((c, i) => `<td class="${t.align[i] ?? 'l'}">${esc(c)}</td>`).join('')}</tr>`)
    .join('\n');
  const notes = t.notes.length ? `<ul>${t.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '';
  return `<h2>${esc(t.title)}</h2>\n<table><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>${notes}`;
}

function figure(title: string, caption: string, chart: string): string {
  return `<figure><figcaption><strong>${esc(title)}</strong> ${esc(caption)}</figcaption>${chart}</figure>`;
}

export function renderHtml(r: BenchResults): string {
  const s = r.scenarios;
  const charts: string[] = [];
  if (s.llm) {
    charts.push(
      figure(
        'Chunk arrival timeline per path.',
        'Each row is one turn (the first ten per path), each dot a piece of reply text. A streamed reply spreads out after its first token; a buffered reply arrives as one clump after the whole step.',
        chunkTimeline(s.llm.paths),
      ),
      figure(
        'Time to first token per path (ms).',
        'Every turn as a dot.',
        distribution(
          s.llm.paths.map((p) => ({
            label: p.path,
            values: p.turns.flatMap((t) => (t.ttftMs === null || t.error ? [] : [t.ttftMs])),
          })),
        ),
      ),
    );
  }
  if (s.voice) {
    charts.push(
      figure(
        'End to end per design (ms).',
        'Caller stopped speaking (recording) → first agent audio played.',
        distribution(
          s.voice.designs.map((d) => ({
            label: designLabel(d),
            values: d.turns.flatMap((t) => (t.e2eMs === null ? [] : [t.e2eMs])),
          })),
        ),
      ),
      figure(
        'Per-turn stage waterfall.',
        'Times from the moment the caller stopped speaking; hover a bar for its length.',
        waterfall(s.voice.designs),
      ),
    );
  }
  if (s.memory) {
    const withServer = s.memory.some((m) => m.letta === 'server');
    const series = s.memory.flatMap((m) => {
      const run = withServer ? `${m.journal} · ${lettaLabel(m)}` : m.journal;
      return [
        { label: `${run}: healthy`, values: m.healthy.lagSamplesMs },
        ...(m.faults.ran ? [{ label: `${run}: slowed, then down`, values: m.faults.phase.lagSamplesMs }] : []),
      ];
    });
    charts.push(
      figure('Memory lag (ms).', 'Turn finished → Letta acknowledged, every turn as a dot.', distribution(series)),
    );
  }
  if (s.load) {
    charts.push(
      figure(
        'Load: spoken-call end to end p95 per level (ms).',
        'One dot per level that ran audio.',
        distribution(
          s.load.levels
            .filter((l) => l.audio.e2e)
            .map((l) => ({ label: `${l.sessions} calls`, values: [l.audio.e2e?.p95 ?? 0] })),
        ),
      ),
    );
  }
  const css = `body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0;font-variant-numeric:tabular-nums}th,td{padding:3px 8px;border-bottom:1px solid #ddd}
th{background:#f4f4f4}.r{text-align:right}.l{text-align:left}figure{margin:1.5em 0}figcaption{margin-bottom:.4em}
ul{color:#444;margin-top:.3em}header p{margin:.2em 0;color:#333}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Latency benchmark ${esc(r.date)}</title><style>${css}</style></head>
<body><header><h1>Latency benchmark</h1>${headline(r)
    .map((l) => `<p>${esc(l)}</p>`)
    .join('')}</header>
${reportTables(r).map(tableHtml).join('\n')}
<h2>Charts</h2>
${charts.join('\n')}
<details><summary>Versions and configuration</summary><pre>${esc(JSON.stringify({ versions: r.versions, config: r.config, machine: r.machine, profile: r.profile }, null, 2))}</pre></details>
</body></html>
`;
}

export function writeHtml(path: string, r: BenchResults): void {
  writeFileSync(path, renderHtml(r));
}
