/**
 * Checks the Dockerfile against the project without a Docker engine: what it copies exists (and is
 * not dropped by .dockerignore), the scripts it runs exist, it starts the way `npm start` does, on
 * the Node major that runs the project (the `node` devDependency), as a non-root user, and the runtime image holds every module the
 * worker, the job entry and the CLIs import.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../helpers/run.ts';

interface Instruction {
  line: number;
  op: string;
  args: string;
}

/** Instructions with continuation lines joined; comment lines dropped (also inside continuations). */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending: { line: number; text: string } | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const continued = line.endsWith('\\');
    const part = continued ? line.slice(0, -1).trim() : line;
    pending = pending ? { line: pending.line, text: `${pending.text} ${part}` } : { line: i + 1, text: part };
    if (continued) return;
    const m = /^(\S+)\s*(.*)$/.exec(pending.text)!;
    out.push({ line: pending.line, op: m[1]!.toUpperCase(), args: m[2]! });
    pending = undefined;
  });
  return out;
}

/** .dockerignore semantics: the last matching pattern wins, `!` re-includes, a matched folder drops its contents. */
function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, '').replace(/\/+$/, ''));
      const source = pattern
        .split(/(\*\*|\*|\?)/)
        .map((t) =>
          t === '**' ? '.*' : t === '*' ? '[^/]*' : t === '?' ? '[^/]' : t.replace(/[.+^${}()|[\]\\]/g, '\\$&'),
        )
        .join('');
      return { negate, re: new RegExp(`^${source}$`) };
    });
  return (path) => {
    const parts = path.split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const rule of rules) if (candidates.some((c) => rule.re.test(c))) ignored = !rule.negate;
    return ignored;
  };
}

const read = (rel: string) => readFileSync(join(projectRoot, rel), 'utf8');
const pkg = JSON.parse(read('package.json')) as {
  devDependencies: { node: string };
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};
const instructions = parseDockerfile(read('Dockerfile'));
const ignored = dockerignore(read('.dockerignore'));
const inContext = (rel: string) => existsSync(join(projectRoot, rel)) && !ignored(rel);

/** Where a path inside a stage came from: a folder of the build context, or made by a command. */
type Origin = { kind: 'context'; rel: string } | { kind: 'made' };
interface Stage {
  name: string | undefined;
  image: string;
  workdir: string;
  user: string | undefined;
  paths: Map<string, Origin>;
  problems: string[];
}

function flagsOf(args: string): { flags: Record<string, string>; rest: string[] } {
  const words = args.split(/\s+/);
  const flags: Record<string, string> = {};
  while (words[0]?.startsWith('--')) {
    const [k, v = ''] = words.shift()!.slice(2).split('=');
    flags[k!] = v;
  }
  return { flags, rest: words };
}

/** True when `abs` exists in the stage: copied there (from a context folder that has it) or made there. */
function stageHas(stage: Stage, abs: string): boolean {
  for (const [at, origin] of stage.paths) {
    if (abs !== at && !abs.startsWith(`${at}/`)) continue;
    if (origin.kind === 'made') return true;
    if (inContext(posix.join(origin.rel, posix.relative(at, abs)) || '.')) return true;
  }
  return false;
}

function buildStages(): Stage[] {
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.op === 'FROM') {
      const m = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args)!;
      const parent = stages.find((s) => s.name === m[1]);
      stages.push({
        name: m[2],
        image: parent ? parent.image : m[1]!,
        workdir: parent ? parent.workdir : '/',
        user: parent?.user,
        paths: new Map(parent?.paths),
        problems: [],
      });
      continue;
    }
    const stage = stages.at(-1)!;
    const where = `line ${ins.line}`;
    if (ins.op === 'WORKDIR') stage.workdir = posix.resolve(stage.workdir, ins.args);
    if (ins.op === 'USER') stage.user = ins.args;
    if (ins.op === 'RUN') {
      if (/\bnpm ci\b/.test(ins.args)) stage.paths.set(posix.join(stage.workdir, 'node_modules'), { kind: 'made' });
      // The worker bundle's builder writes it under .cache/ (src/worker/bundle.ts).
      if (/\bnode src\/worker\/build-bundle\.ts\b/.test(ins.args))
        stage.paths.set(posix.join(stage.workdir, '.cache/worker-bundle'), { kind: 'made' });
      for (const [, script] of ins.args.matchAll(/\bnpm run ([\w:-]+)/g)) {
        if (!(script! in pkg.scripts)) stage.problems.push(`${where}: npm run ${script} is not a package.json script`);
      }
    }
    if (ins.op === 'COPY' || ins.op === 'ADD') {
      const { flags, rest } = flagsOf(ins.args);
      const dest = rest.pop()!;
      const target = posix.resolve(stage.workdir, dest);
      const from = flags.from !== undefined ? stages.find((s) => s.name === flags.from) : undefined;
      if (flags.from !== undefined && from === undefined)
        stage.problems.push(`${where}: no earlier stage ${flags.from}`);
      for (const src of rest) {
        const into = rest.length > 1 || dest.endsWith('/') ? posix.join(target, posix.basename(src)) : target;
        if (from) {
          if (!stageHas(from, posix.resolve(from.workdir, src))) {
            stage.problems.push(`${where}: ${src} is not in stage ${flags.from}`);
          }
          stage.paths.set(into, { kind: 'made' });
        } else {
          const rel = posix.normalize(src).replace(/\/$/, '');
          if (rel !== '.' && !inContext(rel)) stage.problems.push(`${where}: ${src} is missing or in .dockerignore`);
          stage.paths.set(src === '.' ? target : into, { kind: 'context', rel });
        }
      }
    }
  }
  return stages;
}

