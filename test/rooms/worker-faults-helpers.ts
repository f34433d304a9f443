/** Steps shared by the room tests where a worker or its job dies mid-call. */
import type { Responder } from '../../sim/index.ts';
import type { Caller } from '../../bench/harness/room-caller.ts';
import type { Stage } from '../../bench/harness/room-stage.ts';
import { defaultInstructions } from '../../src/voice/prompt.ts';
import { rescueGreeting } from '../../src/voice/voice-agent.ts';

type Recording = { samples: Int16Array; transcript: string };

const longReply = 'This answer goes on for a long while, sentence after sentence, so it can be cut. '.repeat(4);

/**
 * A long reply to a caller message containing `word` (one to cut), short replies otherwise; the
 * rescue greeting, which answers that message again, is short, so the next question is not said
 * over it (the first seconds of the agent's speech do not take interruptions).
 */
export function longReplyTo(word: string): Responder {
  return (req) => {
    const last = req.messages.filter((m) => m.role === 'user').at(-1);
    const text = typeof last?.content === 'string' ? last.content : '';
    const first = req.messages[0]?.content;
    const rescue = typeof first === 'string' && first.includes(rescueGreeting);
    return { content: text.includes(word) && !rescue ? longReply : 'Nice to hear from you.' };
  };
}

/** Says a recording and waits until the agent's answer to it has been heard to its end. */
export async function askAndHear(s: Stage, caller: Caller, r: Recording): Promise<void> {
  s.deepgram.setTranscripts([r.transcript]);
  const asked = await caller.say(r.samples);
  await caller.speechAfter(asked.endedAt, 60_000);
  const n = caller.heard.length - 1;
  await caller.heardSpeech(n, 60_000);
}

/** Says a recording, and once the agent has spoken 1.5 s of its reply runs `kill`; returns when. */
export async function cutMidReply(s: Stage, caller: Caller, r: Recording, kill: () => void): Promise<number> {
  s.deepgram.setTranscripts([r.transcript]);
  const asked = await caller.say(r.samples);
  const reply = await caller.speechAfter(asked.endedAt, 60_000);
  await new Promise((res) => setTimeout(res, Math.max(0, 1500 - (Date.now() - reply.startedAt))));
  const at = Date.now();
  kill();
  return at;
}

interface Prompt {
  at: number;
  /** The system messages after the instructions that carry the caller's memory. */
  memory: string;
  /** Every system message's text. */
  instructions: string;
  /** The caller's messages in it. */
  users: string[];
}

/** The voice agent's requests to the OpenAI stand-in made after `since` (epoch ms). */
export function promptsAfter(s: Stage, since: number): Prompt[] {
  return (
    s.openai.requests
      .filter((r) => r.path === '/v1/chat/completions' && r.at >= since)
      .map((r) => ({ at: r.at, ms: (r.body as { messages?: { role: string; content: string }[] }).messages ?? [] }))
      // A greeting's instructions are appended to the first system message.
      .filter(({ ms }) => ms[0]?.content.startsWith(defaultInstructions))
      .map(({ at, ms }) => {
        const system = ms.filter((m) => m.role === 'system').map((m) => m.content);
        return {
          at,
          memory: system.filter((t) => t.includes('<caller_memory>')).join('\n'),
          instructions: system.join('\n'),
          users: ms.filter((m) => m.role === 'user').map((m) => m.content),
        };
      })
  );
}

/** The workers whose log mentions the room (their job's lines carry its name). */
export function workersServing(s: Stage, room: string): number[] {
  return s.workers.flatMap((w, i) => (w.log.some((l) => l.includes(room)) ? [i] : []));
}
