/**
 * Which way imports point (DESIGN): the product (src/) never imports the bench or the tests, and
 * reaches the stand-ins only by a dynamic import where a CLI is asked for one; the stand-ins
 * (sim/) import nothing of the product, the bench or the tests; everything else reaches the
 * stand-ins through their one entry, sim/index.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../helpers/run.ts';

interface Import {
  file: string;
  target: string;
  dynamic: boolean;
}

function tsFiles(dir: string): string[] {
  return readdirSync(join(projectRoot, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

function importsOf(file: string): Import[] {
  const code = readFileSync(join(projectRoot, file), 'utf8');
  const found: Import[] = [];
  const add = (spec: string, dynamic: boolean): void => {
    if (spec.startsWith('.'))
      found.push({ file, target: relative(projectRoot, resolve(projectRoot, dirname(file), spec)), dynamic });
  };
  // `import type` is erased before the code runs: it binds nothing at run time.
  for (const m of code.matchAll(/^\s*(?:import|export)\s+(type\s+)?[^;'"]*?\bfrom\s+'([^']+)'/gm))
    if (m[1] === undefined) add(m[2]!, false);
  for (const m of code.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) add(m[1]!, true);
  return found;
}

const show = (list: Import[]): string[] => list.map((i) => `${i.file} -> ${i.target}${i.dynamic ? ' (dynamic)' : ''}`);

describe('import boundaries', () => {
  it('src/ imports no bench or test code, and loads the stand-ins only on demand', () => {
    const bad = tsFiles('src')
      .flatMap(importsOf)
      .filter((i) => /^(bench|test)\//.test(i.target) || (i.target.startsWith('sim/') && !i.dynamic));
    expect(show(bad)).toEqual([]);
  });

  it('sim/ imports nothing outside itself', () => {
    expect(
      show(
        tsFiles('sim')
          .flatMap(importsOf)
          .filter((i) => !i.target.startsWith('sim/')),
      ),
    ).toEqual([]);
  });

  it('everything outside sim/ reaches the stand-ins through sim/index.ts', () => {
    const outside = [...tsFiles('src'), ...tsFiles('bench'), ...tsFiles('test')];
    const bad = outside.flatMap(importsOf).filter((i) => i.target.startsWith('sim/') && i.target !== 'sim/index.ts');
    expect(show(bad)).toEqual([]);
  });
});
