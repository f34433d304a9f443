/** The room's share of the reply delay by worker setting, split into the way in, the worker and the way out. */
import type { RoomScenarioResult } from '../room-results.ts';
import { type Table, med, ms, num, p95 } from './format.ts';

export function roomShareTable(r: RoomScenarioResult): Table | null {
  const share = r.share;
  const roomless = r.sideBySide.find((p) => p.path === 'room-less');
  if (!share?.byVariant.length || !roomless) return null;
  const rows = [
    [
      'room-less',
      String(roomless.turns - roomless.errors),
      med(roomless.e2e),
      p95(roomless.e2e),
      '',
      '',
      med(share.roomless.transport ?? null),
      '',
      med(share.roomless.inbound),
      med(share.roomless.worker),
      med(share.roomless.outbound),
      '',
      '',
    ],
    ...share.byVariant.map((v) => [
      `room · ${v.variant}`,
      String(v.room.turns - v.room.errors) + (v.room.errors ? `/${v.room.turns}` : ''),
      med(v.room.e2e),
      p95(v.room.e2e),
      ms(v.shareMs.median, true),
      ms(v.shareMs.p95, true),
      med(v.legs.transport ?? null),
      ms(v.transportShareMs?.median, true),
      med(v.legs.inbound),
      med(v.legs.worker),
      med(v.legs.outbound),
      num(v.workerJitterBufferMs, 0),
      num(v.receive?.jitterBufferMs, 0),
    ]),
  ];
  const frames = share.byVariant.map((v) => v.receive?.frameMs).find((f) => typeof f === 'number');
  return {
    title: "Room's share of the reply delay, by worker setting (ms)",
    columns: [
      'path · setting',
      'turns',
      'e2e med',
      'e2e p95',
      'share med',
      'share p95',
      'in + out med',
      'transport share',
      'way in med',
      'worker med',
      'way out med',
      'worker jitter buffer',
      'caller jitter buffer',
    ],
    align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows,
    notes: [
      "share = the room's e2e − the room-less e2e (of the medians, of the p95s); each setting's room call has its own worker and stand-ins with the same seed, so its turns meet the same draws",
      "in + out = per turn, the way in plus the way out: e2e without the worker's own time, which depends on the stand-ins' draws (a room call's greeting takes the first ones, so its turn i meets draw i+1); transport share = its median with the room − without",
      "way in = the caller's speech end (the recording's) → the worker's VAD end of speech; worker = that → the reply's first frame handed to the audio output (the framework's e2e); way out = that → the first audible sample at the caller. Both ends are the worker's own timestamps (voice-agent.turn), on the same clock as the caller's",
      `room-less: the way in is VAD's estimate error, the way out the TTS audio's leading silence; the first audible sample lies ${med(share.roomless.audibleInFrame)} ms (median) into its 100 ms frame, which the room-less e2e left out before 2026-12-03 (it ended at that frame's start), adding as much to the room's share`,
      `jitter buffer = mean time a received sample spent in WebRTC's jitter buffer (NetEq) over the call (jitterBufferDelay ÷ jitterBufferEmittedCount): the worker's for the caller's audio (in the way in), the caller's for the agent's (in the way out); the caller's AudioStream delivers ${ms(frames)} ms frames`,
    ],
  };
}
