/**
 * What loading a job's code costs in a fresh Node process, as a job process meets it: time and
 * resident memory after importing nothing, the agents framework alone, and the job module
 * (src/agent.ts: the framework, the plugins and the project). Each is run a few times and the
 * median kept; the first run of a kind may pay for a cold disk cache or an empty compile cache.
 */
import { spawnSync } from 'node:child_process';
import { projectRoot } from '../project-root.ts';
import { summarize } from '../stats.ts';

export interface ImportCost {
  what: string;
  /** Median ms of the import itself, after Node's own start. */
  importMs: number | null;
  /** Median ms from the process's start to its first line of code. */
  bootMs: number | null;
  /** Median resident memory after the import, MB. */
  rssMb: number | null;
  runs: number;
}

const probe = `
const t = performance.now();
await import(process.argv[1]);
process.stdout.write(JSON.stringify({ importMs: performance.now() - t, bootMs: t, rssMb: process.memoryUsage().rss / 2 ** 20 }));
process.exit(0);
`;

export const importTargets: { what: string; specifier: string }[] = [
  { what: 'nothing (node:os)', specifier: 'node:os' },
  { what: '@livekit/agents', specifier: '@livekit/agents' },
  { what: 'the job module (src/agent.ts)', specifier: './src/agent.ts' },
  // Built by the worker at its start (src/worker/bundle.ts); the bench's worker has built it by now
  // or a previous run has, and a run without it reports no figure for this row.
  { what: 'the job bundle (one file)', specifier: './.cache/worker-bundle/job_proc_lazy_main.js' },
];

/** `env` on top of PATH and HOME (NODE_COMPILE_CACHE, say). */
export function measureImports(env: Record<string, string>, runs = 3): ImportCost[] {
  return importTargets.map(({ what, specifier }) => {
    const seen: { importMs: number; bootMs: number; rssMb: number }[] = [];
    for (let i = 0; i < runs; i++) {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe, specifier], {
        cwd: projectRoot,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
        encoding: 'utf8',
        timeout: 60_000,
      });
      try {
        seen.push(JSON.parse(r.stdout) as (typeof seen)[number]);
      } catch {
        // A failed run leaves no figure; the count of runs says so.
      }
    }
    return {
      what,
      importMs: summarize(seen.map((s) => s.importMs))?.median ?? null,
      bootMs: summarize(seen.map((s) => s.bootMs))?.median ?? null,
      rssMb: summarize(seen.map((s) => s.rssMb))?.median ?? null,
      runs: seen.length,
    };
  });
}
