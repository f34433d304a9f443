/**
 * The room scenario's parts that need no room: its load levels, its options, why it is skipped
 * where it cannot run, and the /proc reading behind its CPU and memory figures. The scenario
 * itself runs against the real server in the room tier (test/rooms/bench-room.test.ts).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { simBackend } from '../../bench/backend.ts';
import { plan } from '../../bench/cli.ts';
import { needsRooms, parseCommand } from '../../bench/command.ts';
import { countProcesses, watchProcesses } from '../../bench/harness/process-usage.ts';
import { loadLevels } from '../../bench/scenarios/room.ts';
import { warningsIn } from '../../bench/scenarios/room-level.ts';
import { profiles } from '../../sim/index.ts';

const saved = { ...process.env };
afterEach(() => {
  for (const k of ['LIVEKIT_SERVER_BIN', 'LIVEKIT_SERVER_CACHE', 'ROOMS_NODE_IP', 'ROOMS_UNAVAILABLE', 'PATH']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe('room load levels', () => {
  it('runs the given levels, then doubles up to the ceiling', () => {
    expect([...loadLevels([1, 5, 10, 20], 80)]).toEqual([1, 5, 10, 20, 40, 80]);
    expect([...loadLevels([1, 5, 10, 20], 30)]).toEqual([1, 5, 10, 20]);
    expect([...loadLevels([1, 5, 10, 20], 7)]).toEqual([1, 5]);
    expect([...loadLevels([3], 13)]).toEqual([3, 6, 12]);
  });
});

describe('the worker’s warnings at a load level', () => {
  it('counts warn and error lines by message, most frequent first, and skips the rest', () => {
    const line = (level: number, msg: string) => JSON.stringify({ level, time: 1, pid: 7, msg });
    expect(
      warningsIn([
        line(30, 'registered worker'),
        line(40, 'event loop blocked'),
        'not json',
        '{"level":50,',
        line(50, 'job failed'),
        line(40, 'event loop blocked'),
      ]),
    ).toEqual([
      { level: 'warn', msg: 'event loop blocked', count: 2 },
      { level: 'error', msg: 'job failed', count: 1 },
    ]);
  });
});

describe('the room options', () => {
  it('are parsed, and only a run of the room scenario on the stand-ins needs a room network', () => {
    const cmd = parseCommand([
      '--scenario',
      'room',
      '--room-turns',
      '3',
      '--room-levels',
      '2,4',
      '--room-max-calls',
      '8',
      '--room-idle-processes',
      '6',
    ]);
    expect(cmd.verb === 'run' && cmd.options).toMatchObject({
      roomTurns: 3,
      roomLevels: [2, 4],
      roomMaxCalls: 8,
      roomIdleProcesses: 6,
    });
    expect(parseCommand([]).verb === 'run' && parseCommand([])).toMatchObject({ options: { roomIdleProcesses: null } });
    // No flags: the headline figures only; --full: every scenario the mode can run but room.
    expect(parseCommand([])).toMatchObject({
      options: { scenarios: ['llm', 'voice'], voiceSettings: ['default'], pauseClips: 0 },
    });
    expect(parseCommand(['--full'])).toMatchObject({
      options: { scenarios: null, voiceSettings: ['baseline', 'default'], pauseClips: 10 },
    });
    expect(parseCommand(['--full', '--scenario', 'llm'])).toMatchObject({ options: { scenarios: ['llm'] } });
    expect(needsRooms(['--scenario', 'voice,room'])).toBe(true);
    expect(needsRooms(['--scenario', 'room', '--live'])).toBe(false);
    expect(needsRooms([])).toBe(false);
    expect(needsRooms(['--scenario', 'nonsense'])).toBe(false);
    expect(() => parseCommand(['--room-levels', '1,zero'])).toThrow(/--room-levels must be a positive integer/);
  });

  it('take loss levels and a blackout for the room scenario only, and refuse what makes no sense', () => {
    const cmd = parseCommand(['--scenario', 'room', '--loss', '0, 2,10', '--blackout', '3']);
    expect(cmd.verb === 'run' && cmd.options).toMatchObject({ roomLoss: [0, 2, 10], roomBlackoutSeconds: 3 });
    expect(parseCommand([]).verb === 'run' && parseCommand([])).toMatchObject({
      options: { roomLoss: [], roomBlackoutSeconds: null },
    });
    expect(() => parseCommand(['--loss', '5'])).toThrow(/apply to the room scenario/);
    expect(() => parseCommand(['--scenario', 'room', '--loss', '101'])).toThrow(/0 to 100/);
    expect(() => parseCommand(['--scenario', 'room', '--loss', '2.5'])).toThrow(/whole percentages/);
    expect(() => parseCommand(['--scenario', 'room', '--blackout', '0'])).toThrow(/above 0 and at most 30/);
  });

  it('leave the room scenario out of a run with no --scenario', () => {
    const { run } = plan(simBackend({ profile: profiles.seed, seed: 1 }), null);
    expect(run).toEqual(['llm', 'voice', 'memory', 'load']);
  });
});

describe('the room scenario where it cannot run', () => {
  const backend = simBackend({ profile: profiles.seed, seed: 1 });

  it('says the room network is missing', () => {
    delete process.env.ROOMS_NODE_IP;
    process.env.ROOMS_UNAVAILABLE = 'cannot create a network namespace for WebRTC (unshare --net, ip): denied';
    expect(plan(backend, ['room']).skipped).toEqual([
      { scenario: 'room', reason: 'cannot create a network namespace for WebRTC (unshare --net, ip): denied' },
    ]);
  });

  it('says there is no server binary, and how to get one', () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-livekit-'));
    try {
      process.env.ROOMS_NODE_IP = '10.77.0.1';
      delete process.env.LIVEKIT_SERVER_BIN;
      process.env.LIVEKIT_SERVER_CACHE = empty;
      process.env.PATH = '/usr/bin:/bin';
      const [skip] = plan(backend, ['room']).skipped;
      expect(skip?.reason).toMatch(
        /^no livekit-server 1\.13\.5 on PATH or in .*no-livekit-.*bash scripts\/livekit-server\.sh builds it/,
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('is skipped with --live', () => {
    expect(plan({ ...backend, mode: 'live' }, ['room']).skipped[0]?.reason).toMatch(/stand-ins only/);
  });
});

describe('process usage from /proc', () => {
  it('counts CPU time and peak memory of a process, including one born while watching', async () => {
    const usage = watchProcesses(
      ({ pid, cmdline }) => (pid === process.pid ? 'self' : cmdline.includes('busy-child-marker') ? 'child' : null),
      100,
    );
    // Busy for a stretch of CPU time, not of wall time: on busy cores the bounds below still hold.
    const child = spawn(process.execPath, [
      '-e',
      'while (process.cpuUsage().user < 600_000); setTimeout(() => {}, 800); // busy-child-marker',
    ]);
    const from = process.cpuUsage();
    while (process.cpuUsage(from).user < 400_000);
    expect(countProcesses(({ cmdline }) => (cmdline.includes('busy-child-marker') ? 'child' : null))).toEqual({
      child: 1,
    });
    await new Promise((resolve) => child.once('exit', resolve));
    const u = usage.stop();
    expect(u.byKind.self?.processes).toBe(1);
    expect(u.byKind.self?.cpuSeconds).toBeGreaterThan(0.3);
    expect(u.byKind.self?.peakRssMb[0]).toBeGreaterThan(20);
    expect(u.byKind.child?.processes).toBe(1);
    // Born after watching began, so all of its CPU counts, from its start.
    expect(u.byKind.child?.cpuSeconds).toBeGreaterThan(0.5);
    expect(u.wallMs).toBeGreaterThan(800);
  });
});
