/** Tables as one structure, and how it is rendered: aligned text for the terminal, Markdown for bench/README.md. */
import type { Summary } from '../stats.ts';

export interface Table {
  title: string;
  columns: string[];
  /** 'l' or 'r' per column; numbers read best right-aligned. */
  align: ('l' | 'r')[];
  rows: string[][];
  notes: string[];
}

/** Milliseconds: one decimal below 10 ms (overheads), whole numbers above. */
export function ms(v: number | null | undefined, signed = false): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '–';
  const text = Math.abs(v) < 10 ? v.toFixed(1) : String(Math.round(v));
  return signed && v > 0 ? `+${text}` : text;
}

export const num = (v: number | null | undefined, digits = 0): string =>
  typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '–';

export function duration(msTotal: number): string {
  const s = Math.round(msTotal / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export const med = (s: Summary | null) => ms(s?.median);
export const p95 = (s: Summary | null) => ms(s?.p95);
export const p99 = (s: Summary | null) => ms(s?.p99);
export const max = (s: Summary | null) => ms(s?.max);

/** The columns `idx` of a table, renamed `columns`. */
export function pick(t: Table, columns: string[], idx: number[]): Table {
  return {
    title: t.title,
    columns,
    align: idx.map((i) => t.align[i] ?? 'l'),
    rows: t.rows.map((row) => idx.map((i) => row[i] ?? '')),
    notes: t.notes,
  };
}

export function renderText(t: Table): string {
  const widths = t.columns.map((c, i) => Math.max(c.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const cell = (text: string, i: number) =>
    (t.align[i] ?? 'l') === 'r' ? text.padStart(widths[i] ?? 0) : text.padEnd(widths[i] ?? 0);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => cell(c, i))
      .join('  ')
      .trimEnd();
  return [
    t.title,
    line(t.columns),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...t.rows.map(line),
    ...t.notes.map((n) => `  · ${n}`),
  ].join('\n');
}

const mdEscape = (s: string) => s.replaceAll('|', '\\|');

export function renderMarkdown(t: Table): string {
  const head = `| ${t.columns.map(mdEscape).join(' | ')} |`;
  const rule = `|${t.align.map((a) => (a === 'r' ? '---:' : ':---')).join('|')}|`;
  const rows = t.rows.map((r) => `| ${r.map(mdEscape).join(' | ')} |`);
  return [
    `**${t.title}**`,
    '',
    head,
    rule,
    ...rows,
    ...(t.notes.length ? ['', ...t.notes.map((n) => `- ${n}`)] : []),
  ].join('\n');
}
