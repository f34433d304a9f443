/**
 * The report's charts as inline SVG strings: no script, no external asset, readable in any
 * browser and diffable in a file.
 */
import type { LlmPathResult, VoiceDesignResult } from '../results.ts';
import { summarize } from '../stats.ts';

export function esc(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

const palette = ['#c0392b', '#e67e22', '#2471a3', '#1e8449', '#7d3c98', '#5d6d7e'];
export const colorOf = (i: number): string => palette[i % palette.length] as string;

/** A round upper bound for an axis and a tick step that divides it. */
export function niceScale(maxValue: number): { max: number; step: number } {
  const m = Math.max(maxValue, 1);
  const raw = m / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  return { max: Math.ceil(m / step) * step, step };
}

const f1 = (v: number) => (Math.round(v * 10) / 10).toString();

function axis(x0: number, width: number, y: number, max: number, step: number, label: string): string {
  const parts: string[] = [`<line x1="${x0}" y1="${y}" x2="${x0 + width}" y2="${y}" stroke="#888"/>`];
  for (let v = 0; v <= max + 1e-9; v += step) {
    const x = x0 + (v / max) * width;
    parts.push(`<line x1="${f1(x)}" y1="${y}" x2="${f1(x)}" y2="${y + 4}" stroke="#888"/>`);
    parts.push(
      `<text x="${f1(x)}" y="${y + 16}" font-size="10" text-anchor="middle" fill="#444">${Math.round(v)}</text>`,
    );
  }
  parts.push(
    `<text x="${x0 + width / 2}" y="${y + 30}" font-size="11" text-anchor="middle" fill="#222">${esc(label)}</text>`,
  );
  return parts.join('');
}

function grid(x0: number, width: number, top: number, bottom: number, max: number, step: number): string {
  const out: string[] = [];
  for (let v = step; v <= max + 1e-9; v += step) {
    const x = f1(x0 + (v / max) * width);
    out.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="#eee"/>`);
  }
  return out.join('');
}

function svg(width: number, height: number, body: string, title: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}" font-family="system-ui, sans-serif">${body}</svg>`;
}

/**
 * When each piece of reply text arrived, one row per turn, grouped by path: a streamed reply is a
 * run of dots after the first token; a buffered one is a single clump at the end.
 */
export function chunkTimeline(paths: readonly LlmPathResult[], turnsPerPath = 10): string {
  const label = 150;
  const width = 860;
  const plot = width - label - 20;
  const rowH = 11;
  const rows = paths.map((p) => p.turns.filter((t) => !t.error).slice(0, turnsPerPath));
  const maxAt = Math.max(1, ...rows.flat().map((t) => t.totalMs ?? Math.max(0, ...t.arrivals.map((a) => a.atMs))));
  const { max, step } = niceScale(maxAt);
  const x = (v: number) => f1(label + (v / max) * plot);
  let y = 10;
  const body: string[] = [];
  const top = y;
  rows.forEach((turns, i) => {
    const path = paths[i] as LlmPathResult;
    const color = colorOf(i);
    const groupTop = y;
    for (const t of turns) {
      const cy = y + rowH / 2;
      body.push(
        `<line x1="${label}" y1="${cy}" x2="${x(t.totalMs ?? 0)}" y2="${cy}" stroke="${color}" stroke-opacity="0.25"/>`,
      );
      for (const a of t.arrivals)
        body.push(`<circle cx="${x(a.atMs)}" cy="${cy}" r="2.6" fill="${color}" fill-opacity="0.8"/>`);
      y += rowH;
    }
    body.push(
      `<text x="${label - 8}" y="${(groupTop + y) / 2 + 4}" font-size="12" text-anchor="end" fill="${color}">${esc(path.path)}</text>`,
    );
    body.push(
      `<text x="${label - 8}" y="${(groupTop + y) / 2 + 16}" font-size="9" text-anchor="end" fill="#666">${esc(path.verdict.kind)}</text>`,
    );
    y += 8;
  });
  const bottom = y;
  const g = grid(label, plot, top, bottom, max, step);
  return svg(
    width,
    bottom + 40,
    g +
      body.join('') +
      axis(label, plot, bottom, max, step, 'ms after the request was sent (each dot: one piece of reply text)'),
    'chunk arrival timeline per path',
  );
}

export interface Series {
  label: string;
  values: readonly number[];
}

/** Every value as a dot, with the median (thick) and p95 (thin) marked. */
export function distribution(series: readonly Series[], unit = 'ms'): string {
  const label = 150;
  const width = 860;
  const plot = width - label - 20;
  const rowH = 34;
  const all = series.flatMap((s) => s.values);
  const { max, step } = niceScale(Math.max(1, ...all));
  const x = (v: number) => f1(label + (v / max) * plot);
  const body: string[] = [];
  const top = 10;
  series.forEach((s, i) => {
    const y0 = top + i * rowH;
    const color = colorOf(i);
    s.values.forEach((v, k) => {
      // A fixed jitter: the same file always draws the same picture.
      const jitter = ((k * 7919) % 17) - 8;
      body.push(`<circle cx="${x(v)}" cy="${y0 + rowH / 2 + jitter}" r="2.4" fill="${color}" fill-opacity="0.55"/>`);
    });
    const st = summarize(s.values);
    if (st) {
      body.push(
        `<line x1="${x(st.median)}" y1="${y0 + 4}" x2="${x(st.median)}" y2="${y0 + rowH - 4}" stroke="#111" stroke-width="3"/>`,
      );
      body.push(
        `<line x1="${x(st.p95)}" y1="${y0 + 6}" x2="${x(st.p95)}" y2="${y0 + rowH - 6}" stroke="#111" stroke-width="1"/>`,
      );
    }
    body.push(
      `<text x="${label - 8}" y="${y0 + rowH / 2 + 4}" font-size="12" text-anchor="end" fill="${color}">${esc(s.label)}</text>`,
    );
  });
  const bottom = top + series.length * rowH;
  return svg(
    width,
    bottom + 40,
    grid(label, plot, top, bottom, max, step) +
      body.join('') +
      axis(label, plot, bottom, max, step, `${unit} (thick line: median, thin line: p95)`),
    'latency distribution',
  );
}

const stageColors = {
  stt: '#7f8c8d',
  eot: '#bdc3c7',
  llm: '#2471a3',
  wait: '#8e44ad',
  tts: '#e67e22',
  audio: '#c0392b',
};

/**
 * Per spoken turn, from the moment the caller stopped speaking: final transcript, end of turn,
 * the llm node from its call to its first token, TTS first byte, and the first audio played.
 */
export function waterfall(designs: readonly VoiceDesignResult[]): string {
  const label = 190;
  const width = 860;
  const plot = width - label - 20;
  const rowH = 22;
  const turns = designs.flatMap((d) =>
    d.turns.filter((t) => !t.error).map((t) => ({ design: d.design === 'letta' ? 'Letta' : d.setting, t })),
  );
  const maxAt = Math.max(
    1,
    ...turns.map(({ t }) => Math.max(t.waterfall.firstAudioMs ?? 0, t.waterfall.llmFirstTokenMs ?? 0)),
  );
  const { max, step } = niceScale(maxAt);
  const x = (v: number) => Number(f1(label + (Math.max(0, v) / max) * plot));
  const bar = (from: number | null, to: number | null, y: number, h: number, color: string, title: string): string => {
    if (from === null || to === null) return '';
    const x1 = x(from);
    const w = Math.max(1.5, x(to) - x1);
    return `<rect x="${x1}" y="${y}" width="${f1(w)}" height="${h}" fill="${color}"><title>${esc(title)}: ${Math.round(to - from)} ms</title></rect>`;
  };
  const body: string[] = [];
  const legend: [string, string][] = [
    ['speech end → final transcript', stageColors.stt],
    ['→ end of turn', stageColors.eot],
    ['llm node: call → first token', stageColors.llm],
    ['TTS wait: first token → first text into TTS', stageColors.wait],
    ['TTS: first text → first audio', stageColors.tts],
    ['first audio played (e2e)', stageColors.audio],
  ];
  // Wraps the legend: about 6.5 px per character at 11 px.
  let lx = 10;
  let ly = 8;
  for (const [text, color] of legend) {
    const w = 14 + text.length * 6.5 + 16;
    if (lx + w > width) {
      lx = 10;
      ly += 16;
    }
    body.push(
      `<rect x="${lx}" y="${ly}" width="10" height="10" fill="${color}"/><text x="${lx + 14}" y="${ly + 9}" font-size="11" fill="#222">${esc(text)}</text>`,
    );
    lx += w;
  }
  const top = ly + 26;
  turns.forEach(({ design, t }, i) => {
    const y = top + i * rowH;
    const w = t.waterfall;
    body.push(
      `<text x="${label - 8}" y="${y + 14}" font-size="11" text-anchor="end" fill="#222">${esc(`${design} · ${t.fixture.replace(/\.wav$/, '')}`)}</text>`,
    );
    body.push(bar(0, w.finalTranscriptMs, y + 2, 5, stageColors.stt, 'final transcript'));
    body.push(bar(w.finalTranscriptMs, w.endOfTurnMs, y + 2, 5, stageColors.eot, 'end of turn'));
    body.push(bar(w.llmStartMs, w.llmFirstTokenMs, y + 8, 5, stageColors.llm, 'llm node TTFT'));
    body.push(bar(w.llmFirstTokenMs, w.ttsFirstTextMs ?? null, y + 8, 5, stageColors.wait, 'TTS wait'));
    const audio = w.firstAudioMs;
    // TTS TTFB runs from the first text sent; with preemptive TTS its audio may wait for the turn.
    const ttsFrom = w.ttsFirstTextMs ?? (audio !== null && w.ttsTtfbMs !== null ? audio - w.ttsTtfbMs : null);
    if (ttsFrom !== null && w.ttsTtfbMs !== null)
      body.push(bar(ttsFrom, ttsFrom + w.ttsTtfbMs, y + 14, 5, stageColors.tts, 'TTS TTFB'));
    if (audio !== null)
      body.push(
        `<line x1="${x(audio)}" y1="${y}" x2="${x(audio)}" y2="${y + rowH - 2}" stroke="${stageColors.audio}" stroke-width="2"><title>first audio: ${Math.round(audio)} ms</title></line>`,
      );
  });
  const bottom = top + turns.length * rowH + 4;
  return svg(
    width,
    bottom + 40,
    grid(label, plot, top, bottom, max, step) +
      body.join('') +
      axis(label, plot, bottom, max, step, 'ms after the caller stopped speaking'),
    'per-turn stage waterfall',
  );
}
