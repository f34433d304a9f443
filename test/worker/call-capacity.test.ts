/**
 * The worker's own load: calls against WORKER_MAX_CALLS, reported to LiveKit and enforced on each
 * request, with one log line on reaching the limit and one on leaving it.
 */
import type { AgentServer, JobRequest } from '@livekit/agents';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { callCapacity } from '../../src/worker/call-capacity.ts';

function logged() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l) as never) });
  return { logger, lines };
}

function request(id: string) {
  const seen: string[] = [];
  const req = {
    id,
    room: { name: `room-${id}` },
    accept: () => {
      seen.push('accept');
      return Promise.resolve();
    },
    reject: () => {
      seen.push('reject');
      return Promise.resolve();
    },
  } as unknown as JobRequest;
  return { req, seen };
}

function workerRunning(ids: string[]): AgentServer {
  return { activeJobs: ids.map((id) => ({ job: { id } })) } as unknown as AgentServer;
}

describe('callCapacity', () => {
  it('accepts up to the limit, turns the next call away, and logs that once', async () => {
    const { logger, lines } = logged();
    const cap = callCapacity(2, logger);
    const a = request('a');
    const b = request('b');
    const c = request('c');
    const d = request('d');
    await cap.requestFunc(a.req);
    await cap.requestFunc(b.req);
    await cap.requestFunc(c.req);
    await cap.requestFunc(d.req);
    expect([a.seen, b.seen, c.seen, d.seen]).toEqual([['accept'], ['accept'], ['reject'], ['reject']]);
    const away = lines.filter((l) => l.msg.startsWith('turning calls away'));
    expect(away).toHaveLength(1);
    expect(away[0]?.msg).toContain('WORKER_MAX_CALLS=2');
    expect(away[0]?.level).toBe(40);
  });

  it('reports calls ÷ limit as the load, whatever the machine does, and follows calls that end', async () => {
    const { logger, lines } = logged();
    const cap = callCapacity(4, logger);
    expect(await cap.loadFunc(workerRunning([]))).toBe(0);
    await cap.requestFunc(request('a').req);
    await cap.requestFunc(request('b').req);
    expect(await cap.loadFunc(workerRunning(['a', 'b']))).toBe(0.5);
    // A job the worker started that this handler did not see (a retry) counts too; the load is capped at 1.
    expect(await cap.loadFunc(workerRunning(['a', 'b', 'x', 'y', 'z']))).toBe(1);
    expect(lines.filter((l) => l.msg.startsWith('turning calls away'))).toHaveLength(1);
    // Calls ended: the load falls, the worker says it takes calls again, and does.
    expect(await cap.loadFunc(workerRunning(['a']))).toBe(0.25);
    expect(lines.filter((l) => l.msg === 'taking calls again')).toHaveLength(1);
    const e = request('e');
    await cap.requestFunc(e.req);
    expect(e.seen).toEqual(['accept']);
  });

  it('counts a call while its accept is under way, so a burst cannot overshoot the limit', async () => {
    const { logger } = logged();
    const cap = callCapacity(1, logger);
    // The worker is known and has no running job yet: the first call is still being launched.
    await cap.loadFunc(workerRunning([]));
    let launched!: () => void;
    const slow = request('slow');
    (slow.req as unknown as { accept: () => Promise<void> }).accept = () => new Promise<void>((r) => (launched = r));
    const first = cap.requestFunc(slow.req);
    const second = request('second');
    await cap.requestFunc(second.req);
    expect(second.seen).toEqual(['reject']);
    launched();
    await first;
  });
});
