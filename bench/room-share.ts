/**
 * Where the room's share of the reply delay goes. Both paths are split at the same two instants
 * of the worker's own clock (this machine's, the callers' too): where its VAD put the end of the
 * caller's speech, and when the reply's first frame went to its audio output. So each turn's e2e
 * is the way in (caller's speech end → the worker's VAD end of speech), the worker (its own e2e)
 * and the way out (playback start → the first audible sample at the caller). Without a room the
 * way in is VAD's own estimate error and the way out the TTS audio's leading silence; with one,
 * each also holds the transport: Opus frames, the server, the receiving side's jitter buffer.
 */
import type { ReceiveStats } from './harness/room-caller.ts';
import type { RoomTurnRecord } from './room-call.ts';
import type { RoomPathResult, RoomShareResult, RoomlessLegs, ShareLegs } from './room-results.ts';
import { type Summary, summarize } from './stats.ts';
import type { VoiceTurnRecord } from './results.ts';

const gap = (a: number | null | undefined, b: number | null | undefined) =>
  typeof a === 'number' && typeof b === 'number' ? a - b : null;

const sum = (a: number | null, b: number | null) => (a === null || b === null ? null : a + b);

export function roomlessLegs(turns: readonly VoiceTurnRecord[]): RoomlessLegs {
  const ok = turns.filter((t) => !t.error);
  // The speaker reports playback start to the framework, so VAD's end = first audio − framework e2e.
  const inbound = ok.map((t) => gap(t.waterfall.firstAudioMs, t.frameworkE2eMs));
  const outbound = ok.map((t) => gap(t.waterfall.firstAudibleMs, t.waterfall.firstAudioMs));
  return {
    inbound: summarize(inbound),
    worker: summarize(ok.map((t) => t.frameworkE2eMs)),
    outbound: summarize(outbound),
    transport: summarize(inbound.map((v, i) => sum(v, outbound[i] ?? null))),
    audibleInFrame: summarize(ok.map((t) => gap(t.waterfall.firstAudibleMs, t.waterfall.firstAudibleFrameMs))),
  };
}

export function roomLegs(turns: readonly RoomTurnRecord[]): ShareLegs {
  const ok = turns.filter((t) => !t.error);
  const inbound = ok.map((t) => gap(t.workerStoppedAt, t.speechEndAt));
  const outbound = ok.map((t) => gap(t.e2eMs === null ? null : t.speechEndAt + t.e2eMs, t.workerPlayedAt));
  return {
    inbound: summarize(inbound),
    worker: summarize(ok.map((t) => gap(t.workerPlayedAt, t.workerStoppedAt))),
    outbound: summarize(outbound),
    transport: summarize(inbound.map((v, i) => sum(v, outbound[i] ?? null))),
  };
}

export function roomShare(
  variant: string,
  roomless: RoomPathResult,
  roomlessTransport: Summary | null | undefined,
  room: RoomPathResult,
  turns: readonly RoomTurnRecord[],
  receive?: ReceiveStats,
): RoomShareResult {
  const legs = roomLegs(turns);
  return {
    variant,
    room,
    shareMs: { median: gap(room.e2e?.median, roomless.e2e?.median), p95: gap(room.e2e?.p95, roomless.e2e?.p95) },
    legs,
    transportShareMs: {
      median: gap(legs.transport?.median, roomlessTransport?.median),
      p95: gap(legs.transport?.p95, roomlessTransport?.p95),
    },
    ...(receive ? { receive } : {}),
    workerJitterBufferMs: turns.map((t) => t.workerJitterBufferMs).findLast((v) => typeof v === 'number') ?? null,
  };
}
