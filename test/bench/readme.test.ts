import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommand } from '../../bench/command.ts';
import {
  benchReadme,
  readmeMarkers,
  readmeSection,
  replaceBetweenMarkers,
  updateReadme,
} from '../../bench/report/readme.ts';
import { projectRoot } from '../../bench/project-root.ts';
import { newestResults, writeResults } from '../../bench/results.ts';
import { sampleResults } from './sample-results.ts';

const dir = mkdtempSync(join(tmpdir(), 'bench-readme-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const { start, end } = readmeMarkers;
const readme = [
  '# Project',
  '',
  'Intro.',
  '',
  '## Benchmark',
  '',
  start,
  'old table',
  end,
  '',
  '## Deploy',
  'Untouched.',
  '',
].join('\n');

describe('bench/README.md regeneration', () => {
  it('replaces only what lies between the markers', () => {
    const out = replaceBetweenMarkers(readme, 'NEW');
    expect(out).toBe(
      ['# Project', '', 'Intro.', '', '## Benchmark', '', start, 'NEW', end, '', '## Deploy', 'Untouched.', ''].join(
        '\n',
      ),
    );
    // Idempotent: a second run changes nothing.
    expect(replaceBetweenMarkers(out, 'NEW')).toBe(out);
  });

  it('writes to bench/README.md by default, which holds one pair of markers', () => {
    expect(benchReadme).toBe(join(projectRoot, 'bench', 'README.md'));
    expect(parseCommand(['readme'])).toEqual({ verb: 'readme', file: null, readme: benchReadme });
    const text = readFileSync(benchReadme, 'utf8');
    expect(() => replaceBetweenMarkers(text, 'x')).not.toThrow();
  });

  it('refuses a README without exactly one pair of markers in order', () => {
    expect(() => replaceBetweenMarkers('# no markers', 'x')).toThrow(/no <!-- bench:start -->/);
    expect(() => replaceBetweenMarkers(`${end}\n${start}`, 'x')).toThrow(/comes before/);
    expect(() => replaceBetweenMarkers(`${start}${end}${start}${end}`, 'x')).toThrow(/more than one/);
  });

  it('names the profile, the machine and the source file next to the tables', () => {
    const section = readmeSection(sampleResults(), join(projectRoot, 'bench/results/2026-01-02T03-04-05Z-seed.json'));
    expect(section).toMatch(/^Measured 2026-01-02 against built-in stand-ins, latency profile `seed`/);
    expect(section).toContain('on Test CPU, 2 cores');
    expect(section).toContain('From `bench/results/2026-01-02T03-04-05Z-seed.json`');
    expect(section).toContain('| letta-step | 4500 |');
    // It lands in bench/README.md itself: metric definitions are a heading of that file.
    expect(section).toContain('Metric definitions: [Scenarios](#scenarios).');
    expect(section).not.toContain(start);
  });

  it('updates a README file in place, leaving the rest byte for byte', () => {
    const file = join(dir, 'README.md');
    writeFileSync(file, readme);
    const results = join(dir, 'r.json');
    writeResults(results, sampleResults());
    updateReadme(file, sampleResults(), results);
    const after = readFileSync(file, 'utf8');
    const [head, rest] = after.split(start);
    expect(head).toBe(readme.split(start)[0]);
    expect(rest?.split(end)[1]).toBe(readme.split(end)[1]);
    expect(after).toContain('**Memory: background writes to Letta (ms)**');
  });

  it('finds the newest results file by its time-stamped name', () => {
    const d = join(dir, 'results');
    for (const name of [
      '2026-01-02T03-04-05Z-seed.json',
      '2026-03-01T00-00-00Z-instant.json',
      '2026-02-01T00-00-00Z-live.json',
    ]) {
      writeResults(join(d, name), sampleResults());
    }
    expect(newestResults(d)).toBe(join(d, '2026-03-01T00-00-00Z-instant.json'));
    expect(newestResults(join(dir, 'nothing-here'))).toBeNull();
  });
});
