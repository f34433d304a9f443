/**
 * The benchmark's results tables in bench/README.md, regenerated from a results file between two
 * markers. Only the text between the markers changes; the rest of the file is never touched.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { projectRoot } from '../project-root.ts';
import type { BenchResults } from '../results.ts';
import { duration, renderMarkdown } from './format.ts';
import { machineLine, readmeTables } from './tables.ts';

/** Where `npm run bench -- readme` puts the tables unless `--readme` says otherwise. */
export const benchReadme = join(projectRoot, 'bench', 'README.md');

export const readmeMarkers = { start: '<!-- bench:start -->', end: '<!-- bench:end -->' } as const;

export function readmeSection(r: BenchResults, resultsPath: string): string {
  const source = relative(projectRoot, resultsPath) || resultsPath;
  const where =
    r.mode === 'sim'
      ? `built-in stand-ins, latency profile \`${r.profile.name}\` (${r.profile.description.replace(/\.$/, '')}), seed ${r.seed}`
      : 'live services from the configuration';
  return [
    `Measured ${r.date.slice(0, 10)} against ${where}, on ${machineLine(r)}; the run took ${duration(r.wallTimeMs)}.`,
    `From \`${source}\`; regenerate with \`npm run bench\` then \`npm run bench -- readme\`. Metric definitions: [Scenarios](#scenarios).`,
    '',
    ...readmeTables(r).flatMap((t) => [renderMarkdown(t), '']),
  ]
    .join('\n')
    .trimEnd();
}

/** Replaces what lies between the markers; throws when they are missing or out of order. */
export function replaceBetweenMarkers(text: string, body: string): string {
  const start = text.indexOf(readmeMarkers.start);
  const end = text.indexOf(readmeMarkers.end);
  if (start < 0 || end < 0) throw new Error(`the README has no ${readmeMarkers.start} … ${readmeMarkers.end} markers`);
  if (end < start) throw new Error(`${readmeMarkers.end} comes before ${readmeMarkers.start} in the README`);
  if (text.indexOf(readmeMarkers.start, start + 1) >= 0 || text.indexOf(readmeMarkers.end, end + 1) >= 0) {
    throw new Error('the README has more than one pair of bench markers');
  }
  return `${text.slice(0, start + readmeMarkers.start.length)}\n${body}\n${text.slice(end)}`;
}

export function updateReadme(readmePath: string, r: BenchResults, resultsPath: string): void {
  const before = readFileSync(readmePath, 'utf8');
  const after = replaceBetweenMarkers(before, readmeSection(r, resultsPath));
  if (after !== before) writeFileSync(readmePath, after);
}