const stages = buildStages();
const runtime = stages.at(-1)!;
const finalOps = (op: string) => {
  const start = instructions.findLastIndex((i) => i.op === 'FROM');
  return instructions.slice(start).filter((i) => i.op === op);
};

/** Modules loaded at run time by `files`, followed through relative imports; type-only imports are erased. */
function importClosure(files: string[]): { files: Set<string>; packages: Set<string> } {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const queue = [...files];
  while (queue.length > 0) {
    const rel = queue.pop()!;
    if (seen.has(rel)) continue;
    seen.add(rel);
    if (!rel.endsWith('.ts')) continue;
    const code = read(rel);
    const specifiers = [
      ...[...code.matchAll(/^\s*(?:import|export)\s+(type\s+)?[^;'"]*?\bfrom\s+'([^']+)'/gm)]
        .filter((m) => m[1] === undefined)
        .map((m) => m[2]!),
      ...[...code.matchAll(/^\s*import\s+'([^']+)'/gm)].map((m) => m[1]!),
      ...[...code.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!),
    ];
    for (const spec of specifiers) {
      if (spec.startsWith('.')) queue.push(posix.join(dirname(rel), spec));
      else if (!spec.startsWith('node:'))
        packages.add(
          spec
            .split('/')
            .slice(0, spec.startsWith('@') ? 2 : 1)
            .join('/'),
        );
    }
  }
  return { files: seen, packages };
}

describe('Dockerfile', () => {
  it('copies only what exists, from the context or from an earlier stage', () => {
    expect(stages.length).toBeGreaterThan(1);
    expect(stages.flatMap((s) => s.problems)).toEqual([]);
  });

  it('builds every stage on the Node major that runs the project, and runs on Debian slim', () => {
    const major = /\d+/.exec(pkg.devDependencies.node)?.[0];
    for (const s of stages) expect(s.image).toMatch(new RegExp(`^node:${major}(?:[.-]|$)`));
    expect(runtime.image).toMatch(/-slim$/);
    expect(runtime.image).not.toMatch(/alpine/);
  });

  it('starts the worker the way `npm start` does', () => {
    const cmd = finalOps('CMD').at(-1);
    expect(cmd).toBeDefined();
    const args = cmd!.args.startsWith('[') ? (JSON.parse(cmd!.args) as string[]) : [cmd!.args];
    const command = args.join(' ');
    expect(['npm start', 'npm run start', pkg.scripts.start]).toContain(command);
    expect(finalOps('ENTRYPOINT')).toEqual([]);
  });

  it('type-checks while building, with the `build` script LiveKit Cloud expects', () => {
    expect(pkg.scripts.build).toBeDefined();
    expect(instructions.some((i) => i.op === 'RUN' && /\bnpm run build\b/.test(i.args))).toBe(true);
  });

  it('runs as a non-root user and exposes the health port', () => {
    expect(runtime.user).toBeDefined();
    expect(runtime.user!.split(':')[0]).not.toMatch(/^(root|0)$/);
    expect(finalOps('EXPOSE').map((i) => i.args)).toContain('8081');
  });

  it('installs production dependencies only into the runtime image', () => {
    const origin = runtime.paths.get('/app/node_modules');
    expect(origin?.kind).toBe('made');
    const copy = finalOps('COPY').find((i) => /\/node_modules\s/.test(`${i.args} `));
    const producer = /--from=(\S+)/.exec(copy?.args ?? '')?.[1];
    const producerStart = instructions.findIndex(
      (i) => i.op === 'FROM' && new RegExp(`\\bAS\\s+${producer}$`, 'i').test(i.args),
    );
    const producerRuns = instructions
      .slice(producerStart + 1)
      .filter((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args));
    expect(producerRuns[0]?.args).toMatch(/--omit=dev/);
  });

  it('holds every module the worker, the job entry and the CLIs load, with their packages as dependencies', () => {
    const { files, packages } = importClosure(['src/main.ts', 'src/agent.ts', 'src/cli/chat.ts', 'src/cli/token.ts']);
    // `chat` loads the stand-ins (sim/) only when asked for them, and says so when they are absent.
    const needed = [...files].filter((rel) => !rel.startsWith('sim/'));
    const missing = needed.filter((rel) => !stageHas(runtime, posix.join('/app', rel)));
    expect(missing).toEqual([]);
    for (const rel of ['package.json', '.npmrc']) expect(stageHas(runtime, `/app/${rel}`), rel).toBe(true);
    // esbuild is optional: without it (npm ci --omit=dev) the worker runs from src/ unbundled, and says so.
    const optional = ['esbuild'];
    expect([...packages].filter((p) => !(p in pkg.dependencies) && !optional.includes(p))).toEqual([]);
  });
});

describe('runtime image contents', () => {
  it('holds the product only: no stand-ins, bench or tests', () => {
    for (const rel of ['sim/index.ts', 'bench/run.ts', 'test/config.test.ts'])
      expect(stageHas(runtime, `/app/${rel}`), rel).toBe(false);
  });
});

describe('.dockerignore', () => {
  it('keeps secrets, local state and host dependencies out of the build context', () => {
    for (const path of [
      '.env',
      '.env.local',
      '.env.production',
      'node_modules',
      'node_modules/zod/package.json',
      'data/journal/x',
    ]) {
      expect(ignored(path), path).toBe(true);
    }
    for (const path of ['src/main.ts', 'package-lock.json', '.npmrc', 'sim/openai.ts'])
      expect(ignored(path), path).toBe(false);
  });
});
