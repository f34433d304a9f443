/**
 * Dispatch that does not depend on the rest of the machine: the worker reports its own calls
 * against WORKER_MAX_CALLS as its load. With every core kept busy by other processes a caller
 * still gets an agent (the framework's default, machine-wide CPU, reported the worker full and
 * LiveKit's server sent it nothing); at its limit of calls the worker turns calls away, says so
 * once, and takes calls again when one ends.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { type Stage, startStage } from '../../bench/harness/room-stage.ts';

let stage: Stage | undefined;
let spinners: ChildProcess[] = [];
afterEach(async () => {
  await stopSpinners();
  await stage?.close();
  stage = undefined;
});

/** One process per core, each spinning until stopped. */
function startSpinners(): void {
  spinners = Array.from({ length: availableParallelism() }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
  );
}

async function stopSpinners(): Promise<void> {
  await Promise.all(
    spinners.splice(0).map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.exitCode !== null || p.signalCode !== null) return resolve();
          p.once('exit', () => resolve());
          p.kill('SIGKILL');
        }),
    ),
  );
}

/** Share of all cores busy over `ms`, from /proc/stat. */
async function machineBusy(ms: number): Promise<number> {
  const read = () => {
    const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return { idle, total: f.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  await sleep(ms);
  const b = read();
  return 1 - (b.idle - a.idle) / (b.total - a.total);
}

const count = (s: Stage, pattern: RegExp) => s.worker.log.filter((l) => pattern.test(l)).length;

describe('dispatch on a busy machine', () => {
  it('every core saturated by other processes: a caller still gets an agent under npm start', async () => {
    stage = await startStage({ script: 'start', logLevel: 'info', workerEnv: { LIVEKIT_NUM_IDLE_PROCESSES: '1' } });
    const s = stage;
    startSpinners();
    // Well past the framework's 2.5 s load report: machine-wide CPU would now say full (≥ 0.7).
    expect(await machineBusy(5000)).toBeGreaterThan(0.8);
    const caller = await s.call('busy-machine', 'grace');
    await caller.heardSpeech(0, 90_000);
    expect(count(s, /worker is at full capacity/)).toBe(0);
  });

  it('at WORKER_MAX_CALLS it turns the next call away, logs why once, and takes calls again when one ends', async () => {
    stage = await startStage({
      script: 'start',
      logLevel: 'info',
      workerEnv: { WORKER_MAX_CALLS: '1', LIVEKIT_NUM_IDLE_PROCESSES: '1' },
    });
    const s = stage;
    const first = await s.call('limit-1', 'henry');
    await first.heardSpeech(0, 60_000);
    await s.worker.waitForLog(/turning calls away.*WORKER_MAX_CALLS=1/, 30_000);

    const second = await s.call('limit-2', 'iris');
    // No agent comes: the generous wait is for one that would, had the limit not held.
    await sleep(10_000);
    expect(second.room.remoteParticipants.size).toBe(0);
    expect(second.heard).toHaveLength(0);
    await second.leave();

    await first.leave();
    await s.worker.waitForLog(/taking calls again/, 60_000);
    // Once for the whole stretch at the limit.
    expect(count(s, /turning calls away/)).toBe(1);
    const third = await s.call('limit-3', 'jack');
    await third.heardSpeech(0, 60_000);
  });
});
