/** Runs a project command in a child process with a controlled environment (no inherited keys). */
import { spawn } from 'node:child_process';
import { projectRoot } from '../../bench/project-root.ts';

export { projectRoot };

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Node's compile cache, when the test run sets one (vitest.config.ts does): a child started with
 * it skips compiling what an earlier child already compiled. It changes how fast a process starts,
 * nothing it does.
 */
export const compileCacheEnv: Record<string, string> = process.env.NODE_COMPILE_CACHE
  ? { NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE }
  : {};

/** Environment with only what a process needs to run, plus the given settings. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...compileCacheEnv, ...extra };
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** SIGKILL after this long (default 60 s). */
  timeoutMs?: number;
  input?: string;
  /** SIGTERM after this long. */
  killAfterMs?: number;
  /** SIGTERM as soon as the output so far (stdout and stderr together) satisfies this. */
  stopWhen?: (output: string) => boolean;
}

export function runNode(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // process.execPath: the same Node the tests run on (the project's Node 24).
    const child = spawn(process.execPath, args, {
      cwd: opts.cwd ?? projectRoot,
      env: opts.env ?? cleanEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let output = '';
    let stopping = false;
    const seen = (d: Buffer) => {
      if (!opts.stopWhen || stopping) return;
      output += d.toString();
      if (opts.stopWhen(output)) {
        stopping = true;
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      seen(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      seen(d);
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
    const limit = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    const soft = opts.killAfterMs ? setTimeout(() => child.kill('SIGTERM'), opts.killAfterMs) : undefined;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      clearTimeout(soft);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
