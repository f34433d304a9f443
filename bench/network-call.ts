/**
 * One call on a bad network, for the room tier and the room bench: random loss of the caller's
 * UDP, and optionally a full blackout in the middle of one reply. Besides turns answered and e2e
 * it records whether the caller's words still reached the recogniser (the Deepgram stand-in
 * detects speech by energy in the audio the worker decoded, i.e. after packet-loss concealment),
 * what the caller heard once the blackout ended, and whether every finished turn is in Letta once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { NetworkFaults, FaultCounts } from './harness/network-faults.ts';
import type { Caller, Heard } from './harness/room-caller.ts';
import { type Stage, lettaAgentOf } from './harness/room-stage.ts';
import { type SpeechFixture, scriptOf } from './harness/speech.ts';
import { errorText } from './measure.ts';
import { type RoomTurnRecord, runRoomCall } from './room-call.ts';
import { type Summary, summarize } from './stats.ts';

export interface BlackoutOptions {
  /** How long every packet of the caller is dropped. */
  ms: number;
  /** The turn whose reply it falls in (0 = the first spoken turn's reply). */
  turn: number;
  /** How far into that reply it starts. */
  afterReplyStartMs: number;
}

export interface AfterBlackout {
  /** The caller heard the reply before the blackout. */
  heardBeforeMs: number;
  /** Blackout end → the next audible frame at the caller (null: nothing more was heard of that reply). */
  resumedAfterMs: number | null;
  /** Sound heard from the blackout's end to the end of that reply. */
  heardAfterMs: number;
  /** The reply's full length had it all been heard (the stand-in's speaking rate), if known. */
  replyMs: number | null;
}

export interface NetworkCallResult {
  lossPct: number;
  blackoutMs: number;
  started: boolean;
  turns: number;
  answered: number;
  e2e: Summary | null;
  /** Utterances spoken, and those the recogniser stand-in detected during the call. */
  spoken: number;
  detected: number;
  /** The caller's final transcripts (lk.transcription) that match what was said, in order. */
  transcribed: number;
  faults: FaultCounts;
  /** Of the caller's packets seen, the share random loss dropped (%). */
  measuredLossPct: number | null;
  afterBlackout: AfterBlackout | null;
  /** Per spoken turn, how often `Caller: <transcript>` is in the caller's Letta agent (1 = once). */
  lettaCopies: number[];
  /** Turns Letta has as interrupted (what the caller heard was cut short, as far as the worker knows). */
  interruptedInLetta: number;
  turnRecords: RoomTurnRecord[];
  error?: string;
}

export interface NetworkCallOptions {
  room: string;
  identity: string;
  fixtures: readonly SpeechFixture[];
  lossPct: number;
  blackout?: BlackoutOptions;
  /** The full length of a reply (ms) by the turn it answers, for `replyMs`. */
  replyMsOf?: (turn: number) => number | null;
  /** How long to wait for the turns to reach Letta after the call. */
  lettaTimeoutMs?: number;
  onTurn?: (t: RoomTurnRecord) => void;
}

function userTexts(stage: Stage, agentId: string): string[] {
  return stage.letta.store.messages(agentId).flatMap((m) => {
    if (m.message_type !== 'user_message') return [];
    return [typeof m.content === 'string' ? m.content : m.content.map((p) => ('text' in p ? p.text : '')).join('')];
  });
}

function transcriptOf(f: SpeechFixture): string {
  const s = scriptOf(f);
  return typeof s === 'string' ? s : s.parts.map((p) => p.text).join(' ');
}

/** Copies of each turn's caller line in Letta once all are there or the time is up, and the turns marked interrupted. */
async function inLetta(
  stage: Stage,
  identity: string,
  said: string[],
  timeoutMs: number,
): Promise<{ copies: number[]; interrupted: number }> {
  const deadline = Date.now() + timeoutMs;
  const all = () => {
    const id = lettaAgentOf(stage, identity);
    return id ? userTexts(stage, id).join('\n') : '';
  };
  const count = () => said.map((t) => all().split(`Caller: ${t}`).length - 1);
  while (Date.now() < deadline && count().some((n) => n === 0)) await sleep(250);
  // A late duplicate would come from a retried write: give one more moment for it to show.
  await sleep(500);
  return { copies: count(), interrupted: all().split('(interrupted;').length - 1 };
}

