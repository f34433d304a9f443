/**
 * The room scenario's lossy-network part (`--loss`, `--blackout`): one call per loss level, then
 * one call with a blackout in the middle of its first reply, each on the scenario's worker, with
 * the caller's network impaired by nftables (bench/harness/network-faults.ts).
 */
import { NetworkFaults, networkFaultsUnavailable } from '../harness/network-faults.ts';
import type { Stage } from '../harness/room-stage.ts';
import type { SpeechFixture } from '../harness/speech.ts';
import { type NetworkCallResult, runNetworkCall } from '../network-call.ts';
import type { Progress } from '../progress.ts';
import type { RoomNetworkResult } from '../room-results.ts';

export interface RoomFaultOptions {
  /** Random loss levels of the caller's UDP, %; one call each. */
  lossPcts: readonly number[];
  /** A call with a blackout this long mid-reply; null: none. */
  blackoutMs: number | null;
}

/** Spoken turns per call; the blackout falls 1.5 s into the first reply. */
export const networkTurns = 5;
const blackoutAfterReplyStartMs = 1500;

/** Why the part cannot run here, or null. */
export function roomFaultsUnavailable(): string | null {
  return networkFaultsUnavailable();
}

export function plannedNetworkTurns(o: RoomFaultOptions): number {
  return (o.lossPcts.length + (o.blackoutMs === null ? 0 : 1)) * networkTurns;
}

function row(r: NetworkCallResult): RoomNetworkResult {
  const { turnRecords, ...figures } = r;
  return { ...figures, e2eSamplesMs: turnRecords.map((t) => t.e2eMs) };
}

export async function runRoomFaults(
  stage: Stage,
  o: RoomFaultOptions,
  fixtures: readonly SpeechFixture[],
  progress: Progress,
): Promise<RoomNetworkResult[]> {
  const faults = NetworkFaults.open();
  const out: RoomNetworkResult[] = [];
  try {
    const stamp = Date.now();
    for (const loss of o.lossPcts) {
      progress.phase(`room: one call at ${loss} % random loss of the caller's UDP`);
      const r = await runNetworkCall(stage, faults, {
        room: `bench-loss-${loss}`,
        identity: `bench-loss-${loss}-${stamp}`,
        fixtures,
        lossPct: loss,
        onTurn: () => progress.tick(),
      });
      out.push(row(r));
    }
    if (o.blackoutMs !== null) {
      progress.phase(`room: one call with a ${o.blackoutMs / 1000} s blackout in its first reply`);
      const r = await runNetworkCall(stage, faults, {
        room: 'bench-blackout',
        identity: `bench-blackout-${stamp}`,
        fixtures,
        lossPct: 0,
        blackout: { ms: o.blackoutMs, turn: 0, afterReplyStartMs: blackoutAfterReplyStartMs },
        onTurn: () => progress.tick(),
      });
      out.push(row(r));
    }
    return out;
  } finally {
    faults.close();
  }
}
