/** The room bench's job start breakdown, read from the worker's log, and its --room-variants. */
import { describe, expect, it } from 'vitest';
import { jobStartIn } from '../../bench/room-startup.ts';
import { parseRoomVariants } from '../../bench/room-variants.ts';

const line = (o: object) => JSON.stringify({ level: 30, ...o });

describe('jobStartIn', () => {
  it('takes medians of each step over the job processes and the calls, and ignores other lines', () => {
    const lines = [
      line({
        msg: 'job process ready',
        moduleLoadedMs: 1000,
        modulesEvaluatedMs: 1500,
        prewarmMs: { vadMs: 100 },
        readyMs: 1700,
        rssMb: 150,
      }),
      line({
        msg: 'job process ready',
        moduleLoadedMs: 3000,
        modulesEvaluatedMs: 3500,
        prewarmMs: { vadMs: 300 },
        readyMs: 3900,
        rssMb: 170,
      }),
      line({ msg: 'call started', startMs: { connectMs: 50, greetingMs: 900 } }),
      line({ msg: 'received job request' }),
      'not json: job process ready',
    ];
    const j = jobStartIn(lines);
    expect(j.processes).toBe(2);
    expect(j.moduleLoadedMs?.median).toBe(2000);
    expect(j.modulesEvaluatedMs?.median).toBe(2500);
    expect(j.prewarmMs.vadMs?.median).toBe(200);
    expect(j.readyMs?.median).toBe(2800);
    expect(j.readyRssMb?.median).toBe(160);
    expect(j.calls).toBe(1);
    expect(Object.keys(j.callMs)).toEqual(['connectMs', 'greetingMs']);
  });
});

describe('parseRoomVariants', () => {
  it('reads default and SETTING=VALUE joined by +, and refuses what is not a setting', () => {
    expect(parseRoomVariants('default,WORKER_BUNDLE=off+NODE_DISABLE_COMPILE_CACHE=1')).toEqual([
      { name: 'default', env: {} },
      {
        name: 'WORKER_BUNDLE=off+NODE_DISABLE_COMPILE_CACHE=1',
        env: { WORKER_BUNDLE: 'off', NODE_DISABLE_COMPILE_CACHE: '1' },
      },
    ]);
    expect(() => parseRoomVariants('PATH=/tmp')).toThrow(/not SETTING=VALUE/);
    expect(() => parseRoomVariants('WORKER_BUNDLE')).toThrow(/not SETTING=VALUE/);
  });
});
