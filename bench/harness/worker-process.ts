/**
 * The worker as a user starts it: `npm run dev` or `npm start` in the project folder, a real child
 * process (npm, then Node 24 running src/main.ts, then its job processes), configured only by its
 * environment.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { settings } from '../../src/settings.ts';
import { projectRoot } from '../project-root.ts';

export interface WorkerProcess {
  /** The process group of npm, the worker, its job processes and its inference process. */
  processGroup: number;
  /** stdout and stderr lines, in order. */
  log: string[];
  /** Resolves once the worker has registered with the server `count` times in all (1 = first start). */
  registered(count?: number, timeoutMs?: number): Promise<void>;
  /** Resolves when a log line matches, counting lines from `from`. */
  waitForLog(pattern: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  /** Resolves with how the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * Signals the worker's main process (src/main.ts), as a process manager that runs
   * `node src/main.ts start` does (the Dockerfile's command). npm itself is no go-between for
   * this: on SIGTERM it exits at once without waiting for the worker. Needs `npm start`, whose
   * JSON log lines carry the pid.
   */
  signalWorker(sig: NodeJS.Signals): void;
  /** The pids of the worker's job processes (not its inference process), from `ps`. */
  jobProcesses(): number[];
  /** The pid of the job process serving `room`, from its own log lines; the others are warm and idle. */
  jobProcessOf(room: string): number | undefined;
  /** SIGKILL to the whole process group at once: the worker, its job and inference processes (a crash). */
  crash(): void;
  /** SIGINT to the whole process group, then SIGKILL to whatever of it lingers; safe to call after it has exited. */
  stop(): Promise<void>;
}

/**
 * Every setting the project reads is passed, blank when not given: blank counts as unset, and a
 * variable that is present is never overridden by a developer's `.env`, so the test alone decides.
 */
function workerEnv(given: Record<string, string>): NodeJS.ProcessEnv {
  const blank = Object.fromEntries(Object.keys(settings).map((k) => [k, '']));
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...blank, ...given };
}

export function startWorker(script: 'dev' | 'start', env: Record<string, string>): WorkerProcess {
  const proc: ChildProcess = spawn('npm', ['run', script], {
    cwd: projectRoot,
    env: workerEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so that stop() reaches npm, the worker and its job processes alike.
    detached: true,
  });
  const log: string[] = [];
  const listeners = new Set<() => void>();
  const keep = (d: Buffer) => {
    log.push(...d.toString().split('\n').filter(Boolean));
    for (const l of listeners) l();
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  // Waiters give up once the output has ended ('close': exited, and every line it printed read), so a
  // worker that stopped on a bad setting fails the wait at once with its last lines, not at the timeout.
  let done = false;
  proc.once('close', () => {
    done = true;
    for (const l of listeners) l();
  });

  const waitFor = <T>(check: () => T | undefined, timeoutMs: number, what: string) =>
    new Promise<T>((resolve, reject) => {
      const test = () => {
        const found = check();
        if (found !== undefined) {
          finish();
          resolve(found);
        } else if (done) {
          finish();
          reject(new Error(`worker exited while waiting for ${what}:\n${log.slice(-30).join('\n')}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`worker: no ${what} within ${timeoutMs} ms:\n${log.slice(-30).join('\n')}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        listeners.delete(test);
      };
      listeners.add(test);
      test();
    });

  const waitForLog = (pattern: RegExp, timeoutMs = 60_000, from = 0) =>
    waitFor(() => log.slice(from).find((l) => pattern.test(l)), timeoutMs, `log line ${pattern}`);

  return {
    processGroup: proc.pid ?? 0,
    log,
    exited,
    registered: (count = 1, timeoutMs = 60_000) =>
      waitFor(
        () => (log.filter((l) => l.includes('registered worker')).length >= count ? true : undefined),
        timeoutMs,
        `registration #${count}`,
      ).then(() => undefined),
    waitForLog,
    signalWorker: (sig) => {
      const line = log.find((l) => l.includes('registered worker'));
      const pid = line?.startsWith('{') ? (JSON.parse(line) as { pid?: unknown }).pid : undefined;
      if (typeof pid !== 'number') throw new Error('no pid in the registration line: signalWorker needs npm start');
      process.kill(pid, sig);
    },
    jobProcesses: () => {
      const rows = execFileSync('ps', ['-e', '-o', 'pid=,pgid=,args='], { encoding: 'utf8' }).split('\n');
      return rows
        .map((r) => r.trim().split(/\s+/))
        .filter(([, pgid, ...args]) => Number(pgid) === proc.pid && args.join(' ').includes('job_proc_lazy_main'))
        .map(([pid]) => Number(pid));
    },
    jobProcessOf: (room) => {
      const line = log.find((l) => l.startsWith('{') && l.includes(`"room":"${room}"`));
      const pid = line ? (JSON.parse(line) as { pid?: unknown }).pid : undefined;
      return typeof pid === 'number' ? pid : undefined;
    },
    crash: () => process.kill(-(proc.pid ?? 0), 'SIGKILL'),
    stop: async () => {
      const pgid = -(proc.pid ?? 0);
      const group = (sig: NodeJS.Signals | 0): boolean => {
        try {
          process.kill(pgid, sig);
          return true;
        } catch {
          return false;
        }
      };
      // The whole group, not just npm: npm may be gone already (it exits at once on a signal),
      // and the worker, its job processes and its inference process must not outlive the test.
      group('SIGINT');
      const deadline = Date.now() + 15_000;
      while (group(0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      group('SIGKILL');
      await exited;
    },
  };
}
