/**
 * The call rescue when LiveKit's API fails after a lapsed lease was claimed (the leases in a real
 * redis-server on 127.0.0.1): it tries again with back-off until another agent is dispatched, never
 * dispatches twice when an attempt's answer was lost, and gives up after a bounded number of tries
 * with one error line. LiveKit's API is a double that fails on cue: a real server cannot be made to
 * fail one call in the middle of a rescue, and the room tier runs the rescue against the real one
 * (test/rooms/worker-faults.test.ts).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRedis, startRedis } from '../../bench/redis-server.ts';
import type { CallRecord } from '../../src/calls/call-leases.ts';
import { CallRescue } from '../../src/calls/call-rescue.ts';
import { RedisCallLeases } from '../../src/calls/redis-call-leases.ts';
import { rescueOf } from '../../src/calls/rescue-metadata.ts';
import type { RescueRoomApi } from '../../src/calls/rescue-room-api.ts';
import { ERROR, WARN, recordingLogger } from '../memory/helpers.ts';

const LEASE_MS = 400;
const DELAYS = [20, 40, 80];

/** LiveKit's API with a caller and a dead agent in every room; its calls fail while `failing` says so. */
class FailingApi implements RescueRoomApi {
  readonly dispatches: { room: string; metadata: string }[] = [];
  attempts = 0;
  listFailures = 0;
  /** Dispatches that fail; with `made`, the dispatch is made and only its answer is lost. */
  dispatchFailures = 0;
  made = false;

  async participants(room: string): Promise<string[]> {
    if (this.listFailures > 0) {
      this.listFailures--;
      throw new Error('connect ECONNREFUSED (listParticipants)');
    }
    return [`caller-${room}`, `agent-${room}`];
  }
  async removeParticipant(): Promise<void> {}
  async dispatchMetadata(room: string): Promise<string[]> {
    return this.dispatches.filter((d) => d.room === room).map((d) => d.metadata);
  }
  async dispatch(room: string, _agentName: string, metadata: string): Promise<string> {
    this.attempts++;
    if (this.dispatchFailures > 0) {
      this.dispatchFailures--;
      if (this.made) this.dispatches.push({ room, metadata });
      throw new Error('twirp error unavailable (createDispatch)');
    }
    this.dispatches.push({ room, metadata });
    return `AD_${this.dispatches.length}`;
  }
}

const call = (room: string, extra: Partial<CallRecord> = {}): CallRecord => ({
  room,
  job: `job-${room}`,
  caller: `caller-${room}`,
  agentIdentity: `agent-${room}`,
  agentName: '',
  ...extra,
});

let redis: LocalRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

const rescues: CallRescue[] = [];
afterEach(async () => {
  for (const r of rescues.splice(0)) await r.stop();
});

/** A job that held the call's lease and died (its renewals stopped), then one rescuer's sweep. */
async function lapseAndSweep(api: FailingApi, record: CallRecord) {
  const prefix = `rescue-${Math.random()}`;
  const { logger, lines } = recordingLogger();
  const job = new RedisCallLeases({ url: redis.url, leaseMs: LEASE_MS, logger, prefix });
  job.hold(record).update({ user: 'Can you hear me?', userAt: 7 });
  await new Promise((r) => setTimeout(r, 100));
  await job.close();
  const leases = new RedisCallLeases({ url: redis.url, leaseMs: LEASE_MS, logger, prefix });
  // A long interval: the test's own sweeps are the only ones.
  const rescue = new CallRescue({ leases, api, logger, intervalMs: 60_000, retryDelaysMs: DELAYS });
  rescues.push(rescue);
  const lapsedBy = Date.now() + 10_000;
  while ((await leases.lapsed()).length === 0 && Date.now() < lapsedBy) await new Promise((r) => setTimeout(r, 50));
  await rescue.sweep();
  await rescue.settled();
  return { lines, leases, rescue };
}

describe('call rescue when LiveKit’s API fails after the claim', () => {
  it('tries again with back-off until another agent is dispatched, with what the dead one was answering', async () => {
    const api = new FailingApi();
    api.dispatchFailures = 2;
    const { lines, leases } = await lapseAndSweep(api, call('r1', { earlierJobs: ['job-r0'] }));
    expect(api.attempts).toBe(3);
    expect(api.dispatches).toHaveLength(1);
    expect(rescueOf(api.dispatches[0]!.metadata)).toEqual({
      rescueOf: 'job-r1',
      openTurn: { user: 'Can you hear me?', userAt: 7 },
      earlierJobs: ['job-r0'],
    });
    const retries = lines.filter((l) => l.event === 'call_rescue_retry');
    expect(retries.map((l) => [l.level, l.attempt, l.retryInMs])).toEqual([
      [WARN, 1, 20],
      [WARN, 2, 40],
    ]);
    expect(lines.filter((l) => l.event === 'call_rescued')).toHaveLength(1);
    expect(lines.some((l) => l.level >= ERROR)).toBe(false);
    // Claimed once: no other sweep finds it again.
    expect(await leases.lapsed()).toEqual([]);
  });

  it('a failed look at the room is tried again, not taken for a caller who left', async () => {
    const api = new FailingApi();
    api.listFailures = 1;
    const { lines } = await lapseAndSweep(api, call('r2'));
    expect(api.dispatches).toHaveLength(1);
    expect(lines.filter((l) => l.event === 'call_rescue_not_needed')).toEqual([]);
    expect(lines.filter((l) => l.event === 'call_rescue_retry')).toHaveLength(1);
  });

  it('a dispatch made whose answer was lost is not made twice', async () => {
    const api = new FailingApi();
    api.dispatchFailures = 1;
    api.made = true;
    const { lines } = await lapseAndSweep(api, call('r3'));
    expect(api.attempts).toBe(1);
    expect(api.dispatches).toHaveLength(1);
    expect(lines.filter((l) => l.event === 'call_rescued')).toHaveLength(1);
  });

  it('gives up after a bounded number of tries, with one error line that says the caller has no agent', async () => {
    const api = new FailingApi();
    api.dispatchFailures = 100;
    const { lines } = await lapseAndSweep(api, call('r4'));
    expect(api.attempts).toBe(DELAYS.length + 1);
    expect(api.dispatches).toEqual([]);
    const errors = lines.filter((l) => l.level >= ERROR);
    expect(errors.map((l) => [l.event, l.attempts])).toEqual([['call_rescue_gave_up', DELAYS.length + 1]]);
    expect(errors[0]!.msg).toMatch(/left without an agent/);
  });
});
