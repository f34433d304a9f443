import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LettaStandIn, startLettaStandIn } from '../../sim/index.ts';
import { observeMemoryWrites } from '../../src/telemetry/memory-metrics.ts';
import { makeTurn, recordingLogger, startWriter, tempDir } from './helpers.ts';

describe('memory metrics observer', () => {
  let standIn: LettaStandIn;
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    standIn = await startLettaStandIn();
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await standIn.close();
    await cleanup();
  });

  it('counts lag per turn, retries, dead letters and queue depth from the writer events alone', async () => {
    const agentId = standIn.store.createAgent({ name: 'caller' }).id;
    await standIn.faults.set({ kind: 'status', status: 503, count: 1, match: { method: 'POST' } });
    const { logger, lines } = recordingLogger();
    const writer = startWriter(standIn, dir, 'archival', logger);
    const metrics = observeMemoryWrites(writer, { logger });
    const depths: number[] = [];
    writer.on('queued', (e) => depths.push(e.queueDepth));

    for (const n of [1, 2, 3]) await writer.submit(makeTurn(agentId, n));
    await writer.submit(makeTurn('agent-not-a-uuid', 4));
    expect((await writer.flush(5000)).drained).toBe(true);

    const snap = metrics.snapshot();
    expect(snap.lagMs).toHaveLength(3);
    expect(snap.lagMs.every((l) => l >= 0 && l < 60_000)).toBe(true);
    expect(snap).toMatchObject({ retries: 1, deadLetters: 1, queueDepth: 0 });
    expect(Math.max(...depths)).toBeGreaterThan(1);
    expect(snap.lagMs).toEqual(writer.stats().lagMs);
    expect(lines.filter((l) => l.event === 'memory_lag').flatMap((l) => l.lagMs as number[])).toEqual(snap.lagMs);

    metrics.stop();
    await writer.submit(makeTurn(agentId, 5));
    await writer.flush(5000);
    expect(metrics.snapshot().lagMs).toHaveLength(3);
    await writer.close();
  });
});
