/**
 * The room's share split into the way in, the worker and the way out, from the caller's and the
 * worker's timestamps; and where a frame's first audible sample lies, which both paths' e2e end at.
 */
import { describe, expect, it } from 'vitest';
import { audibleOffsetMs } from '../../bench/harness/audible.ts';
import type { RoomTurnRecord } from '../../bench/room-call.ts';
import type { RoomPathResult } from '../../bench/room-results.ts';
import { roomShare, roomlessLegs } from '../../bench/room-share.ts';
import type { VoiceTurnRecord } from '../../bench/results.ts';
import { summarize } from '../../bench/stats.ts';

describe('the first audible sample of a frame', () => {
  it('lies after the leading silence, in ms at the frame’s rate; silence has none', () => {
    const frame = new Int16Array(2400); // 100 ms at 24 kHz
    expect(audibleOffsetMs(frame, 24000)).toBeNull();
    frame[960] = 999; // below the threshold: still silence
    expect(audibleOffsetMs(frame, 24000)).toBeNull();
    frame[1032] = -1000;
    expect(audibleOffsetMs(frame, 24000)).toBe(43);
    // Interleaved stereo: sample 2n and 2n+1 are the same instant.
    const stereo = new Int16Array(480);
    stereo[241] = 5000;
    expect(audibleOffsetMs(stereo, 24000, 2)).toBe(5);
  });
});

const path = (p: RoomPathResult['path'], e2e: number[]): RoomPathResult => ({
  path: p,
  how: '',
  turns: e2e.length,
  errors: 0,
  e2e: summarize(e2e),
  frameworkE2e: null,
  e2eSamplesMs: e2e,
});

describe('the room’s share by leg', () => {
  it('splits each room turn at the worker’s VAD end of speech and its playback start', () => {
    const turn = (speechEndAt: number, inMs: number, workerMs: number, outMs: number): RoomTurnRecord => ({
      index: 0,
      fixture: 'x.wav',
      speechEndAt,
      e2eMs: inMs + workerMs + outMs,
      frameworkE2eMs: workerMs,
      workerStoppedAt: speechEndAt + inMs,
      workerPlayedAt: speechEndAt + inMs + workerMs,
    });
    const turns = [turn(1000, 150, 1200, 160), turn(9000, 170, 1100, 140), { ...turn(20_000, 1, 1, 1), error: 'x' }];
    const share = roomShare(
      'default',
      path('room-less', [1250, 1350]),
      summarize([100, 96]),
      path('room', [1510, 1410]),
      turns,
    );
    expect(share.legs.inbound?.median).toBe(160);
    expect(share.legs.worker?.median).toBe(1150);
    expect(share.legs.outbound?.median).toBe(150);
    expect(share.shareMs).toEqual({ median: 160, p95: 160 });
    expect(share.legs.transport?.median).toBe(310);
    expect(share.transportShareMs?.median).toBe(212);
  });

  it('takes the room-less legs from the speaker’s first frame, first audible sample and the framework’s e2e', () => {
    const turn = (firstAudio: number, framework: number, audible: number, frame: number) =>
      ({
        frameworkE2eMs: framework,
        waterfall: { firstAudioMs: firstAudio, firstAudibleMs: audible, firstAudibleFrameMs: frame },
      }) as VoiceTurnRecord;
    const legs = roomlessLegs([turn(1250, 1200, 1293, 1250), turn(1360, 1300, 1404, 1360)]);
    expect(legs.inbound?.median).toBe(55);
    expect(legs.worker?.median).toBe(1250);
    expect(legs.outbound?.median).toBe(43.5);
    expect(legs.audibleInFrame?.median).toBe(43.5);
    expect(legs.transport?.median).toBe(98.5);
  });
});
