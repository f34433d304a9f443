import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chunkTimeline, niceScale } from '../../bench/report/charts.ts';
import { renderHtml } from '../../bench/report/html.ts';
import { ms, renderMarkdown, renderText } from '../../bench/report/format.ts';
import { headline, readmeTables, renderReport, reportTables } from '../../bench/report/tables.ts';
import { readResults, writeResults } from '../../bench/results.ts';
import { sampleResults } from './sample-results.ts';

const dir = mkdtempSync(join(tmpdir(), 'bench-report-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the terminal report', () => {
  const r = sampleResults();
  const text = renderReport(r);

  it('says on its first line that the services are stand-ins, and names the profile', () => {
    expect(text.split('\n')[0]).toMatch(/^Mode: built-in stand-ins .*latency profile "seed", seed 1/);
    expect(headline(r).join('\n')).toContain('Machine: Test CPU, 2 cores');
  });

  it('has one table per scenario, with its figures', () => {
    const titles = reportTables(r).map((t) => t.title);
    expect(titles).toEqual([
      'LLM: time to first token and total per path (ms)',
      'Voice: caller stopped speaking → first agent audio played (ms)',
      'Memory: background writes to Letta (ms)',
      'Load: concurrent calls in one worker process (ms, MB)',
      'Room: the same recordings with and without a real room (ms)',
      'Room load: N rooms at once, one caller each, one worker (ms, cores, MB)',
    ]);
    const lines = text.split('\n');
    const row = (name: string) => lines.find((l) => l.startsWith(name)) ?? '';
    // letta-step: median TTFT 4500 of [4400, 4500, 5000]; one chunk; buffered.
    expect(row('letta-step')).toMatch(/^letta-step\s+3\s+4500\s+4950\s+4990\s+5000\s.*\s1\s+0\.0\s+BUFFERED$/);
    expect(row('hybrid')).toMatch(/streaming$/);
    expect(text).toContain('hybrid overhead over openai-direct (same latency draw per turn, 3 pairs): +2.0 ms median');
    expect(row('Letta in the path')).toMatch(/^Letta in the path\s+2\s+5000\s+5090\s/);
    // hybrid · default: e2e 1250/1290/1270 over stage sums 1210/1220/1215; one pause recording, not cut off.
    expect(row('hybrid · default')).toMatch(
      /^hybrid · default\s+3\s+1270\s+1288\s+1.05\s+1.06\s.*\s120\s+650\s+\d+\s+0\/1 \(0 early, 0 split\)$/,
    );
    expect(row('hybrid · baseline')).toMatch(/1\/1 \(0 early, 1 split\)$/);
    expect(text).toContain('16 turns submitted: 0 lost, 0 duplicated (as required)');
    expect(text).toContain('holds at every level tested (up to 20 calls in one process)');
    expect(row('room-less')).toMatch(/^room-less\s+2\s+1250\s+1295\s+1200\s+1245$/);
    expect(text).toContain("the room's share (room − room-less): +95 ms at the median, +100 ms at p95");
    const level = (rooms: number) =>
      lines.find((l) => new RegExp(`^default\\s+${rooms}\\s+\\d+/${rooms}\\s`).test(l)) ?? '';
    expect(level(1)).toMatch(
      /^default\s+1\s+1\/1\s+2\/2\s+1450\s+1495\s+2380\s+900\s+0\.25\s+22\s+288\s+1600\s+0\.02\s+0\.10\s+yes$/,
    );
    expect(level(5)).toMatch(/4\/5\s+8\/10\s.*NO: 1 job never started; 2 turns failed; e2e p95 3400 ms > 3000 ms$/);
    expect(text).toContain('highest level held: 1 rooms at once; breaks at 5');
    expect(text).toContain('the worker at 5 rooms: error "initialization timed out" ×2');
  });

  it('aligns columns', () => {
    const t = renderText({
      title: 'T',
      columns: ['a', 'num'],
      align: ['l', 'r'],
      rows: [
        ['x', '5'],
        ['long', '123'],
      ],
      notes: ['n'],
    });
    expect(t.split('\n')).toEqual(['T', 'a     num', '----  ---', 'x       5', 'long  123', '  · n']);
  });

  it('formats milliseconds for reading', () => {
    expect(ms(4459.6)).toBe('4460');
    expect(ms(2.14, true)).toBe('+2.1');
    expect(ms(-0.63, true)).toBe('-0.6');
    expect(ms(null)).toBe('–');
  });
});

describe('the Markdown tables', () => {
  it('renders GitHub tables with escaped cells', () => {
    const md = renderMarkdown({
      title: 'T',
      columns: ['a', 'b'],
      align: ['l', 'r'],
      rows: [['x|y', '1']],
      notes: ['note'],
    });
    expect(md).toBe('**T**\n\n| a | b |\n|:---|---:|\n| x\\|y | 1 |\n\n- note');
  });

  it('keeps the README tables compact', () => {
    const [llm] = readmeTables(sampleResults());
    expect(llm?.columns).toEqual(['path', 'TTFT med', 'p95', 'total med', 'TTFT/total', 'verdict']);
    expect(llm?.rows[0]).toEqual(['letta-step', '4500', '4950', '4502', '1.00', 'BUFFERED']);
  });
});

describe('the HTML report', () => {
  const html = renderHtml(sampleResults());

  it('is self-contained: tables and inline SVG charts, no external asset or script', () => {
    expect(html).toMatch(/^<!doctype html>/);
    expect(html.match(/<table>/g)).toHaveLength(6);
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(5);
    expect(html).not.toMatch(/<script|<link |src="http|href="http/);
    for (const caption of [
      'Chunk arrival timeline per path.',
      'Time to first token per path (ms).',
      'End to end per design (ms).',
      'Per-turn stage waterfall.',
    ]) {
      expect(html).toContain(caption);
    }
  });

  it('draws every piece of reply text on the timeline', () => {
    const paths = sampleResults().scenarios.llm!.paths;
    const svg = chunkTimeline(paths);
    const arrivals = paths.reduce((n, p) => n + p.turns.reduce((m, t) => m + t.arrivals.length, 0), 0);
    expect(svg.match(/<circle /g)).toHaveLength(arrivals);
    expect(svg).toContain('>letta-step</text>');
  });

  it('picks round axis scales', () => {
    expect(niceScale(5015)).toEqual({ max: 6000, step: 2000 });
    expect(niceScale(950)).toEqual({ max: 1000, step: 200 });
  });

  it('renders the same from a stored results file', () => {
    const file = join(dir, 'r.json');
    writeResults(file, sampleResults());
    expect(renderHtml(readResults(file))).toBe(html);
    expect(() => readResults(join(dir, 'missing.json'))).toThrow();
    writeResults(join(dir, 'bad.json'), { ...sampleResults(), format: 'other' } as unknown as ReturnType<
      typeof sampleResults
    >);
    expect(() => readResults(join(dir, 'bad.json'))).toThrow(/not a results file/);
    expect(readFileSync(file, 'utf8')).toContain('"format": "livekit-letta-voice-agent/bench@3"');
  });

  it('reads a format-1 results file: its one memory result ran on the file journal', () => {
    const current = sampleResults();
    const [memory] = current.scenarios.memory ?? [];
    const { journal: _journal, ...v1memory } = memory!;
    const file = join(dir, 'v1.json');
    writeFileSync(
      file,
      JSON.stringify({
        ...current,
        format: 'livekit-letta-voice-agent/bench@1',
        scenarios: { ...current.scenarios, memory: v1memory },
      }),
    );
    expect(readResults(file)).toEqual(current);
  });
});
