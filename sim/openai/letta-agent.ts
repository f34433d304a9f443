/**
 * What a model does inside one step of a Letta agent, enough for Letta's own server to run its
 * agent loop against the stand-in: a step whose newest user message states facts about the caller
 * ("my name is Alice", "I keep bees") calls Letta's memory tool to write them into the `human`
 * block, unless the block (rendered in the system prompt) already holds them; the step after the
 * tool's result answers in plain text, which ends Letta's loop. Deterministic: the same request
 * always gets the same reply.
 */

interface Message {
  role: string;
  content?: string | { type: string; text?: string }[] | null;
}

interface StepRequest {
  messages: Message[];
  tools?: unknown;
}

export interface StepReply {
  content?: string;
  toolCalls?: { name: string; arguments: string }[];
}

/** Letta's memory-editing tools, newest first: v1 agents get `memory_insert`, older ones `core_memory_append`. */
const MEMORY_TOOLS = ['memory_insert', 'core_memory_append'] as const;

/** A fact pattern and how the memory states it, in the third person. */
const FACTS: readonly [RegExp, (m: string) => string][] = [
  [/\bmy name is ([\p{Lu}][\p{L}'-]*)/u, (m) => `The caller's name is ${m}.`],
  [/\bcall me ([\p{Lu}][\p{L}'-]*)/u, (m) => `The caller's name is ${m}.`],
  [/\bI keep ([\p{L} -]+?)(?=[.,;!?]|$)/u, (m) => `The caller keeps ${m}.`],
  [/\bI live in ([\p{L} -]+?)(?=[.,;!?]|$)/u, (m) => `The caller lives in ${m}.`],
  [/\bI work as (?:an? )?([\p{L} -]+?)(?=[.,;!?]|$)/u, (m) => `The caller works as ${m}.`],
  [/\bI(?:'m| am) allergic to ([\p{L} -]+?)(?=[.,;!?]|$)/u, (m) => `The caller is allergic to ${m}.`],
  [/\bI (?:love|like|enjoy) ([\p{L} -]+?)(?=[.,;!?]|$)/u, (m) => `The caller likes ${m}.`],
];

function text(m: Message | undefined): string {
  if (!m || m.content == null) return '';
  if (typeof m.content === 'string') return m.content;
  return m.content.map((p) => (p.type === 'text' && typeof p.text === 'string' ? p.text : '')).join(' ');
}

function toolNames(tools: unknown): Set<string> {
  if (!Array.isArray(tools)) return new Set();
  return new Set(
    tools.flatMap((t: { function?: { name?: unknown } }) =>
      typeof t?.function?.name === 'string' ? [t.function.name] : [],
    ),
  );
}

/** What the caller says in a message: the `Caller:` lines of a transcript, or the whole text. */
function callerWords(message: string): string {
  const lines = [...message.matchAll(/^\[[^\]]*\] Caller: (.*)$/gm)].map((m) => m[1]!);
  return lines.length > 0 ? lines.join('\n') : message;
}

/** The facts a message states about the caller, in order, each once. */
export function callerFacts(message: string): string[] {
  const words = callerWords(message);
  const out: string[] = [];
  for (const [pattern, state] of FACTS) {
    const m = pattern.exec(words);
    const fact = m?.[1] ? state(m[1].trim()) : null;
    if (fact && !out.includes(fact)) out.push(fact);
  }
  return out;
}

/**
 * The reply to one step of a Letta agent, or null when the request is not one (no memory tool
 * offered). `answer` gives the plain-text reply that ends the step.
 */
export function lettaStepReply(req: StepRequest, answer: () => string): StepReply | null {
  const offered = toolNames(req.tools);
  const tool = MEMORY_TOOLS.find((name) => offered.has(name));
  if (!tool) return null;
  const last = req.messages.at(-1);
  if (last?.role !== 'user') return { content: answer() };
  const system = req.messages
    .filter((m) => m.role === 'system')
    .map(text)
    .join('\n');
  const fresh = callerFacts(text(last)).filter((fact) => !system.includes(fact));
  if (fresh.length === 0) return { content: answer() };
  const args =
    tool === 'memory_insert'
      ? { label: 'human', new_string: fresh.join('\n'), insert_line: -1 }
      : { label: 'human', content: fresh.join('\n') };
  return { toolCalls: [{ name: tool, arguments: JSON.stringify(args) }] };
}
