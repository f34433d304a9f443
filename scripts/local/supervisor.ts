/**
 * The processes and stand-ins `npm run local` starts, and how it stops them: each child in a process
 * group of its own with its output in a log file, the groups recorded on disk so that a run killed
 * outright (SIGKILL) is cleaned up by the next one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StandIn } from '../../sim/index.ts';
import { fail, rel, status } from './console.ts';
import type { Env } from './plan.ts';

export interface Child {
  name: string;
  proc: ChildProcess;
  /** How it is asked to stop (its whole process group is signalled). */
  stopSignal: NodeJS.Signals;
  exited: Promise<void>;
}

export interface SupervisorOptions {
  /** The children's working directory. */
  root: string;
  logDir: string;
  /** Where this run's process groups are recorded for the next run. */
  groupsFile: string;
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
}

function signalGroup(c: Child, sig: NodeJS.Signals | 0): boolean {
  if (!c.proc.pid) return false;
  try {
    process.kill(-c.proc.pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Its stop signal to the whole group, again after 3 s (LiveKit's server stops at once on a second), SIGKILL after 15 s. */
async function stopChild(c: Child): Promise<void> {
  signalGroup(c, c.stopSignal);
  const again = setTimeout(() => signalGroup(c, c.stopSignal), 3000);
  const deadline = Date.now() + 15_000;
  // The group, not only its leader: the worker's job and inference processes must go too.
  while (signalGroup(c, 0) && Date.now() < deadline) await sleep(100);
  clearTimeout(again);
  signalGroup(c, 'SIGKILL');
  await c.exited;
}

export class Supervisor {
  readonly children: Child[] = [];
  readonly standIns: StandIn[] = [];
  stopping = false;
  readonly #o: SupervisorOptions;
  readonly #groups: { pgid: number; cmdline: string }[] = [];

  constructor(opts: SupervisorOptions) {
    this.#o = opts;
  }

  logPath(name: string): string {
    return join(this.#o.logDir, `${name}.log`);
  }

  logFile(name: string): { path: string; fd: number } {
    const path = this.logPath(name);
    return { path, fd: openSync(path, 'w') };
  }

  /** A child in a process group of its own, stdout and stderr to its log file (and to `onLine`). */
  startChild(
    name: string,
    cmd: string,
    argv: string[],
    env: Env,
    log: string,
    stopSignal: NodeJS.Signals,
    onLine?: (line: string) => void,
  ): Child {
    const { fd } = this.logFile(log);
    const proc = spawn(cmd, argv, {
      cwd: this.#o.root,
      env: env,
      stdio: ['ignore', onLine ? 'pipe' : fd, onLine ? 'pipe' : fd],
      detached: true,
    });
    if (onLine) {
      const lines = (stream: NodeJS.ReadableStream | null) => {
        let rest = '';
        stream?.on('data', (d: Buffer) => {
          writeFileSync(fd, d);
          const got = (rest + d.toString()).split('\n');
          rest = got.pop() ?? '';
          for (const l of got) onLine(l);
        });
      };
      lines(proc.stdout);
      lines(proc.stderr);
    }
    // 'close', not 'exit': output still in the pipes is written before the log file closes.
    const exited = new Promise<void>((resolve) =>
      proc.once('close', (code, signal) => {
        closeSync(fd);
        if (!this.stopping) status(name, `exited (${signal ?? `code ${code}`}): see ${rel(this.logPath(log))}`);
        resolve();
      }),
    );
    if (proc.pid) this.#recordGroup(proc.pid, [cmd, ...argv].join(' '));
    const child = { name, proc, stopSignal, exited };
    this.children.push(child);
    return child;
  }

  /** Stops what an earlier run killed outright left running, if it is still the same command. */
  async stopLeftovers(): Promise<void> {
    const { groupsFile } = this.#o;
    if (!existsSync(groupsFile)) return;
    let left: { pgid: number; cmdline: string }[] = [];
    try {
      left = JSON.parse(readFileSync(groupsFile, 'utf8')) as typeof left;
    } catch {
      // An unreadable file names nothing.
    }
    for (const g of left) {
      // Same pid and the same command: still the earlier run's process, not a reused pid.
      if (cmdlineOf(g.pgid) !== g.cmdline) continue;
      status('leftovers', `stopping process group ${g.pgid} of an earlier run (${g.cmdline.slice(0, 60)})`);
      try {
        process.kill(-g.pgid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    await sleep(500);
    this.forgetGroups();
  }

  /** Stops every child (the last started first), then the stand-ins. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    for (const c of this.children.splice(0).reverse()) await stopChild(c);
    for (const s of this.standIns.splice(0).reverse()) await s.close().catch(() => undefined);
  }

  /** Nothing of this run is left for the next one to stop. */
  forgetGroups(): void {
    writeFileSync(this.#o.groupsFile, '[]');
  }

  /** Polls `check` until it gives a value; fails when `child` exits first or time runs out. */
  async until<T>(
    part: string,
    what: string,
    check: () => Promise<T | undefined>,
    timeoutMs: number,
    child?: Child,
    log?: string,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let gone = false;
    void child?.exited.then(() => (gone = true));
    for (;;) {
      const v = await check().catch(() => undefined);
      if (v !== undefined) return v;
      const see = log ? `; see ${rel(this.logPath(log))}` : '';
      if (gone) fail(part, `exited before ${what}${see}`);
      if (Date.now() > deadline) fail(part, `no ${what} within ${timeoutMs / 1000} s${see}`);
      await sleep(250);
    }
  }

  #recordGroup(pgid: number, cmdline: string): void {
    this.#groups.push({ pgid, cmdline });
    writeFileSync(this.#o.groupsFile, JSON.stringify(this.#groups));
  }
}
