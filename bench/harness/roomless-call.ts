/**
 * A call without a room: the session gets a simulated microphone and loudspeaker instead of
 * RoomIO. Used by the pipeline tests and the voice bench, so both drive the real plugins, VAD and
 * llm node exactly as the worker does.
 */
import { voice } from '@livekit/agents';
import { type TurnLatency, observeTurns } from '../../src/telemetry/turn-latency.ts';
import { SimulatedMicrophone } from './microphone.ts';
import { SimulatedSpeaker } from './speaker.ts';

/** An assistant turn and when its message was added (epoch ms): once its reply has played out. */
export type RecordedTurn = TurnLatency & { at: number };

export interface RoomlessCall {
  session: voice.AgentSession;
  mic: SimulatedMicrophone;
  speaker: SimulatedSpeaker;
  /** One entry per assistant message, in order. */
  turns: RecordedTurn[];
  /** Resolves with the next assistant turn (or one already recorded past `index`). */
  nextTurn(index: number, timeoutMs?: number): Promise<RecordedTurn>;
  /** Resolves with the first assistant turn, recorded or still to come, that `accept` takes. */
  turnWhere(accept: (t: RecordedTurn) => boolean, timeoutMs?: number): Promise<RecordedTurn>;
  close(): Promise<void>;
}

export async function startRoomlessCall(opts: {
  session: voice.AgentSession;
  agent: voice.Agent;
  micSampleRate?: number;
}): Promise<RoomlessCall> {
  const { session, agent } = opts;
  const mic = new SimulatedMicrophone(opts.micSampleRate ?? 16000);
  const speaker = new SimulatedSpeaker();
  const turns: RecordedTurn[] = [];
  const waiters: (() => void)[] = [];
  const stop = observeTurns(session, (t) => {
    turns.push({ ...t, at: performance.timeOrigin + performance.now() });
    for (const w of waiters.splice(0)) w();
  });
  session.input.audio = mic;
  session.output.audio = speaker;
  await session.start({ agent });
  mic.start();

  const turnWhere = (accept: (t: RecordedTurn) => boolean, timeoutMs = 30_000, what = 'the awaited assistant turn') =>
    new Promise<RecordedTurn>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
      const check = () => {
        const t = turns.find(accept);
        if (t) {
          clearTimeout(timer);
          resolve(t);
        } else waiters.push(check);
      };
      check();
    });
  const nextTurn = (index: number, timeoutMs = 30_000) =>
    turnWhere((t) => turns.indexOf(t) === index, timeoutMs, `assistant turn #${index}`);

  return {
    session,
    mic,
    speaker,
    turns,
    nextTurn,
    turnWhere: (accept, timeoutMs) => turnWhere(accept, timeoutMs),
    close: async () => {
      stop();
      await session.close();
      await mic.close();
    },
  };
}
