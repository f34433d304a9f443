/**
 * One spoken call through a real room, timed from the caller's side as the voice scenario times a
 * call without one: a caller on @livekit/rtc-node joins, waits for the agent's greeting, then
 * speaks the committed recordings in real time as its microphone. End to end runs from where the
 * recording says the caller's speech ends to the first audible frame of the reply that reaches
 * the caller through the server, i.e. the transport both ways is inside it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type SpeechFixture, readWav, speechFixtureDir } from './harness/speech.ts';
import type { Caller, Heard, ReceiveStats } from './harness/room-caller.ts';
import type { Stage } from './harness/room-stage.ts';
import { errorText } from './measure.ts';

export interface RoomTurnRecord {
  index: number;
  fixture: string;
  /** Epoch ms the recording's speech end (its manifest's) left the caller's microphone. */
  speechEndAt: number;
  /** speechEndAt → the reply's first audible frame at the caller. */
  e2eMs: number | null;
  /** The worker's own e2e for the turn (end of the caller's speech by VAD → playback start), from `voice-agent.turn`. */
  frameworkE2eMs: number | null;
  /** Epoch ms (the worker's clock, this machine's): its VAD's end of the caller's speech, and its playback start. */
  workerStoppedAt?: number | null;
  workerPlayedAt?: number | null;
  /** Mean time the caller's audio had spent in the worker's jitter buffer by this turn, ms. */
  workerJitterBufferMs?: number | null;
  error?: string;
}

export interface RoomCallResult {
  identity: string;
  /** The agent joined and its greeting was heard: the job started. */
  started: boolean;
  /** Joining the room → the greeting's first audible frame: dispatch, job start, memory read, greeting. */
  greetingMs: number | null;
  turns: RoomTurnRecord[];
  /** How the caller received the agent's audio (jitter buffer, frame size), read before leaving. */
  receive?: ReceiveStats;
  /** Why the call went wrong outside a turn (no agent, a failed join). */
  error?: string;
}

export interface RoomCallOptions {
  room: string;
  identity: string;
  fixtures: readonly SpeechFixture[];
  /** Pause after the greeting before the first utterance. */
  startDelayMs?: number;
  /** How long the agent may take to join and greet before the job counts as never started. */
  joinTimeoutMs?: number;
  turnTimeoutMs?: number;
  onTurn?: (t: RoomTurnRecord) => void;
  /** Called once the caller has joined (before the greeting). */
  onJoined?: (caller: Caller) => void;
  /** Called when turn `index`'s reply is first heard; the call waits for it before waiting for the reply's end. */
  duringReply?: (caller: Caller, reply: Heard, index: number) => Promise<void>;
}

export async function runRoomCall(stage: Stage, o: RoomCallOptions): Promise<RoomCallResult> {
  const turns: RoomTurnRecord[] = [];
  const joinedAt = Date.now();
  const notStarted = (error: string): RoomCallResult => ({
    identity: o.identity,
    started: false,
    greetingMs: null,
    turns,
    error,
  });
  let caller: Caller;
  try {
    caller = await stage.call(o.room, o.identity);
  } catch (err) {
    return notStarted(`join: ${errorText(err)}`);
  }
  o.onJoined?.(caller);
  try {
    let greeting: Heard;
    try {
      greeting = await caller.heardSpeech(0, o.joinTimeoutMs ?? 60_000);
    } catch (err) {
      return notStarted(errorText(err));
    }
    await sleep(o.startDelayMs ?? 500);
    for (const [index, fixture] of o.fixtures.entries()) {
      const { samples } = readWav(`${speechFixtureDir}${fixture.file}`);
      const reportsBefore = caller.turnReports.length;
      const spoken = await caller.say(samples);
      const speechEndAt = spoken.timeAt(fixture.speechEndMs);
      const base = { index, fixture: fixture.file, speechEndAt };
      let rec: RoomTurnRecord;
      try {
        const reply = await caller.speechAfter(speechEndAt, o.turnTimeoutMs ?? 20_000);
        await o.duringReply?.(caller, reply, index);
        // Wait for the reply to play out, as a caller does before speaking again.
        await caller.heardSpeech(caller.heard.indexOf(reply), 60_000);
        const report = await caller
          .until(() => caller.turnReports[reportsBefore], 5000, "the worker's turn figures")
          .catch(() => undefined);
        rec = {
          ...base,
          e2eMs: reply.startedAt - speechEndAt,
          frameworkE2eMs: report?.e2e_ms ?? null,
          workerStoppedAt: report?.user_stopped_at ?? null,
          workerPlayedAt: report?.agent_started_at ?? null,
          workerJitterBufferMs: report?.jitter_buffer_ms ?? null,
        };
      } catch (err) {
        rec = { ...base, e2eMs: null, frameworkE2eMs: null, error: errorText(err) };
      }
      turns.push(rec);
      o.onTurn?.(rec);
      await sleep(400);
    }
    const receive = await caller.receiveStats();
    return { identity: o.identity, started: true, greetingMs: greeting.startedAt - joinedAt, turns, receive };
  } finally {
    await caller.leave().catch(() => undefined);
  }
}