function afterBlackoutOf(caller: Caller, reply: Heard, window: { start: number; end: number }): AfterBlackout {
  const after = caller.heard.filter((h) => h.endedAt > window.end && h.startedAt >= reply.startedAt);
  const next = caller.heard.find((h) => h.startedAt >= window.end);
  return {
    heardBeforeMs: Math.max(0, Math.min(reply.endedAt, window.start) - reply.startedAt),
    resumedAfterMs: next ? next.startedAt - window.end : null,
    heardAfterMs: after.reduce((sum, h) => sum + (h.endedAt - Math.max(h.startedAt, window.end)), 0),
    replyMs: null,
  };
}

/** Waits until the agent has been silent this long since `since` (the reply, resumed or not, is over). */
function untilQuiet(caller: Caller, since: number, quietMs: number, timeoutMs: number): Promise<true> {
  return caller.until(
    () => (Date.now() - Math.max(since, caller.heard.at(-1)?.endedAt ?? 0) >= quietMs ? true : undefined),
    timeoutMs,
    `${quietMs} ms of quiet after the reply`,
  );
}

export async function runNetworkCall(
  stage: Stage,
  faults: NetworkFaults,
  o: NetworkCallOptions,
): Promise<NetworkCallResult> {
  const said = o.fixtures.map(transcriptOf);
  stage.deepgram.setTranscripts(o.fixtures.map(scriptOf));
  const utterancesBefore = stage.deepgram.utterances.length;
  const before = faults.counts();
  let caller: Caller | undefined;
  let afterBlackout: AfterBlackout | null = null;
  let blackoutError: string | undefined;
  faults.target();
  faults.setLoss(o.lossPct);
  const call = await runRoomCall(stage, {
    room: o.room,
    identity: o.identity,
    fixtures: o.fixtures,
    onJoined: (c) => (caller = c),
    ...(o.onTurn ? { onTurn: o.onTurn } : {}),
    duringReply: async (c, reply, index) => {
      const b = o.blackout;
      if (!b || index !== b.turn) return;
      try {
        await sleep(Math.max(0, b.afterReplyStartMs - (Date.now() - reply.startedAt)));
        const start = Date.now();
        await faults.blackout(b.ms);
        const window = { start, end: Date.now() };
        await untilQuiet(c, window.end, 2000, 60_000);
        afterBlackout = { ...afterBlackoutOf(c, reply, window), replyMs: o.replyMsOf?.(index) ?? null };
      } catch (err) {
        blackoutError = `blackout: ${errorText(err)}`;
      }
    },
  });
  faults.setLoss(0);
  const after = faults.counts();
  const counts: FaultCounts = {
    packets: after.packets - before.packets,
    lossDrops: after.lossDrops - before.lossDrops,
    blackoutDrops: after.blackoutDrops - before.blackoutDrops,
  };
  const heardFinals = caller?.finalTranscripts('caller') ?? [];
  const letta = call.started
    ? await inLetta(stage, o.identity, said, o.lettaTimeoutMs ?? 60_000)
    : { copies: [], interrupted: 0 };
  const error = [call.error, blackoutError].filter(Boolean).join('; ');
  return {
    lossPct: o.lossPct,
    blackoutMs: o.blackout?.ms ?? 0,
    started: call.started,
    turns: o.fixtures.length,
    answered: call.turns.filter((t) => t.e2eMs !== null).length,
    e2e: summarize(call.turns.map((t) => t.e2eMs)),
    spoken: o.fixtures.length,
    detected: stage.deepgram.utterances.length - utterancesBefore,
    transcribed: said.filter((t, i) => heardFinals[i]?.trim() === t).length,
    faults: counts,
    measuredLossPct: counts.packets > 0 ? (100 * counts.lossDrops) / counts.packets : null,
    afterBlackout,
    lettaCopies: letta.copies,
    interruptedInLetta: letta.interrupted,
    turnRecords: call.turns,
    ...(error ? { error } : {}),
  };
}
