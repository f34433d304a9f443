/**
 * `--live` against endpoints that speak the protocols: the OpenAI and Letta stand-ins started as
 * separate servers (their command lines), and `npm run bench -- --live` pointed at them through
 * the environment, as it would be pointed at the real services.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchResults } from '../../bench/results.ts';
import { cleanEnv, projectRoot, runNode } from '../helpers/run.ts';

const children: ChildProcessWithoutNullStreams[] = [];
const dir = mkdtempSync(join(tmpdir(), 'bench-live-test-'));

afterAll(async () => {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
        }),
    ),
  );
  rmSync(dir, { recursive: true, force: true });
});

/** Starts a stand-in from its command line and resolves with the URL it prints. */
function startServer(script: string, args: string[]): Promise<string> {
  const child = spawn(process.execPath, [join(projectRoot, script), '--port', '0', ...args], {
    env: cleanEnv(),
    cwd: dir,
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${script} printed no URL: ${out}`)), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${String(code)}`)));
  });
}

describe('npm run bench -- --live', () => {
  it('measures whatever the configuration points at, the same way', async () => {
    const openaiUrl = await startServer('sim/openai.ts', ['--profile', 'instant']);
    const lettaUrl = await startServer('sim/letta.ts', ['--profile', 'instant', '--model-base-url', openaiUrl]);
    const json = join(dir, 'live.json');
    const secret = 'sk-live-test-key-0123456789';
    const run = await runNode(
      [join(projectRoot, 'bench/run.ts'), '--live', '--scenario', 'llm', '--turns', '2', '--json', json, '--quiet'],
      {
        // A directory without a .env, so only these settings count.
        cwd: dir,
        env: cleanEnv({ OPENAI_BASE_URL: openaiUrl, OPENAI_API_KEY: secret, LETTA_BASE_URL: lettaUrl }),
        timeoutMs: 90_000,
      },
    );
    expect(run.stderr).not.toMatch(/Error|failed/);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toMatch(/^Mode: live services from the configuration/);
    for (const p of ['letta-step', 'letta-tokens', 'hybrid', 'openai-direct'])
      expect(run.stdout).toMatch(new RegExp(`^${p}\\s+2\\s`, 'm'));

    const results = JSON.parse(readFileSync(json, 'utf8')) as BenchResults;
    expect(results.mode).toBe('live');
    expect(results.config).toMatchObject({ openai: openaiUrl, letta: `${lettaUrl}/` });
    expect(results.skipped).toEqual([]);
    const paths = results.scenarios.llm?.paths ?? [];
    expect(paths.map((p) => [p.path, p.turns.length, p.errors])).toEqual([
      ['letta-step', 2, 0],
      ['letta-tokens', 2, 0],
      ['hybrid', 2, 0],
      ['openai-direct', 2, 0],
    ]);
    for (const p of paths) for (const t of p.turns) expect(t.replyChars).toBeGreaterThan(0);
    // Live: no stand-in record to compare with, and never a key in the output.
    expect(paths.every((p) => p.vsStandIn === null)).toBe(true);
    expect(readFileSync(json, 'utf8')).not.toContain(secret);
    expect(run.stdout).not.toContain(secret);
    expect(readFileSync(join(dir, 'live.html'), 'utf8')).toContain('<svg');
  });
});
