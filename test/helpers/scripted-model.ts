/**
 * A scripted model for tests of the memory tools: one OpenAI stand-in answers both the voice agent
 * and Letta's agent (whose steps are told apart by the message Letta is answering), calls a tool
 * when the caller says a trigger, and answers each tool step in words.
 */
import type { ChatRequestBody, Responder } from '../../sim/index.ts';

type Message = ChatRequestBody['messages'][number];

export function messageText(m: Message | undefined): string {
  if (m === undefined || m.content == null) return '';
  if (typeof m.content === 'string') return m.content;
  return m.content.map((p) => (typeof p.text === 'string' ? p.text : '')).join(' ');
}

/** The last message of a chat request body, if it is one. */
export function lastMessage(body: unknown): Message | undefined {
  return (body as ChatRequestBody | undefined)?.messages?.at(-1);
}

export const scriptedAnswers = {
  letta: 'Walk on Monday, swim on Thursday.',
  started: 'On it. I will come back to you with the answer.',
  taskDone: 'Your plan is ready: walk on Monday, swim on Thursday.',
  recalled: 'I looked in my notes and found nothing about that.',
} as const;

export function toolScript(trigger: string, tool: string, args: Record<string, string>): Responder {
  return (req) => {
    const last = req.messages.at(-1);
    const said = messageText(last);
    // Letta's own steps: the task, or a transcript to file (the memory section may quote both).
    if (said.startsWith('[Task from a live voice call')) return { content: scriptedAnswers.letta };
    if (said.startsWith('[Voice call transcript')) return { content: 'Noted.' };
    if (last?.role === 'tool') {
      if (said.includes('Started working on')) return { content: scriptedAnswers.started };
      if (said.includes('task_result')) return { content: scriptedAnswers.taskDone };
      return { content: scriptedAnswers.recalled };
    }
    if (said.includes(trigger)) return { toolCalls: [{ name: tool, arguments: JSON.stringify(args) }] };
    return { content: req.messages.some((m) => m.role === 'user') ? 'Okay.' : 'Hello!' };
  };
}
