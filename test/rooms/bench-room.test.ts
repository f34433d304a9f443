/**
 * `npm run bench -- --scenario room`, cut down to one turn and one level: the same recording
 * spoken with and without a real room, then one room at once, with the worker's CPU and memory
 * read while it runs. What is checked is that every figure bench/README.md's room table shows is
 * measured, not what it is.
 */
import { initializeLogger } from '@livekit/agents';
import { afterAll, describe, expect, it } from 'vitest';
import { simBackend } from '../../bench/backend.ts';
import { renderText } from '../../bench/report/format.ts';
import { roomTables } from '../../bench/report/room-tables.ts';
import { runRoomScenario } from '../../bench/scenarios/room.ts';
import { silentProgress } from '../../bench/progress.ts';
import { profiles } from '../../sim/index.ts';
import { SpeechResources } from '../../bench/voice-settings.ts';
import { createLogger } from '../../src/telemetry/logger.ts';

const backend = simBackend({ profile: profiles.seed, seed: 1 });
afterAll(() => backend.close());
// The room-less call runs the agents framework in this process, which wants its logger set up (as the bench does).
initializeLogger({ pretty: false, level: 'silent' });

describe('the bench’s room scenario', () => {
  it('times the same turn with and without a room, then one room with the worker’s CPU and memory', async () => {
    const r = await runRoomScenario(
      backend,
      {
        turns: 1,
        levels: [1],
        maxCalls: 1,
        loadTurns: 1,
        resources: new SpeechResources(),
        logger: createLogger({ level: 'silent', secrets: [] }),
      },
      silentProgress,
    );
    expect(r.notes.filter((n) => /call:/.test(n))).toEqual([]);
    const [without, room] = r.sideBySide;
    expect(without).toMatchObject({ path: 'room-less', turns: 1, errors: 0 });
    expect(room).toMatchObject({ path: 'room', turns: 1, errors: 0 });
    // Both timed to the first audible frame after the same recording's end: a reply, not an echo.
    for (const p of [without, room]) {
      expect(p?.e2e?.median).toBeGreaterThan(200);
      expect(p?.e2e?.median).toBeLessThan(10_000);
    }
    expect(room?.frameworkE2e?.median).toBeGreaterThan(0);
    expect(r.transport.medianMs).toBe((room?.e2e?.median ?? 0) - (without?.e2e?.median ?? 0));

    expect(r.levels).toHaveLength(1);
    const [level] = r.levels;
    expect(level).toMatchObject({ calls: 1, jobsStarted: 1, turns: 1, failedTurns: 0, holds: true });
    expect(r.heldUpTo).toBe(1);
    expect(level?.greeting?.median).toBeGreaterThan(0);
    // A job process runs the call: it uses CPU and holds the agent's models in memory.
    expect(level?.worker.cpuCores).toBeGreaterThan(0);
    expect(level?.worker.cpuPerJobPct).toBeGreaterThan(0);
    expect(level?.worker.rssPerJobMb).toBeGreaterThan(50);
    expect(level?.worker.jobProcesses).toBeGreaterThanOrEqual(1);
    expect(level?.worker.peakRssMb).toBeGreaterThan(level?.worker.rssPerJobMb ?? 0);
    expect(level?.serverCpuCores).toBeGreaterThan(0);
    // Where the job's start went, from the worker's own log lines, and what loading its code costs.
    expect(level?.jobStart?.calls).toBe(1);
    expect(level?.jobStart?.callMs.greetingMs?.median).toBeGreaterThan(0);
    expect(level?.worker.cpuByKindPct?.job).toBeGreaterThan(0);
    const [variant] = r.variants ?? [];
    expect(variant?.jobStart.processes).toBeGreaterThanOrEqual(1);
    expect(variant?.jobStart.moduleLoadedMs?.median).toBeGreaterThan(0);
    expect(variant?.jobStart.prewarmMs.vadMs?.median).toBeGreaterThan(0);
    for (const c of [...(r.imports?.withoutCache ?? []), ...(r.imports?.withCache ?? [])]) {
      expect(c.runs, c.what).toBeGreaterThanOrEqual(3);
      expect(c.rssMb, c.what).toBeGreaterThan(30);
    }

    const text = roomTables(r).map(renderText).join('\n');
    expect(text).toContain('held at every level run (up to 1 rooms at once)');
  });
});
