/** The room scenario’s table of calls on a bad network (`--loss`, `--blackout`). */
import type { RoomNetworkResult } from '../room-results.ts';
import { type Table, med, num, p95 } from './format.ts';

function afterBlackout(n: RoomNetworkResult): string {
  const a = n.afterBlackout;
  if (n.blackoutMs === 0) return '';
  if (!a) return 'not measured';
  const resumed =
    a.resumedAfterMs === null ? 'nothing more of the reply' : `resumed +${Math.round(a.resumedAfterMs)} ms`;
  return `${Math.round(a.heardBeforeMs)} ms heard before; ${resumed}, ${Math.round(a.heardAfterMs)} ms heard after`;
}

export function networkTable(rows: RoomNetworkResult[]): Table {
  return {
    title: 'Room on a bad network: one call per row, the caller’s UDP dropped at random or blacked out (ms)',
    columns: [
      'network',
      'turns answered',
      'e2e med',
      'e2e p95',
      'caller packets dropped',
      'utterances detected',
      'caller transcripts right',
      'after the blackout',
      'Letta: each turn once',
    ],
    align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'l'],
    rows: rows.map((n) => [
      n.blackoutMs > 0 ? `${n.blackoutMs / 1000} s blackout` : `${n.lossPct} % loss`,
      `${n.answered}/${n.turns}`,
      med(n.e2e),
      p95(n.e2e),
      n.blackoutMs > 0
        ? `${n.faults.blackoutDrops} (blackout)`
        : `${n.faults.lossDrops} of ${n.faults.packets} (${num(n.measuredLossPct, 1)} %)`,
      `${n.detected}/${n.spoken}`,
      `${n.transcribed}/${n.spoken}`,
      afterBlackout(n),
      n.lettaCopies.length === n.turns && n.lettaCopies.every((c) => c === 1)
        ? `yes${n.interruptedInLetta ? `, ${n.interruptedInLetta} marked interrupted` : ''}`
        : `NO: copies ${n.lettaCopies.join(',')}`,
    ]),
    notes: [
      'loss: nftables `numgen random` drops that share of the caller’s UDP packets each way (media to and from the server), for the whole call; blackout: every packet of the caller, UDP and its TCP to the server, dropped for that long, 1.5 s into the first reply',
      'utterances detected = what the Deepgram stand-in’s energy detector found in the audio the worker decoded (after packet-loss concealment), against utterances spoken; caller transcripts right = final transcripts back on lk.transcription that match the words said, in order',
      'after the blackout: sound the caller heard of that reply before it, how soon sound came back after it, and how much of the reply was heard after it; Letta: every spoken turn’s caller line in the caller’s Letta agent exactly once',
      ...rows.filter((n) => n.error).map((n) => `${n.blackoutMs ? 'blackout' : `${n.lossPct} %`}: ${n.error}`),
    ],
  };
}
