/**
 * A call without a room: the session gets a simulated microphone and loudspeaker instead of
 * RoomIO. Used by the pipeline tests and the voice bench, so both drive the real plugins, VAD and
 * llm node exactly as the worker does.
 */
import { voice } from '@livekit/agents';
import { type TurnLatency, observeTurns } from '../../src/telemetry/turn-latency.ts';
import { SimulatedMicrophone } from './microphone.ts';
import { SimulatedSpeaker } from './speaker.ts';

export interface RoomlessCall {
  session: voice.AgentSession;
  mic: SimulatedMicrophone;
  speaker: SimulatedSpeaker;
  /** One entry per assistant message, in order. */
  turns: TurnLatency[];
  /** Resolves with the next assistant turn (or one already recorded past `index`). */
  nextTurn(index: number, timeoutMs?: number): Promise<TurnLatency>;
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
  const turns: TurnLatency[] = [];
  const waiters: (() => void)[] = [];
  const stop = observeTurns(session, (t) => {
    turns.push(t);
    for (const w of waiters.splice(0)) w();
  });
  session.input.audio = mic;
  session.output.audio = speaker;
  await session.start({ agent });
  mic.start();

  const nextTurn = (index: number, timeoutMs = 30_000) =>
    new Promise<TurnLatency>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no assistant turn #${index} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const check = () => {
        const t = turns[index];
        if (t) {
          clearTimeout(timer);
          resolve(t);
        } else waiters.push(check);
      };
      check();
    });

  return {
    session,
    mic,
    speaker,
    turns,
    nextTurn,
    close: async () => {
      stop();
      await session.close();
      await mic.close();
    },
  };
}
